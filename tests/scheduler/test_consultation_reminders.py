"""The consultation reminder job: planned from the database, queued once to those who have not answered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot.i18n import build_i18n
from config.settings import Settings
from notices.consultations import PickConsultation
from participation import subscriptions
from scheduler.core import JobContext, Scheduler
from scheduler.reminders import consultation_reminder_jobs, send_consultation_reminder
from scheduler.sources import JOB_SOURCES
from storage.db import SessionMaker
from storage.models import Consultation, ConsultationReminder, OutboxMessage
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident
from tests.participation.test_publication import TOPICS, respond


def context(sessionmaker: SessionMaker) -> JobContext:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return JobContext(sessionmaker, settings, lambda: None, extra={"i18n": build_i18n("fr")})


async def open_consultation(sessionmaker: SessionMaker, closes_in: timedelta) -> Consultation:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        consultation = await add_consultation(session, reminders=["48h", "6h"])
        await session.execute(
            update(Consultation)
            .where(Consultation.id == consultation.id)
            .values(status="open", opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() + closes_in)
        )
    return consultation


async def test_reminder_goes_once_to_unfinished_and_silent_subscribers_in_their_language(sessionmaker: SessionMaker) -> None:
    assert consultation_reminder_jobs in JOB_SOURCES
    consultation = await open_consultation(sessionmaker, timedelta(hours=30))
    async with sessionmaker.begin() as session:
        half_way = await add_resident(session, 1)
        follower = await add_resident(session, 2, locale="en")
        done = await add_resident(session, 3)
        await add_resident(session, 4)  # neither started nor follows the topic
        await respond(session, consultation, half_way, submitted=False)
        await respond(session, consultation, done)
        await subscriptions.toggle_topic(session, follower, "urbanisme")
        await subscriptions.toggle_topic(session, done, "urbanisme")
    ctx = context(sessionmaker)
    async with sessionmaker() as session:
        jobs = {job.job_id: job for job in await consultation_reminder_jobs(session, ctx)}
    assert set(jobs) == {f"consultation-reminder:{consultation.id}:48h", f"consultation-reminder:{consultation.id}:6h"}
    due = jobs[f"consultation-reminder:{consultation.id}:48h"]
    assert due.run_at <= utcnow()  # 48 h before closing has passed: runs at once
    assert await due.action(ctx) == 2
    assert await send_consultation_reminder(consultation.id, "48h", ctx) == 0  # a double fire queues nothing
    assert await send_consultation_reminder(consultation.id, "6h", ctx) == 0  # not its time yet
    async with sessionmaker() as session:
        assert [job.job_id for job in await consultation_reminder_jobs(session, ctx)] == [
            f"consultation-reminder:{consultation.id}:6h"
        ]
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "consultation-reminder"))).all()
        claimed = (await session.scalars(select(ConsultationReminder))).all()
    texts = {row.chat_id: row.payload["text"] for row in rows}
    assert set(texts) == {1, 2}
    assert texts[1].startswith(
        "⏰ Plus qu’un jour pour donner votre avis sur «\u202fRéaménagement de la place du marché\u202f» (fin le "
    )
    assert texts[2].startswith("⏰ Only one day left to give your opinion on “Redesign of the market square” (closes on ")
    for row in rows:
        (button,) = row.payload["reply_markup"]["inline_keyboard"][0]
        assert button["callback_data"] == PickConsultation(cid=consultation.id).pack()
    assert [(c.offset, c.outcome, c.recipient_count) for c in claimed] == [("48h", "sent", 2)]


async def test_a_reminder_missed_while_down_is_not_sent_after_closing(sessionmaker: SessionMaker) -> None:
    consultation = await open_consultation(sessionmaker, timedelta(hours=30))
    async with sessionmaker.begin() as session:
        await respond(session, consultation, await add_resident(session, 1), submitted=False)
        await session.execute(
            update(Consultation).where(Consultation.id == consultation.id).values(closes_at=utcnow() - timedelta(minutes=5))
        )
    ctx = context(sessionmaker)
    async with sessionmaker() as session:
        jobs = await consultation_reminder_jobs(session, ctx)  # still "open": the closing job has not run yet
    for job in jobs:
        assert await job.action(ctx) == 0
    async with sessionmaker() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []
        assert {c.outcome for c in (await session.scalars(select(ConsultationReminder))).all()} == {"skipped"}
        assert await consultation_reminder_jobs(session, ctx) == []


async def test_scheduler_plans_each_reminder_at_its_offset_before_closing(sessionmaker: SessionMaker) -> None:
    consultation = await open_consultation(sessionmaker, timedelta(days=5))
    scheduler = Scheduler(context(sessionmaker), [consultation_reminder_jobs])
    await scheduler.start()
    try:
        for offset, before in (("48h", timedelta(hours=48)), ("6h", timedelta(hours=6))):
            job = scheduler._scheduler.get_job(f"consultation-reminder:{consultation.id}:{offset}")
            assert job is not None
            async with sessionmaker() as session:
                closes_at = (await session.get(Consultation, consultation.id)).closes_at  # type: ignore[union-attr]
            assert abs((job.next_run_time - (closes_at - before)).total_seconds()) < 1
    finally:
        await scheduler.shutdown()
