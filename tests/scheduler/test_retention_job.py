"""The retention purge is planned daily from the last one recorded, and runs once per day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from config.settings import Settings
from participation import retention
from scheduler.core import JobContext
from scheduler.retention import retention_jobs, run_purge
from storage.db import SessionMaker
from storage.models import AuditEntry
from storage.types import utcnow


async def test_purge_is_planned_now_then_a_day_after_the_last(sessionmaker: SessionMaker) -> None:
    context = JobContext(sessionmaker, Settings(_env_file=None), lambda: None)  # type: ignore[call-arg]
    async with sessionmaker() as session:
        (first,) = await retention_jobs(session, context)
    assert first.run_at <= utcnow()
    await run_purge(context)
    await run_purge(context)  # a double fire does nothing more
    async with sessionmaker() as session:
        purges = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == retention.PURGE_ACTION)
        )
        (second,) = await retention_jobs(session, context)
    assert purges == 1
    assert second.run_at - utcnow() > timedelta(hours=23)
