"""Scheduler jobs of consultations: opening and closing at their times (closing stops native polls)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from participation.consultations import close_if_due, due_transitions, open_if_due
from scheduler.core import JobContext, PlannedJob


async def consultation_jobs(session: AsyncSession, _context: JobContext) -> list[PlannedJob]:
    """One job per opening or closing still to come (or missed while the bot was down)."""
    jobs = []
    for consultation_id, kind, at in await due_transitions(session):
        action = _opener(consultation_id) if kind == "open" else _closer(consultation_id)
        jobs.append(PlannedJob(job_id=f"consultation.{kind}.{consultation_id}", run_at=at, action=action))
    return jobs


def _opener(consultation_id: int):  # type: ignore[no-untyped-def]
    async def run(context: JobContext) -> None:
        async with context.sessionmaker.begin() as session:
            await open_if_due(session, consultation_id)

    return run


def _closer(consultation_id: int):  # type: ignore[no-untyped-def]
    async def run(context: JobContext) -> None:
        async with context.sessionmaker.begin() as session:
            await close_if_due(session, consultation_id)

    return run
