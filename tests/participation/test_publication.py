"""Results publication: who receives it, when it is allowed, once; and who gets a consultation reminder."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from participation import publication, subscriptions
from participation.audit import Source
from participation.publication import PublishRefusal, PublishRefused
from storage.db import SessionMaker
from storage.models import (
    AuditEntry,
    Consultation,
    ConsultationAnswer,
    ConsultationReminder,
    ConsultationResponse,
    Publication,
    Resident,
)
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident

TOPICS = "topics:\n  - {code: urbanisme, name: Urbanisme}\n  - {code: culture, name: Culture}\n"


async def respond(
    session: AsyncSession, consultation: Consultation, resident: Resident, *, submitted: bool = True, **answers: Any
) -> None:
    """A response as the chat leaves it: answers saved, submitted or left half-way."""
    response = ConsultationResponse(
        consultation_id=consultation.id,
        resident_id=resident.id,
        status="submitted" if submitted else "in_progress",  # type: ignore[arg-type]
        cursor=None if submitted else 1,
        submitted_at=utcnow() if submitted else None,
    )
    session.add(response)
    await session.flush()
    for question, value in (answers or {"frequence": "hebdo", "pietonne": "yes"}).items():
        session.add(ConsultationAnswer(response_id=response.id, question_id=question, value=value))  # type: ignore[arg-type]
    await session.flush()


async def close(session: AsyncSession, consultation: Consultation) -> None:
    await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(status="closed", opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(minutes=1))
    )


async def recipients(session: AsyncSession, consultation: Consultation) -> list[int]:
    await session.refresh(consultation)
    rows = await session.execute(publication.recipients_query(consultation))
    return sorted(row.telegram_id for row in rows)


async def test_outcome_goes_to_participants_and_topic_subscribers_each_once(session: AsyncSession) -> None:
    await subscriptions.import_topics(session, TOPICS)
    consultation = await add_consultation(session)  # topic: urbanisme
    took_part = await add_resident(session, 1)
    both = await add_resident(session, 2, locale="en")  # took part and follows the topic
    follower = await add_resident(session, 3)
    half_way = await add_resident(session, 4)  # started, never submitted: not a participant
    other_topic = await add_resident(session, 5)
    quiet = await add_resident(session, 6)  # took part, then switched notifications off
    blocked = await add_resident(session, 7)  # took part, then blocked the bot
    for resident in (took_part, both, quiet, blocked):
        await respond(session, consultation, resident)
    await respond(session, consultation, half_way, submitted=False)
    for resident, topic in ((both, "urbanisme"), (follower, "urbanisme"), (other_topic, "culture")):
        await subscriptions.toggle_topic(session, resident, topic)
    quiet.notifications_enabled = False
    blocked.unreachable_at = utcnow()
    session.add_all([quiet, blocked])
    await session.flush()

    assert await recipients(session, consultation) == [1, 2, 3]
    assert await publication.count_recipients(session, consultation) == 3


async def test_publishing_is_refused_before_closing_and_happens_once(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session)
        await respond(session, consultation, await add_resident(session, 1))

    async def publish(decision: str = "La place sera piétonne le samedi.") -> Publication:
        async with sessionmaker.begin() as session:
            return await publication.publish(session, "place-du-marche", decision, actor_telegram_id=900, source=Source.CHAT)

    with pytest.raises(PublishRefused) as refused:
        await publish()
    assert refused.value.reason == PublishRefusal.NOT_CLOSED
    with pytest.raises(PublishRefused) as refused:
        async with sessionmaker.begin() as session:
            await publication.publish(session, "nope", "Décision", actor_telegram_id=900, source=Source.CHAT)
    assert refused.value.reason == PublishRefusal.UNKNOWN

    async with sessionmaker.begin() as session:
        await close(session, consultation)
    for decision, reason in (("   ", PublishRefusal.EMPTY), ("x" * (publication.MAX_DECISION + 1), PublishRefusal.TOO_LONG)):
        with pytest.raises(PublishRefused) as refused:
            await publish(decision)
        assert refused.value.reason == reason

    published = await publish()
    assert published.recipient_count == 1 and published.status == "queuing"
    with pytest.raises(PublishRefused) as refused:
        await publish("Une autre décision")
    assert refused.value.reason == PublishRefusal.ALREADY_PUBLISHED
    async with sessionmaker() as session:
        (stored,) = (await session.scalars(select(Publication))).all()
        audits = (await session.execute(select(AuditEntry.action, AuditEntry.actor_telegram_id, AuditEntry.subject))).all()
    assert (stored.decision, stored.author_telegram_id, stored.source) == ("La place sera piétonne le samedi.", 900, "chat")
    assert ("consultation.publish_results", 900, "place-du-marche") in audits


async def test_a_consultation_closed_by_its_time_can_be_published_before_the_scheduler_marks_it(session: AsyncSession) -> None:
    consultation = await add_consultation(session)
    await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(status="open", opens_at=utcnow() - timedelta(days=3), closes_at=utcnow() - timedelta(seconds=5))
    )
    assert (await publication.publishable(session, "place-du-marche")).id == consultation.id


# --- Reminders ----------------------------------------------------------------------------------


async def test_reminder_recipients_are_those_who_have_not_finished_in_its_audience(session: AsyncSession) -> None:
    await subscriptions.import_topics(session, TOPICS)
    consultation = await add_consultation(session, neighbourhoods=["centre"])
    half_way = await add_resident(session, 1, neighbourhood="centre")
    done = await add_resident(session, 2, neighbourhood="centre")
    follower = await add_resident(session, 3, neighbourhood="centre", locale="en")
    follower_elsewhere = await add_resident(session, 4, neighbourhood="nord")
    follower_done = await add_resident(session, 5, neighbourhood="centre")
    await add_resident(session, 6, neighbourhood="centre")  # neither started nor follows the topic
    quiet_half_way = await add_resident(session, 7, neighbourhood="centre")
    await respond(session, consultation, half_way, submitted=False)
    await respond(session, consultation, quiet_half_way, submitted=False)
    await respond(session, consultation, done)
    await respond(session, consultation, follower_done)
    for resident in (follower, follower_elsewhere, follower_done):
        await subscriptions.toggle_topic(session, resident, "urbanisme")
    quiet_half_way.notifications_enabled = False
    session.add(quiet_half_way)
    await session.flush()

    found = await publication.reminder_recipients(session, consultation)
    assert [r.telegram_id for r in found] == [1, 3]


async def test_a_reminder_is_claimed_once_and_skipped_when_its_time_came_after_closing(session: AsyncSession) -> None:
    consultation = await add_consultation(session, reminders=["48h", "6h"])
    await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(status="open", opens_at=utcnow() - timedelta(days=3), closes_at=utcnow() + timedelta(hours=24))
    )
    await session.refresh(consultation)
    planned = {p.offset: p.due_at for p in await publication.reminders_to_plan(session)}
    assert set(planned) == {"48h", "6h"}
    assert planned["48h"] <= utcnow() < planned["6h"]  # 48h before closing is past: due at once

    assert await publication.claim_reminder(session, consultation.id, "6h") is None  # not due: nothing claimed
    assert (await publication.claim_reminder(session, consultation.id, "48h")).id == consultation.id  # type: ignore[union-attr]
    assert await publication.claim_reminder(session, consultation.id, "48h") is None  # a double fire
    assert await publication.claim_reminder(session, consultation.id, "12h") is None  # not in the file (forged)
    assert [p.offset for p in await publication.reminders_to_plan(session)] == ["6h"]

    # The bot was down through the 6h reminder and the closing: it is claimed as skipped.
    later = utcnow() + timedelta(hours=25)
    assert await publication.claim_reminder(session, consultation.id, "6h", now=later) is None
    outcomes = dict((await session.execute(select(ConsultationReminder.offset, ConsultationReminder.outcome))).all())
    assert outcomes == {"48h": "sent", "6h": "skipped"}
    assert await publication.reminders_to_plan(session) == []
    assert await session.scalar(select(func.count()).select_from(ConsultationReminder)) == 2


async def test_a_reminder_before_the_opening_is_due_at_the_opening(session: AsyncSession) -> None:
    consultation = await add_consultation(session, reminders=["48h"])
    opens_at = utcnow() + timedelta(hours=1)
    await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id)
        .values(opens_at=opens_at, closes_at=opens_at + timedelta(hours=24))
    )
    (planned,) = await publication.reminders_to_plan(session)
    assert abs((planned.due_at - opens_at).total_seconds()) < 1
    assert await publication.claim_reminder(session, consultation.id, "48h") is None  # not open yet
