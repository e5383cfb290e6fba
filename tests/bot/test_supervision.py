"""Supervision: a crashed sender is logged with its cause (not its message) and restarted; one that
keeps crashing is given up on, so that the leader hands its lease over."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.sender import OutboxSender
from bot.supervision import Supervisor, TaskState
from participation import outbox
from storage.db import SessionMaker
from tests.bot.test_sender import TOKEN, ScriptedSession, enqueue


class FlakyDatabase:
    """A sessionmaker whose first `failures` write transactions fail, as when the database restarts."""

    def __init__(self, real: SessionMaker, failures: int) -> None:
        self._real = real
        self.failures = failures

    def begin(self) -> AbstractAsyncContextManager[AsyncSession]:
        if self.failures > 0:
            self.failures -= 1
            # Database errors repeat the statement's parameters: they must not reach the logs.
            raise OperationalError("UPDATE resident SET name=?", {"name": "Camille Dupont"}, ConnectionResetError())
        return self._real.begin()

    def __call__(self) -> AsyncSession:
        return self._real()


async def wait_for(condition: Any, timeout: float = 20) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def test_a_crashed_sender_is_logged_restarted_and_delivers(
    sessionmaker: SessionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(3):
        await enqueue(sessionmaker, 700 + n, f"message {n}")
    telegram = ScriptedSession()
    bot = Bot(TOKEN, session=telegram)
    flaky = FlakyDatabase(sessionmaker, failures=2)  # the sender dies twice when it starts
    senders: list[OutboxSender] = []

    async def run_sender() -> None:
        senders.append(OutboxSender(bot, flaky, rate=30))  # type: ignore[arg-type]
        await senders[-1].run()

    supervisor = Supervisor("outbox-sender", run_sender, on_give_up=lambda: None, first_backoff=0.01)
    caplog.set_level(logging.INFO, logger="palabre")
    supervisor.start()
    try:
        await wait_for(lambda: len(telegram.delivered) == 3)
    finally:
        supervisor.request_stop()
        await senders[-1].stop()
        await supervisor.stop()

    assert sorted(text for _chat, text in telegram.delivered) == ["message 0", "message 1", "message 2"]
    assert len(senders) == 3 and supervisor.crashes == 2
    crashes = [record.getMessage() for record in caplog.records if "outbox-sender crashed" in record.getMessage()]
    assert [line.splitlines()[0] for line in crashes] == [
        "outbox-sender crashed (1 in a row): sqlalchemy.exc.OperationalError",
        "outbox-sender crashed (2 in a row): sqlalchemy.exc.OperationalError",
    ]
    assert "in run" in crashes[0]  # where it happened
    assert "Camille" not in caplog.text and "UPDATE resident" not in caplog.text
    async with sessionmaker() as session:
        assert (await outbox.delivery_figures(session)).sent == 3


async def test_a_task_that_keeps_crashing_is_given_up_on(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    gave_up = asyncio.Event()

    async def always_crashes() -> None:
        runs.append(1)
        raise RuntimeError("boom")

    supervisor = Supervisor("scheduler", always_crashes, on_give_up=gave_up.set, first_backoff=0.01, max_crashes=3)
    supervisor.start()
    await asyncio.wait_for(gave_up.wait(), timeout=10)
    await supervisor.stop()
    assert len(runs) == 3
    assert supervisor.state is TaskState.GAVE_UP
    assert "scheduler keeps crashing: giving up" in caplog.text


async def test_a_clean_end_is_not_a_crash(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    async def ends() -> None:
        runs.append(1)

    supervisor = Supervisor("outbox-sender", ends, on_give_up=lambda: None, first_backoff=0.01)
    supervisor.start()
    await wait_for(lambda: runs)
    await supervisor.stop()
    assert runs == [1] and supervisor.state is TaskState.STOPPED
    assert "crashed" not in caplog.text
