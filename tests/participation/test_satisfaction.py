"""The satisfaction question: asked once per period, to active residents who want notifications."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from participation import satisfaction
from participation.privacy import erase_resident
from storage.db import SessionMaker
from storage.models import SatisfactionAnswer
from tests.participation.test_broadcasts import add_resident

INTERVAL = 91


async def test_round_is_claimed_once_and_reaches_only_active_willing_residents(sessionmaker: SessionMaker) -> None:
    now = satisfaction.period_start(4, INTERVAL) + timedelta(days=3)
    start = satisfaction.period_start(4, INTERVAL)
    old = start - timedelta(days=30)
    async with sessionmaker.begin() as session:
        active = await add_resident(session, 1, consent_at=old, last_active_at=start - timedelta(days=2))
        await add_resident(session, 2, consent_at=old, last_active_at=start - timedelta(days=200))  # inactive
        await add_resident(session, 3, consent_at=old, last_active_at=start, notifications_enabled=False)
        await add_resident(session, 4, consent_at=old, last_active_at=start, unreachable_at=old)
        await add_resident(session, 5, consent_at=start + timedelta(days=1), last_active_at=now)  # newcomer
        await add_resident(session, 6, consent_at=None, last_active_at=now)  # no consent
        assert await satisfaction.round_to_plan(session, INTERVAL, now=now) == (4, start)
        recipients = await satisfaction.claim_round(session, 4, INTERVAL, now=now)
        assert recipients is not None and [r.telegram_id for r in recipients] == [1]
        assert await satisfaction.claim_round(session, 4, INTERVAL, now=now) is None
        assert await satisfaction.round_to_plan(session, INTERVAL, now=now) is None
        # The next period is asked again, and a period that is over is never claimed late.
        later = satisfaction.period_start(5, INTERVAL) + timedelta(hours=1)
        assert await satisfaction.round_to_plan(session, INTERVAL, now=later) == (5, satisfaction.period_start(5, INTERVAL))
        assert await satisfaction.claim_round(session, 3, INTERVAL, now=now) is None

        assert await satisfaction.record_answer(session, active, 4, 2, INTERVAL, now=now) == satisfaction.AnswerOutcome.RECORDED
        assert await satisfaction.record_answer(session, active, 4, 4, INTERVAL, now=now) == satisfaction.AnswerOutcome.RECORDED
        assert await satisfaction.record_answer(session, active, 4, 6, INTERVAL, now=now) == satisfaction.AnswerOutcome.INVALID
        assert await satisfaction.record_answer(session, active, 5, 3, INTERVAL, now=now) == satisfaction.AnswerOutcome.INVALID
        assert await satisfaction.record_comment(session, active, 4, "  Très pratique  ")
        answers = list(await session.scalars(select(SatisfactionAnswer)))
        assert [(a.period, a.score, a.comment) for a in answers] == [(4, 4, "Très pratique")]
        await erase_resident(session, active)
        answers = list(await session.scalars(select(SatisfactionAnswer)))
        assert [(a.score, a.comment, a.resident_id) for a in answers] == [(4, None, None)]
