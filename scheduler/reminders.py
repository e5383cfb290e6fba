"""Consultation reminders: at each offset before closing, to those who have not answered; claimed first, so once."""

from __future__ import annotations

from functools import partial

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices.locales import recipient_locale
from notices.publication import reminder_message
from participation import outbox, publication
from participation.broadcasts import CHUNK
from scheduler.core import JobContext, PlannedJob

I18N_KEY = "i18n"  # JobContext.extra holds the I18n the application built


async def consultation_reminder_jobs(session: AsyncSession, context: JobContext) -> list[PlannedJob]:
    """One job per reminder not claimed yet; a time already passed runs at once."""
    return [
        PlannedJob(
            job_id=f"consultation-reminder:{planned.consultation_id}:{planned.offset}",
            run_at=planned.due_at,
            action=partial(send_consultation_reminder, planned.consultation_id, planned.offset),
        )
        for planned in await publication.reminders_to_plan(session)
    ]


async def send_consultation_reminder(consultation_id: int, offset: str, context: JobContext) -> int:
    """Claim the reminder, then queue it for each recipient in their language; returns how many.

    Claim and queueing commit together: a crash before the commit leaves the reminder unclaimed
    (it runs again at start, if the consultation is still open), and after it nothing claims it
    again. The dedupe key per consultation, offset and resident is a second lock.
    """
    i18n: I18n = context.extra[I18N_KEY]
    default_locale = context.settings.default_locale
    async with context.sessionmaker.begin() as session:
        consultation = await publication.claim_reminder(session, consultation_id, offset)
        if consultation is None:
            return 0
        rows = []
        for recipient in await publication.reminder_recipients(session, consultation):
            locale = recipient_locale(recipient.locale, i18n)
            with i18n.context(), i18n.use_locale(locale):
                method, payload = reminder_message(consultation, context.settings.tz, locale, default_locale)
            rows.append(
                {
                    "chat_id": recipient.telegram_id,
                    "method": method,
                    "payload": payload,
                    "resident_id": recipient.resident_id,
                    "kind": "consultation-reminder",
                    "dedupe_key": publication.reminder_dedupe_key(consultation_id, offset, recipient.resident_id),
                }
            )
        queued = 0
        for start in range(0, len(rows), CHUNK):  # bounded statements for large audiences
            queued += await outbox.enqueue_many(session, rows[start : start + CHUNK])
        await publication.record_reminder_count(session, consultation_id, offset, queued)
    return queued
