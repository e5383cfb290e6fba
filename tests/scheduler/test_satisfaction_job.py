"""The satisfaction job: planned while the period's round is not queued, sent once per resident and period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.i18n import build_i18n
from config.settings import Settings
from participation.satisfaction import period_of, period_start
from scheduler.core import JobContext
from scheduler.satisfaction import satisfaction_jobs, send_satisfaction_round
from scheduler.sources import JOB_SOURCES
from storage.db import SessionMaker
from storage.models import OutboxMessage
from storage.types import utcnow
from tests.participation.test_broadcasts import add_resident


async def test_question_goes_once_per_period_in_each_language(sessionmaker: SessionMaker) -> None:
    assert satisfaction_jobs in JOB_SOURCES
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    ctx = JobContext(sessionmaker, settings, lambda: None, extra={"i18n": build_i18n("fr")})
    interval = settings.satisfaction_interval_days
    assert interval == 91
    now = utcnow()
    period = period_of(now, interval)
    long_ago = period_start(period, interval) - timedelta(days=10)
    async with sessionmaker.begin() as session:
        await add_resident(session, 1, locale="fr", consent_at=long_ago, last_active_at=long_ago)
        await add_resident(session, 2, locale="en", consent_at=long_ago, last_active_at=now)
        await add_resident(session, 3, locale="fr", consent_at=long_ago, last_active_at=now, notifications_enabled=False)
    async with sessionmaker() as session:
        (job,) = await satisfaction_jobs(session, ctx)
    assert job.job_id == f"satisfaction:{period}" and job.run_at <= now  # its period began: runs at once
    assert await job.action(ctx) == 2
    assert await send_satisfaction_round(period, ctx) == 0  # a double fire queues nothing
    async with sessionmaker() as session:
        assert await satisfaction_jobs(session, ctx) == []  # a restart plans nothing more this period
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "satisfaction"))).all()
    texts = {row.chat_id: row.payload["text"] for row in rows}
    assert texts == {
        1: "📊 <b>Une petite question</b>\n\nCe service vous est-il utile\u202f? De 1 (pas utile du tout) à 5 (très utile).",
        2: "📊 <b>A quick question</b>\n\nHow useful is this channel for you? From 1 (not useful at all) to 5 (very useful).",
    }
    labels = [b["text"] for row in rows[0].payload["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["1", "2", "3", "4", "5"]
