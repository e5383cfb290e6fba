"""Feedback on the channel itself: residents write ideas or complaints, officials answer them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from participation.text import clean_visible
from storage.models import Feedback, Resident
from storage.types import utcnow
from storage.upsert import affected_rows

MAX_LENGTH = 2000


class FeedbackRefusal(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    UNKNOWN = "unknown"
    ALREADY_ANSWERED = "already_answered"


class FeedbackRefused(Exception):
    def __init__(self, reason: FeedbackRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class FeedbackRow:
    """One feedback as officials see it: the resident only by their pseudonym."""

    id: int
    pseudonym: str
    text: str
    created_at: datetime
    answer: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class AnswerDelivery:
    """Where the answer must go: the caller renders it in `locale` and queues it."""

    feedback: Feedback
    chat_id: int | None
    resident_id: int
    locale: str | None


def _clean(text: str | None) -> str:
    cleaned = clean_visible(text)
    if cleaned is None:
        raise FeedbackRefused(FeedbackRefusal.EMPTY)
    if len(cleaned) > MAX_LENGTH:
        raise FeedbackRefused(FeedbackRefusal.TOO_LONG)
    return cleaned


async def submit(session: AsyncSession, resident: Resident, text: str | None, *, now: datetime | None = None) -> Feedback:
    """Record a resident's feedback; refused when empty or longer than MAX_LENGTH."""
    assert resident.id is not None
    row = Feedback(resident_id=resident.id, text=_clean(text), created_at=now or utcnow())
    session.add(row)
    await session.flush()
    return row


async def list_feedback(session: AsyncSession, *, unanswered_only: bool = False, limit: int = 50) -> list[FeedbackRow]:
    """The most recent feedback first."""
    query = (
        select(Feedback, col(Resident.pseudonym))
        .join(Resident, col(Resident.id) == col(Feedback.resident_id))
        .order_by(col(Feedback.created_at).desc(), col(Feedback.id).desc())
        .limit(limit)
    )
    if unanswered_only:
        query = query.where(col(Feedback.answered_at).is_(None))
    rows = await session.execute(query)
    listed: list[FeedbackRow] = []
    for fb, pseudonym in rows.all():
        assert fb.id is not None  # read from the table
        listed.append(
            FeedbackRow(
                id=fb.id,
                pseudonym=pseudonym,
                text=fb.text,
                created_at=fb.created_at,
                answer=fb.answer,
                answered_at=fb.answered_at,
            )
        )
    return listed


async def answer(
    session: AsyncSession,
    feedback_id: int,
    text: str | None,
    *,
    actor_telegram_id: int | None,
    source: audit.Source,
    now: datetime | None = None,
) -> AnswerDelivery:
    """Answer a feedback once (claimed, so a double tap or two officials never answer twice); audited."""
    cleaned = _clean(text)
    at = now or utcnow()
    claimed = await session.execute(
        update(Feedback)
        .where(col(Feedback.id) == feedback_id, col(Feedback.answered_at).is_(None))
        .values(answer=cleaned, answered_at=at, answered_by=actor_telegram_id)
    )
    row = await session.get(Feedback, feedback_id)
    if row is None:
        raise FeedbackRefused(FeedbackRefusal.UNKNOWN)
    if affected_rows(claimed) != 1:
        raise FeedbackRefused(FeedbackRefusal.ALREADY_ANSWERED)
    await session.refresh(row)
    resident = await session.get(Resident, row.resident_id)
    assert resident is not None and resident.id is not None
    await audit.record(
        session,
        actor_telegram_id=actor_telegram_id,
        source=source,
        action="feedback.answer",
        subject=f"feedback:{feedback_id}",
    )
    return AnswerDelivery(
        feedback=row,
        chat_id=None if resident.erased_at is not None else resident.telegram_id,
        resident_id=resident.id,
        locale=resident.locale,
    )


async def personal_data(session: AsyncSession, resident: Resident) -> list[dict[str, str | None]]:
    """The resident's feedback and the answers they got (for /mydata)."""
    rows = await session.scalars(select(Feedback).where(col(Feedback.resident_id) == resident.id).order_by(col(Feedback.id)))
    return [
        {
            "written_at": row.created_at.isoformat(),
            "text": row.text,
            "answer": row.answer,
            "answered_at": row.answered_at.isoformat() if row.answered_at else None,
        }
        for row in rows
    ]


@dataclass(frozen=True)
class Official:
    telegram_id: int
    locale: str | None


async def officials_to_tell(session: AsyncSession, admin_ids: list[int]) -> list[Official]:
    """Who hears of a new feedback: officials and admins (in their language when we know it)."""
    from storage.models import RoleGrant

    ids = set(admin_ids) | set(await session.scalars(select(col(RoleGrant.telegram_id)).where(col(RoleGrant.role) == "official")))
    locales: dict[int | None, str | None] = (
        dict(
            (
                await session.execute(
                    select(col(Resident.telegram_id), col(Resident.locale)).where(col(Resident.telegram_id).in_(ids))
                )
            ).all()
        )
        if ids
        else {}
    )
    return [Official(telegram_id=i, locale=locales.get(i)) for i in sorted(ids)]
