"""Staff command menus go through the outbox: set per chat, removed, and a « chat not found » is a failed row, not a crash."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import DeleteMyCommands, SetMyCommands, TelegramMethod
from sqlalchemy import select

from bot.i18n import build_i18n
from bot.sender import OutboxSender
from notices.menus import queue_staff_menu
from participation.audit import Source
from participation.outbox import Status
from participation.residents import get_or_create_resident
from participation.roles import Role, grant_role, revoke_role
from storage.db import SessionMaker
from storage.models import OutboxMessage
from tests.bot.test_sender import TOKEN, run_until_settled


class MenuSession(BaseSession):
    """Records menu calls like Telegram would answer them; chat 404 was never opened."""

    def __init__(self) -> None:
        super().__init__()
        self.menus: dict[int, list[str]] = {}
        self.params: list[dict[str, Any]] = []

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        assert isinstance(method, SetMyCommands | DeleteMyCommands)
        self.params.append(method.model_dump(exclude_none=True))
        chat_id = int(method.scope.chat_id)  # type: ignore[union-attr]  # every staff menu has a chat scope
        if chat_id == 404:
            raise TelegramBadRequest(method=method, message="Bad Request: chat not found")
        if isinstance(method, SetMyCommands):
            self.menus[chat_id] = [command.command for command in method.commands]
        else:
            self.menus.pop(chat_id, None)
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError("menus need no file downloads: a BaseSession must define it")
        yield b""  # pragma: no cover


async def test_menus_are_set_removed_and_a_missing_chat_is_only_a_failed_row(sessionmaker: SessionMaker) -> None:
    i18n = build_i18n("fr")
    async with sessionmaker.begin() as session:
        for telegram_id in (301, 302, 404):
            await get_or_create_resident(session, telegram_id)
            await grant_role(session, telegram_id, Role.OFFICIAL, granted_by=None, source=Source.CLI)
        await revoke_role(session, 302, Role.OFFICIAL, revoked_by=None, source=Source.CLI)
        with i18n.context():
            for telegram_id in (301, 302, 404):
                assert await queue_staff_menu(session, telegram_id, [1], i18n)
            assert not await queue_staff_menu(session, 999, [1], i18n)  # never wrote to the bot: nothing queued
    telegram = MenuSession()
    telegram.menus[302] = ["results"]  # what 302 had as an official
    await run_until_settled(OutboxSender(Bot(TOKEN, session=telegram), sessionmaker, rate=30), sessionmaker)

    assert "results" in telegram.menus[301] and "signaler" in telegram.menus[301]
    assert 302 not in telegram.menus  # their role was taken back: the menu is removed
    assert all("chat_id" not in params for params in telegram.params)  # the scope names the chat, nothing else
    async with sessionmaker() as session:
        rows = {row.chat_id: (row.method, row.status, row.last_error) for row in await session.scalars(select(OutboxMessage))}
    assert rows[301][:2] == ("setMyCommands", Status.SENT) and rows[302][:2] == ("deleteMyCommands", Status.SENT)
    assert rows[404][1] == Status.FAILED and "chat not found" in (rows[404][2] or "")
