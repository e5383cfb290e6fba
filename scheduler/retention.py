"""The daily retention purge (participation/retention.py), planned from the last one recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from participation import audit, retention
from scheduler.core import JobContext, PlannedJob
from storage.types import utcnow

PURGE_EVERY = timedelta(days=1)


async def run_purge(context: JobContext) -> None:
    async with context.sessionmaker.begin() as session:
        # Two processes firing at once would both find nothing more to purge the second time.
        last = await retention.last_purge_at(session)
        if last is not None and utcnow() - last < PURGE_EVERY:
            return
        await retention.purge(
            session,
            free_text_days=context.settings.free_text_retention_days,
            report_days=context.settings.report_retention_days,
            outbox_days=context.settings.outbox_retention_days,
            web_session_days=context.settings.web_session_retention_days,
            source=audit.Source.SCHEDULER,
        )


async def retention_jobs(session: AsyncSession, _context: JobContext) -> list[PlannedJob]:
    last = await retention.last_purge_at(session)
    run_at = utcnow() if last is None else last + PURGE_EVERY
    return [PlannedJob("retention.purge", run_at, run_purge)]
