"""The satisfaction question: once per period, claimed first, queued to each resident in their language."""

from __future__ import annotations

from functools import partial

from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices.impact import render_question
from notices.locales import recipient_locale
from participation import outbox, satisfaction
from scheduler.core import JobContext, PlannedJob

I18N_KEY = "i18n"  # JobContext.extra holds the I18n the application built


async def satisfaction_jobs(session: AsyncSession, context: JobContext) -> list[PlannedJob]:
    """The current period's round while it has not been queued; its start passed, so it runs at once."""
    planned = await satisfaction.round_to_plan(session, context.settings.satisfaction_interval_days)
    if planned is None:
        return []
    period, start = planned
    return [
        PlannedJob(
            job_id=f"satisfaction:{period}",
            run_at=start,
            action=partial(send_satisfaction_round, period),
        )
    ]


async def send_satisfaction_round(period: int, context: JobContext) -> int:
    """Claim the period's round and queue the question to each recipient; returns how many.

    Claim and queueing commit together; each message also has a dedupe key per period and
    resident, so nobody is asked twice in a period, across restarts and double fires.
    """
    i18n: I18n = context.extra[I18N_KEY]
    interval = context.settings.satisfaction_interval_days
    async with context.sessionmaker.begin() as session:
        recipients = await satisfaction.claim_round(session, period, interval)
        if not recipients:
            return 0
        queued = 0
        for recipient in recipients:
            locale = recipient_locale(recipient.locale, i18n)
            with i18n.context(), i18n.use_locale(locale):
                payload = render_question(period)
            queued += await outbox.enqueue(
                session,
                chat_id=recipient.telegram_id,
                method="sendMessage",
                payload=payload,
                resident_id=recipient.resident_id,
                kind="satisfaction",
                dedupe_key=f"sat:{period}:{recipient.resident_id}",
            )
    return queued
