"""Meeting reminders: the day before, to those who said they will come; claimed first, so once."""

from __future__ import annotations

from functools import partial

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices.locales import recipient_locale
from notices.meetings import render_reminder
from participation import meetings, outbox
from scheduler.core import JobContext, PlannedJob

I18N_KEY = "i18n"  # JobContext.extra holds the I18n the application built


async def meeting_reminder_jobs(session: AsyncSession, context: JobContext) -> list[PlannedJob]:
    """One job per meeting whose reminder has not gone out; a time already passed runs at once."""
    jobs: list[PlannedJob] = []
    for meeting in await meetings.reminders_to_plan(session):
        assert meeting.id is not None  # read from the table
        jobs.append(
            PlannedJob(
                job_id=f"meeting-reminder:{meeting.id}",
                run_at=meetings.reminder_time(meeting),
                action=partial(send_meeting_reminder, meeting.id),
            )
        )
    return jobs


async def send_meeting_reminder(meeting_id: int, context: JobContext) -> int:
    """Claim the reminder, then queue it for each attendee in their language; returns how many.

    Claim and queueing commit together: a crash before the commit leaves the reminder unclaimed
    (it runs again at start), and after it nothing can claim it again.
    """
    i18n: I18n = context.extra[I18N_KEY]
    async with context.sessionmaker.begin() as session:
        meeting = await meetings.claim_reminder(session, meeting_id)
        if meeting is None:
            return 0
        queued = 0
        for recipient in await meetings.attendees(session, meeting_id):
            locale = recipient_locale(recipient.locale, i18n)
            with i18n.context(), i18n.use_locale(locale):
                method, payload = render_reminder(meeting, context.settings.tz, locale)
            queued += await outbox.enqueue(
                session,
                chat_id=recipient.telegram_id,
                method=method,
                payload=payload,
                resident_id=recipient.resident_id,
                kind="meeting-reminder",
                dedupe_key=f"mr:{meeting_id}:{recipient.resident_id}",
            )
    return queued
