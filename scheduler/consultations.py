"""Scheduler jobs of consultations: opening and closing at their times (closing stops native polls)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices.locales import recipient_locale
from notices.publication import opening_message
from participation import outbox, publication
from participation.broadcasts import CHUNK
from participation.consultations import close_if_due, due_transitions, open_if_due
from scheduler.core import JobContext, PlannedJob
from storage.models import Consultation

I18N_KEY = "i18n"  # JobContext.extra holds the I18n the application built


async def consultation_jobs(session: AsyncSession, _context: JobContext) -> list[PlannedJob]:
    """One job per opening or closing still to come (or missed while the bot was down)."""
    jobs: list[PlannedJob] = []
    for consultation_id, kind, at in await due_transitions(session):
        action = _opener(consultation_id) if kind == "open" else _closer(consultation_id)
        jobs.append(PlannedJob(job_id=f"consultation.{kind}.{consultation_id}", run_at=at, action=action))
    return jobs


def _opener(consultation_id: int) -> Callable[[JobContext], Awaitable[None]]:
    async def run(context: JobContext) -> None:
        await open_and_announce(consultation_id, context)

    return run


async def open_and_announce(consultation_id: int, context: JobContext) -> int:
    """Open the consultation and tell the residents it concerns; returns how many were told.

    The opening is the claim: a second fire finds it open already and tells nobody (the dedupe
    key per consultation and resident is a second lock). Claim and messages commit together.
    """
    i18n: I18n = context.extra[I18N_KEY]
    settings = context.settings
    async with context.sessionmaker.begin() as session:
        if not await open_if_due(session, consultation_id):
            return 0
        consultation = await session.get(Consultation, consultation_id)
        if consultation is None:
            return 0
        rows = []
        for recipient in await publication.announcement_recipients(session, consultation):
            locale = recipient_locale(recipient.locale, i18n)
            with i18n.context(), i18n.use_locale(locale):
                method, payload = opening_message(
                    consultation, settings.tz, locale, settings.default_locale, settings.commune_name
                )
            rows.append(
                {
                    "chat_id": recipient.telegram_id,
                    "method": method,
                    "payload": payload,
                    "resident_id": recipient.resident_id,
                    "kind": "consultation-opening",
                    "dedupe_key": publication.announcement_dedupe_key(consultation_id, recipient.resident_id),
                }
            )
        queued = 0
        for start in range(0, len(rows), CHUNK):  # bounded statements for large audiences
            queued += await outbox.enqueue_many(session, rows[start : start + CHUNK])
    return queued


def _closer(consultation_id: int) -> Callable[[JobContext], Awaitable[None]]:
    async def run(context: JobContext) -> None:
        async with context.sessionmaker.begin() as session:
            await close_if_due(session, consultation_id)

    return run
