"""Public meetings: answers, counts, and the reminder claimed once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation import meetings
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind
from storage.db import SessionMaker
from storage.types import utcnow
from tests.participation.test_broadcasts import add_resident


async def test_answers_are_counted_last_tap_wins_and_close_at_the_start(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        anne, bruno, chloe = [await add_resident(session, n) for n in (1, 2, 3)]
        meeting, invitation = await meetings.announce(
            session,
            title="Place du marché",
            starts_at=utcnow() + timedelta(days=3),
            place="Salle des fêtes",
            audience=Audience(AudienceKind.ALL),
            created_by=900,
            source=Source.CHAT,
        )
        assert invitation.status == "confirmed" and invitation.recipient_count == 3
        assert await meetings.answer(session, meeting.id, anne, True) == meetings.AnswerOutcome.RECORDED
        assert await meetings.answer(session, meeting.id, bruno, True) == meetings.AnswerOutcome.RECORDED
        assert await meetings.answer(session, meeting.id, bruno, False) == meetings.AnswerOutcome.RECORDED
        assert await meetings.answer(session, meeting.id, chloe, True) == meetings.AnswerOutcome.RECORDED
        assert await meetings.answer(session, 999, chloe, True) == meetings.AnswerOutcome.UNKNOWN
        counts = await meetings.counts(session, meeting)
        assert (counts.coming, counts.not_coming) == (2, 1)
        meeting.starts_at = utcnow() - timedelta(minutes=1)
        session.add(meeting)
        await session.flush()
        assert await meetings.answer(session, meeting.id, chloe, False) == meetings.AnswerOutcome.PAST
    with pytest.raises(ValueError):
        async with sessionmaker.begin() as session:
            await meetings.announce(
                session,
                title="Trop tard",
                starts_at=utcnow() - timedelta(hours=1),
                place="Mairie",
                audience=Audience(AudienceKind.ALL),
                created_by=900,
                source=Source.CHAT,
            )


async def test_the_reminder_is_claimed_once_and_only_when_due(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        anne = await add_resident(session, 1)
        bruno = await add_resident(session, 2)
        await add_resident(session, 3)
        meeting, _ = await meetings.announce(
            session,
            title="Budget",
            starts_at=utcnow() + timedelta(days=2),
            place="Mairie",
            audience=Audience(AudienceKind.ALL),
            created_by=900,
            source=Source.CLI,
        )
        await meetings.answer(session, meeting.id, anne, True)
        await meetings.answer(session, meeting.id, bruno, False)
    async with sessionmaker.begin() as session:
        assert await meetings.claim_reminder(session, meeting.id) is None  # two days before: too early
        assert [m.id for m in await meetings.reminders_to_plan(session)] == [meeting.id]
    the_day_before = meeting.starts_at - timedelta(hours=20)
    async with sessionmaker.begin() as session:
        assert await meetings.claim_reminder(session, meeting.id, now=the_day_before) is not None
        assert [r.telegram_id for r in await meetings.attendees(session, meeting.id)] == [1]
    async with sessionmaker.begin() as session:
        assert await meetings.claim_reminder(session, meeting.id, now=the_day_before) is None
        assert await meetings.reminders_to_plan(session) == []
