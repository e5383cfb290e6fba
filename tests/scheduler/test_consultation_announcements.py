"""An opening consultation is announced once, through the outbox, to the residents it concerns."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from participation import subscriptions
from scheduler.consultations import open_and_announce
from storage.db import SessionMaker
from storage.models import Consultation, OutboxMessage
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident
from tests.participation.test_publication import TOPICS
from tests.scheduler.test_consultation_reminders import context


async def test_topic_subscribers_are_told_once_in_their_language(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        consultation = await add_consultation(session)
        await session.execute(
            update(Consultation)
            .where(Consultation.id == consultation.id)
            .values(
                status="scheduled",
                topic="urbanisme",
                opens_at=utcnow() - timedelta(minutes=1),
                closes_at=utcnow() + timedelta(days=7),
            )
        )
        french, english = await add_resident(session, 1), await add_resident(session, 2, locale="en")
        await add_resident(session, 3)  # follows nothing: not told
        await subscriptions.toggle_topic(session, french, "urbanisme")
        await subscriptions.toggle_topic(session, english, "urbanisme")
    ctx = context(sessionmaker)
    assert await open_and_announce(consultation.id, ctx) == 2  # type: ignore[arg-type]
    assert await open_and_announce(consultation.id, ctx) == 0  # type: ignore[arg-type]  # a double fire tells nobody twice
    async with sessionmaker() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.chat_id))).all()
        status = await session.scalar(select(Consultation.status).where(Consultation.id == consultation.id))
    assert status == "open"
    assert [row.chat_id for row in rows] == [1, 2]
    assert "Une nouvelle consultation de votre mairie." in rows[0].payload["text"]
    assert "A new consultation from your town hall." in rows[1].payload["text"]
    assert rows[0].payload["reply_markup"]["inline_keyboard"][0][0]["text"] == "🗳 Répondre"
