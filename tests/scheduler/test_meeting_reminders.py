"""The meeting reminder job: planned from the database, sent once to those coming, in their language."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.i18n import build_i18n
from config.settings import Settings
from participation import meetings
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind
from scheduler.core import JobContext, Scheduler
from scheduler.meetings import meeting_reminder_jobs, send_meeting_reminder
from scheduler.sources import JOB_SOURCES
from storage.db import SessionMaker
from storage.models import OutboxMessage
from storage.types import utcnow
from tests.participation.test_broadcasts import add_resident


def context(sessionmaker: SessionMaker) -> JobContext:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return JobContext(sessionmaker, settings, lambda: None, extra={"i18n": build_i18n("fr")})


async def test_reminder_goes_once_to_those_coming_in_their_language(sessionmaker: SessionMaker) -> None:
    assert meeting_reminder_jobs in JOB_SOURCES
    async with sessionmaker.begin() as session:
        marie = await add_resident(session, 1, locale="fr")
        john = await add_resident(session, 2, locale="en")
        paul = await add_resident(session, 3, locale="fr")
        await add_resident(session, 4, locale="fr")  # never answered
        meeting, _ = await meetings.announce(
            session,
            title="Budget participatif",
            starts_at=utcnow() + timedelta(hours=20),
            place="Salle Pasteur",
            audience=Audience(AudienceKind.ALL),
            created_by=900,
            source=Source.CLI,
        )
        for resident, coming in ((marie, True), (john, True), (paul, False)):
            await meetings.answer(session, meeting.id, resident, coming)
    ctx = context(sessionmaker)
    async with sessionmaker() as session:
        (job,) = await meeting_reminder_jobs(session, ctx)
    assert job.job_id == f"meeting-reminder:{meeting.id}" and job.run_at <= utcnow()  # due: runs at once
    assert await job.action(ctx) == 2
    assert await send_meeting_reminder(meeting.id, ctx) == 0  # a double fire sends nothing
    async with sessionmaker() as session:
        assert await meeting_reminder_jobs(session, ctx) == []  # a restart plans nothing any more
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "meeting-reminder"))).all()
    texts = {row.chat_id: row.payload["text"] for row in rows}
    assert set(texts) == {1, 2}
    assert texts[1].startswith("⏰ Rappel\u00a0: la réunion publique <b>Budget participatif</b> a lieu demain")
    assert texts[2].startswith("⏰ Reminder: the public meeting <b>Budget participatif</b> is tomorrow")


async def test_scheduler_plans_the_reminder_for_the_day_before(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        meeting, _ = await meetings.announce(
            session,
            title="Vélo",
            starts_at=utcnow() + timedelta(days=5),
            place="Mairie",
            audience=Audience(AudienceKind.ALL),
            created_by=900,
            source=Source.CLI,
        )
    scheduler = Scheduler(context(sessionmaker), [meeting_reminder_jobs])
    await scheduler.start()
    try:
        job = scheduler._scheduler.get_job(f"meeting-reminder:{meeting.id}")
        assert job is not None
        assert abs((job.next_run_time - (meeting.starts_at - timedelta(days=1))).total_seconds()) < 1
    finally:
        await scheduler.shutdown()
