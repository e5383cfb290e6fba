"""The scheduler never fails silently, and runs nothing once this process's leader lease has lapsed."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.core import JobContext, PlannedJob, Scheduler
from storage.db import SessionMaker
from storage.types import utcnow
from tests.scheduler.test_meeting_reminders import context


async def test_a_failing_job_is_logged_by_class_and_place_and_the_others_still_run(
    sessionmaker: SessionMaker, caplog: pytest.LogCaptureFixture
) -> None:
    done = asyncio.Event()

    async def fails(_context: JobContext) -> None:
        raise RuntimeError("Camille Dupont, 3 rue des Lilas")  # as a message may quote a resident

    async def works(_context: JobContext) -> None:
        done.set()

    async def source(_session: AsyncSession, _context: JobContext) -> list[PlannedJob]:
        return [PlannedJob("test:fails", utcnow(), fails), PlannedJob("test:works", utcnow(), works)]

    caplog.set_level(logging.INFO, logger="palabre")
    scheduler = Scheduler(context(sessionmaker), [source])
    await scheduler.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=20)
        for _ in range(200):  # the failing job runs beside the other: wait for its line
            if "test:fails failed" in caplog.text:
                break
            await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()
    assert "scheduler: job test:fails failed: builtins.RuntimeError" in caplog.text
    assert "in fails" in caplog.text  # where it happened
    assert "Camille" not in caplog.text and "Lilas" not in caplog.text


async def test_no_job_runs_once_the_lease_has_lapsed(sessionmaker: SessionMaker, caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    async def job(_context: JobContext) -> None:
        ran.append("job")

    async def source(_session: AsyncSession, _context: JobContext) -> list[PlannedJob]:
        return [PlannedJob("test:job", utcnow(), job)]

    caplog.set_level(logging.INFO, logger="palabre")
    # As for a process frozen, then resumed after its lease expired (bot/leader.py Fence.is_open).
    scheduler = Scheduler(context(sessionmaker), [source], may_run=lambda: False)
    await scheduler.start()
    try:
        for _ in range(200):
            if "test:job not run" in caplog.text:
                break
            await asyncio.sleep(0.05)
    finally:
        await scheduler.shutdown()
    assert "scheduler: job test:job not run: this process is no longer the leader" in caplog.text
    assert ran == []
