"""Public meetings: announced to an audience, answered "I'll come" / "I can't", reminded the day before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit, broadcasts
from participation.broadcasts import Audience, Recipient
from participation.text import clean_text, has_visible
from storage.models import Meeting, MeetingAnswer, Resident
from storage.types import utcnow
from storage.upsert import affected_rows, upsert

REMINDER_BEFORE = timedelta(days=1)
MAX_TITLE = 200
MAX_PLACE = 300


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    UNKNOWN = "unknown"  # no such meeting (forged or deleted)
    PAST = "past"  # the meeting has started: answers are closed


@dataclass(frozen=True)
class MeetingCounts:
    meeting: Meeting
    coming: int
    not_coming: int


async def announce(
    session: AsyncSession,
    *,
    title: str,
    starts_at: datetime,
    place: str,
    audience: Audience,
    created_by: int | None,
    source: audit.Source,
) -> tuple[Meeting, broadcasts.Broadcast]:
    """Create the meeting and its invitation, already confirmed (the caller showed the count first)."""
    title, place = clean_text(title), clean_text(place)
    if not has_visible(title) or len(title) > MAX_TITLE or not has_visible(place) or len(place) > MAX_PLACE:
        raise ValueError("title and place must be 1..200 and 1..300 characters")
    if starts_at <= utcnow():
        raise ValueError("a meeting must start in the future")
    meeting = Meeting(
        title=title.strip(),
        starts_at=starts_at,
        place=place.strip(),
        audience_kind=audience.kind.value,
        audience_value=audience.value,
        created_by=created_by,
    )
    session.add(meeting)
    await session.flush()
    invitation = await broadcasts.create_draft(session, audience=audience, text="", created_by=created_by, meeting_id=meeting.id)
    assert invitation.id is not None
    confirmed = await broadcasts.confirm(session, invitation.id, actor_telegram_id=created_by, source=source)
    assert confirmed is not None
    await audit.record(
        session,
        actor_telegram_id=created_by,
        source=source,
        action="meeting.announce",
        subject=f"meeting:{meeting.id}",
        detail={"audience": str(audience), "starts_at": starts_at.isoformat()},
    )
    return meeting, confirmed


async def answer(session: AsyncSession, meeting_id: int, resident: Resident, will_come: bool) -> AnswerOutcome:
    """Record (or change) a resident's answer while the meeting has not started."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        return AnswerOutcome.UNKNOWN
    if meeting.starts_at <= utcnow():
        return AnswerOutcome.PAST
    await upsert(
        session,
        MeetingAnswer,
        {"meeting_id": meeting_id, "resident_id": resident.id, "will_come": will_come, "answered_at": utcnow()},
        ["meeting_id", "resident_id"],
        ["will_come", "answered_at"],
    )
    return AnswerOutcome.RECORDED


async def counts(session: AsyncSession, meeting: Meeting) -> MeetingCounts:
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((col(MeetingAnswer.will_come).is_(True), 1), else_=0)), 0),
                func.coalesce(func.sum(case((col(MeetingAnswer.will_come).is_(False), 1), else_=0)), 0),
            ).where(col(MeetingAnswer.meeting_id) == meeting.id)
        )
    ).one()
    return MeetingCounts(meeting, int(row[0]), int(row[1]))


async def upcoming(session: AsyncSession, *, now: datetime | None = None) -> list[MeetingCounts]:
    meetings = await session.scalars(
        select(Meeting).where(col(Meeting.starts_at) > (now or utcnow())).order_by(col(Meeting.starts_at))
    )
    return [await counts(session, meeting) for meeting in meetings]


def reminder_time(meeting: Meeting) -> datetime:
    return meeting.starts_at - REMINDER_BEFORE


async def reminders_to_plan(session: AsyncSession, *, now: datetime | None = None) -> list[Meeting]:
    """Meetings whose reminder has not gone out and that have not started yet."""
    return list(
        await session.scalars(
            select(Meeting).where(col(Meeting.reminder_claimed_at).is_(None), col(Meeting.starts_at) > (now or utcnow()))
        )
    )


async def claim_reminder(session: AsyncSession, meeting_id: int, *, now: datetime | None = None) -> Meeting | None:
    """Claim the reminder of a meeting (once ever); None when it was claimed already or is not due."""
    now = now or utcnow()
    result = await session.execute(
        update(Meeting)
        .where(
            col(Meeting.id) == meeting_id,
            col(Meeting.reminder_claimed_at).is_(None),
            col(Meeting.starts_at) > now,
            col(Meeting.starts_at) <= now + REMINDER_BEFORE,
        )
        .values(reminder_claimed_at=now)
    )
    if not affected_rows(result):
        return None
    return await session.get(Meeting, meeting_id, populate_existing=True)


async def attendees(session: AsyncSession, meeting_id: int) -> list[Recipient]:
    """Those who said they will come and can still be written to (the reminder is what they asked for)."""
    rows = await session.execute(
        select(col(Resident.id), col(Resident.telegram_id), col(Resident.locale))
        .join(MeetingAnswer, col(MeetingAnswer.resident_id) == Resident.id)
        .where(
            col(MeetingAnswer.meeting_id) == meeting_id,
            col(MeetingAnswer.will_come).is_(True),
            col(Resident.telegram_id).is_not(None),
            col(Resident.erased_at).is_(None),
            col(Resident.unreachable_at).is_(None),
        )
        .order_by(col(Resident.id))
    )
    return [Recipient(row.id, row.telegram_id, row.locale) for row in rows]
