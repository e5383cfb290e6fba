"""The sender against a scripted Bot API: 429, 403, errors, pacing, and nothing left claimed."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sender import OutboxSender
from participation import outbox
from participation.outbox import Status
from participation.residents import get_or_create_resident
from storage.db import SessionMaker
from storage.models import OutboxMessage, Resident

TOKEN = "123456:TEST-token"


class ScriptedSession(BaseSession):
    """Answers like Telegram; `script(chat_id, n)` may raise for the n-th request to a chat."""

    def __init__(self, script: Callable[[int, int, TelegramMethod[Any]], None] | None = None) -> None:
        super().__init__()
        self.script = script or (lambda chat, n, method: None)
        self.calls: list[tuple[int, float, str]] = []  # chat, time, text
        self.delivered: list[tuple[int, str]] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        chat_id = int(method.chat_id)  # type: ignore[attr-defined]
        text = getattr(method, "text", None) or getattr(method, "caption", None) or ""
        n = sum(1 for chat, _, _ in self.calls if chat == chat_id)
        self.calls.append((chat_id, time.monotonic(), text))
        self.script(chat_id, n, method)
        self.delivered.append((chat_id, text))
        return Message(message_id=len(self.calls), date=datetime.now(UTC), chat=Chat(id=chat_id, type="private"), text=text)

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError("the sender sends no file downloads: a BaseSession must define it")
        yield b""  # pragma: no cover


async def enqueue(sessionmaker: SessionMaker, chat_id: int, text: str, **kwargs: Any) -> None:
    async with sessionmaker.begin() as session:
        await outbox.enqueue(session, chat_id=chat_id, method="sendMessage", payload={"text": text}, **kwargs)


async def run_until_settled(sender: OutboxSender, sessionmaker: SessionMaker, timeout: float = 20) -> None:
    """Run the sender until nothing is pending or sending any more."""
    task = asyncio.create_task(sender.run())
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            async with sessionmaker() as session:
                figures = await outbox.delivery_figures(session)
            if figures.pending == 0:
                return
        raise AssertionError(f"outbox not settled: {figures}")
    finally:
        await sender.stop()
        await task


async def statuses(sessionmaker: SessionMaker) -> dict[str, tuple[str, str | None]]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage))
        return {row.payload["text"]: (row.status, row.last_error) for row in rows}


async def test_retry_after_is_obeyed_and_the_message_still_arrives(sessionmaker: SessionMaker) -> None:
    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if chat == 2 and n == 0:
            raise TelegramRetryAfter(method=method, message="Too Many Requests: retry after 1", retry_after=1)

    session = ScriptedSession(script)
    for chat in (1, 2, 3):
        await enqueue(sessionmaker, chat, f"hello {chat}")
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30), sessionmaker)
    assert sorted(session.delivered) == [(1, "hello 1"), (2, "hello 2"), (3, "hello 3")]
    first_429 = next(t for chat, t, _ in session.calls if chat == 2)
    retried = [t for chat, t, _ in session.calls if chat == 2][1]
    assert retried - first_429 >= 0.95  # not before Telegram's retry_after
    assert {status for status, _ in (await statuses(sessionmaker)).values()} == {Status.SENT}


async def test_blocked_resident_is_marked_unreachable_and_not_retried(sessionmaker: SessionMaker) -> None:
    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if chat == 66:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")

    async with sessionmaker.begin() as db:
        await get_or_create_resident(db, 66)
    session = ScriptedSession(script)
    await enqueue(sessionmaker, 66, "first", broadcast_id=1)
    await enqueue(sessionmaker, 66, "second", broadcast_id=1)
    await enqueue(sessionmaker, 67, "other", broadcast_id=1)
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30), sessionmaker)
    assert [chat for chat, _, _ in session.calls].count(66) == 1  # the second is never tried
    assert session.delivered == [(67, "other")]
    async with sessionmaker() as db:
        figures = await outbox.delivery_figures(db, broadcast_id=1)
        blocked = await db.scalar(select(Resident).where(Resident.telegram_id == 66))
    assert (figures.sent, figures.unreachable) == (1, 2)
    assert blocked is not None and blocked.unreachable_at is not None


async def test_refused_message_fails_with_its_reason_and_network_error_is_retried(sessionmaker: SessionMaker) -> None:
    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if chat == 5:
            raise TelegramBadRequest(method=method, message="Bad Request: chat not found")
        if chat == 6 and n == 0:
            raise TelegramNetworkError(method=method, message="connection reset")
        if chat == 7 and n == 0:
            raise RuntimeError("something nobody foresaw")

    session = ScriptedSession(script)
    for chat in (5, 6, 7):
        await enqueue(sessionmaker, chat, f"m{chat}")
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30), sessionmaker)
    result = await statuses(sessionmaker)
    assert result["m5"][0] == Status.FAILED and "chat not found" in (result["m5"][1] or "")
    assert result["m6"][0] == Status.SENT and result["m7"][0] == Status.SENT
    assert sorted(session.delivered) == [(6, "m6"), (7, "m7")]


async def test_an_edit_telegram_finds_unchanged_is_a_success_and_refusals_reach_their_kinds_hook(
    sessionmaker: SessionMaker,
) -> None:
    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if chat == 8:
            raise TelegramBadRequest(
                method=method,
                message="Bad Request: message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message",
            )
        if chat == 9:
            raise TelegramBadRequest(method=method, message="Bad Request: message to edit not found")

    refused: list[tuple[str, str]] = []

    async def on_refused(db: AsyncSession, message: OutboxMessage, reason: str) -> None:
        refused.append((message.payload["text"], reason))
        assert message.id is not None
        await outbox.fail(db, message.id, reason)

    async with sessionmaker.begin() as db:
        for chat in (8, 9):
            payload = {"text": f"e{chat}", "message_id": 3}
            await outbox.enqueue(db, chat_id=chat, method="editMessageText", payload=payload, kind="card")
    sender = OutboxSender(Bot(TOKEN, session=ScriptedSession(script)), sessionmaker, rate=30, refused_hooks={"card": on_refused})
    await run_until_settled(sender, sessionmaker)
    result = await statuses(sessionmaker)
    assert result["e8"] == (Status.SENT, None)
    assert result["e9"][0] == Status.FAILED
    assert refused == [("e9", "TelegramBadRequest: Bad Request: message to edit not found")]


async def test_one_chat_gets_at_most_one_message_per_second(sessionmaker: SessionMaker) -> None:
    session = ScriptedSession()
    for n in range(3):
        await enqueue(sessionmaker, 9, f"part {n}")
    await enqueue(sessionmaker, 10, "elsewhere")
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30), sessionmaker)
    times = [t for chat, t, _ in session.calls if chat == 9]
    assert [text for chat, _, text in session.calls if chat == 9] == ["part 0", "part 1", "part 2"]
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))


async def test_overall_rate_is_respected(sessionmaker: SessionMaker) -> None:
    session = ScriptedSession()
    async with sessionmaker.begin() as db:
        await outbox.enqueue_many(
            db, [{"chat_id": 1000 + n, "method": "sendMessage", "payload": {"text": f"n{n}"}} for n in range(60)]
        )
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=20), sessionmaker)
    times = sorted(t for _, t, _ in session.calls)
    assert len(times) == 60
    # In any one-second window, no more than the rate plus its small burst allowance.
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 20 + 2


async def test_claims_overlapping_sends_still_deliver_each_message_once_within_the_rate(sessionmaker: SessionMaker) -> None:
    """The next messages are claimed while the previous ones are sent: none is lost, none is sent twice."""
    session = ScriptedSession()
    async with sessionmaker.begin() as db:
        await outbox.enqueue_many(
            db, [{"chat_id": 2000 + n, "method": "sendMessage", "payload": {"text": f"n{n}"}} for n in range(250)]
        )
    sender = OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=100)
    await run_until_settled(sender, sessionmaker)
    assert sorted(session.delivered) == sorted((2000 + n, f"n{n}") for n in range(250))  # each exactly once
    times = sorted(t for _, t, _ in session.calls)
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 100
    assert {status for status, _ in (await statuses(sessionmaker)).values()} == {Status.SENT}


async def test_a_stopped_sender_records_what_it_sent_and_hands_back_the_rest(sessionmaker: SessionMaker) -> None:
    stopped = asyncio.Event()

    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if len(session.calls) == 10:
            stopped.set()

    session = ScriptedSession(script)
    async with sessionmaker.begin() as db:
        await outbox.enqueue_many(
            db, [{"chat_id": 3000 + n, "method": "sendMessage", "payload": {"text": f"n{n}"}} for n in range(60)]
        )
    sender = OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=20)
    task = asyncio.create_task(sender.run())
    await asyncio.wait_for(stopped.wait(), 10)
    await sender.stop()
    await task
    async with sessionmaker() as db:
        rows = list(await db.scalars(select(OutboxMessage)))
    sent = {row.payload["text"] for row in rows if row.status == Status.SENT}
    assert sent == {text for _, text in session.delivered}  # every delivery is recorded
    assert all(row.status == Status.PENDING and row.attempts == 0 for row in rows if row.status != Status.SENT)

    # The next start sends the rest, and only the rest.
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=100), sessionmaker)
    assert sorted(text for _, text in session.delivered) == sorted(f"n{n}" for n in range(60))


class SlowAnswerSession(ScriptedSession):
    """Telegram's answer to `slow_chat` takes a while to come back."""

    slow_chat = 0

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if int(method.chat_id) == self.slow_chat:  # type: ignore[attr-defined]
            await asyncio.sleep(0.7)
        return await super().make_request(bot, method, timeout)


async def test_a_resident_who_blocked_the_bot_is_tried_once_even_with_messages_claimed_meanwhile(
    sessionmaker: SessionMaker,
) -> None:
    """The 403 comes back after the next claim took another message to them: that one is not sent."""

    def script(chat: int, n: int, method: TelegramMethod[Any]) -> None:
        if chat == 66:
            raise TelegramForbiddenError(method=method, message="Forbidden: bot was blocked by the user")

    session = SlowAnswerSession(script)
    session.slow_chat = 66
    async with sessionmaker.begin() as db:
        await get_or_create_resident(db, 66)
    rows = [{"chat_id": 66, "method": "sendMessage", "payload": {"text": "first"}, "broadcast_id": 1}]
    rows += [{"chat_id": 4000 + n, "method": "sendMessage", "payload": {"text": f"n{n}"}, "broadcast_id": 1} for n in range(40)]
    rows += [{"chat_id": 66, "method": "sendMessage", "payload": {"text": "second"}, "broadcast_id": 1}]
    async with sessionmaker.begin() as db:
        await outbox.enqueue_many(db, rows)
    await run_until_settled(OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30), sessionmaker)
    assert [chat for chat, _, _ in session.calls].count(66) == 1
    result = await statuses(sessionmaker)
    assert (result["first"][0], result["second"][0]) == (Status.UNREACHABLE, Status.UNREACHABLE)
    async with sessionmaker() as db:
        figures = await outbox.delivery_figures(db, broadcast_id=1)
    assert (figures.sent, figures.unreachable) == (40, 2)
