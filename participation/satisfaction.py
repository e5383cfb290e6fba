"""The periodic satisfaction question: who is asked each period (once), and their answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.text import clean_visible
from storage.models import Resident, SatisfactionAnswer, SatisfactionRound
from storage.types import utcnow
from storage.upsert import affected_rows, insert_ignore, upsert

# Periods are counted from this day, so that every process agrees on where a period starts.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SCORES = range(1, 6)
MAX_COMMENT = 1000


def period_of(at: datetime, interval_days: int) -> int:
    return (at - EPOCH) // timedelta(days=interval_days)


def period_start(period: int, interval_days: int) -> datetime:
    return EPOCH + period * timedelta(days=interval_days)


@dataclass(frozen=True)
class Recipient:
    resident_id: int
    telegram_id: int
    locale: str | None


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    INVALID = "invalid"  # a score outside 1-5, a period that was never asked or is over


async def round_to_plan(session: AsyncSession, interval_days: int, *, now: datetime | None = None) -> tuple[int, datetime] | None:
    """The current period and its start, unless its question was already queued."""
    at = now or utcnow()
    period = period_of(at, interval_days)
    if await session.get(SatisfactionRound, period) is not None:
        return None
    return period, period_start(period, interval_days)


async def claim_round(
    session: AsyncSession, period: int, interval_days: int, *, now: datetime | None = None
) -> list[Recipient] | None:
    """Claim the period's round and return who must be asked; None when it was already claimed.

    Asked: residents who consented before the period began (a newcomer is not asked on day one),
    were active in the last interval, want notifications, are reachable and not erased.
    """
    at = now or utcnow()
    if period != period_of(at, interval_days):
        return None  # a period that is over is not asked any more
    if not await insert_ignore(
        session,
        SatisfactionRound,
        {"period": period, "queued_at": at, "recipients": 0},
        ["period"],
    ):
        return None
    start = period_start(period, interval_days)
    rows = await session.execute(
        select(col(Resident.id), col(Resident.telegram_id), col(Resident.locale))
        .where(
            col(Resident.telegram_id).is_not(None),
            col(Resident.consent_at).is_not(None),
            col(Resident.consent_at) <= start,
            col(Resident.erased_at).is_(None),
            col(Resident.unreachable_at).is_(None),
            col(Resident.notifications_enabled).is_(True),
            col(Resident.last_active_at) >= start - timedelta(days=interval_days),
        )
        .order_by(col(Resident.id))
    )
    recipients: list[Recipient] = []
    for resident_id, telegram_id, locale in rows.all():
        assert resident_id is not None and telegram_id is not None  # stored rows, filtered on a Telegram id
        recipients.append(Recipient(resident_id=resident_id, telegram_id=telegram_id, locale=locale))
    await session.execute(
        update(SatisfactionRound).where(col(SatisfactionRound.period) == period).values(recipients=len(recipients))
    )
    return recipients


async def record_answer(
    session: AsyncSession, resident: Resident, period: int, score: int, interval_days: int, *, now: datetime | None = None
) -> AnswerOutcome:
    """Record (or change, the last tap wins) a resident's score for a period still running."""
    at = now or utcnow()
    if score not in SCORES or period != period_of(at, interval_days):
        return AnswerOutcome.INVALID
    if await session.get(SatisfactionRound, period) is None:
        return AnswerOutcome.INVALID
    await upsert(
        session,
        SatisfactionAnswer,
        {"period": period, "resident_id": resident.id, "score": score, "answered_at": at},
        ["period", "resident_id"],
        ["score", "answered_at"],
    )
    return AnswerOutcome.RECORDED


async def record_comment(session: AsyncSession, resident: Resident, period: int, comment: str | None) -> bool:
    """Attach a comment to the resident's answer of `period`; False if there is no such answer or no text."""
    cleaned = (clean_visible(comment) or "")[:MAX_COMMENT]
    if not cleaned:
        return False
    result = await session.execute(
        update(SatisfactionAnswer)
        .where(col(SatisfactionAnswer.period) == period, col(SatisfactionAnswer.resident_id) == resident.id)
        .values(comment=cleaned)
    )
    return bool(affected_rows(result))


async def personal_data(session: AsyncSession, resident: Resident) -> list[dict[str, object]]:
    rows = await session.scalars(
        select(SatisfactionAnswer)
        .where(col(SatisfactionAnswer.resident_id) == resident.id)
        .order_by(col(SatisfactionAnswer.period))
    )
    return [{"answered_at": row.answered_at.isoformat(), "score": row.score, "comment": row.comment} for row in rows]


async def erase_personal_data(session: AsyncSession, resident: Resident) -> None:
    """Keep the scores as anonymous counts; drop the comments (free text) and the link."""
    await session.execute(
        update(SatisfactionAnswer)
        .where(col(SatisfactionAnswer.resident_id) == resident.id)
        .values(comment=None, resident_id=None)
    )
