"""Native polls: a one-question consultation sent as a Telegram poll, counted with the chat's answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import outbox
from participation.consultations.answering import _remember, _save, _view, find_response, table_of
from participation.consultations.catalog import ResponseStatus, Status, in_audience, status_at
from participation.consultations.questions import Question, questions_of
from storage.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationPoll,
    ConsultationResponse,
    Resident,
)
from storage.types import utcnow
from storage.upsert import insert_ignore

POLL_KIND = "poll"
POLL_STOP_KIND = "poll_stop"


class PollRefusal(StrEnum):
    NOT_ONE_QUESTION = "not_one_question"
    WRONG_TYPE = "wrong_type"
    NOT_OPEN = "not_open"


def poll_refusal(consultation: Consultation, now: datetime | None = None) -> PollRefusal | None:
    """Why this consultation cannot go out as a native poll, or None when it can."""
    if len(consultation.questions) != 1:
        return PollRefusal.NOT_ONE_QUESTION
    if questions_of(consultation)[0].poll_values() is None:
        return PollRefusal.WRONG_TYPE
    if status_at(consultation, now) != Status.OPEN:
        return PollRefusal.NOT_OPEN
    return None


async def poll_audience(session: AsyncSession, consultation: Consultation) -> list[Resident]:
    """Residents who consented, are reachable, are in the audience and have no poll yet for it."""
    already = select(col(ConsultationPoll.resident_id)).where(col(ConsultationPoll.consultation_id) == consultation.id)
    residents = await session.scalars(
        select(Resident)
        .where(
            col(Resident.consent_at).is_not(None),
            col(Resident.erased_at).is_(None),
            col(Resident.unreachable_at).is_(None),
            col(Resident.telegram_id).is_not(None),
            col(Resident.id).not_in(already),
        )
        .order_by(col(Resident.id))
    )
    return [r for r in residents if in_audience(consultation, r)]


def poll_values(question: Question) -> list[str | int]:
    """The answer value behind each option of the native poll, in order."""
    return question.poll_values() or []


def poll_dedupe_key(consultation_id: int, resident_id: int) -> str:
    return f"poll:{consultation_id}:{resident_id}"


async def register_poll(session: AsyncSession, consultation: Consultation, resident: Resident) -> bool:
    """Remember that a poll goes to this resident; False when one already did (nothing to send)."""
    # Stored rows, and poll_audience keeps only residents with a chat.
    assert consultation.id is not None and resident.id is not None and resident.telegram_id is not None
    return await insert_ignore(
        session,
        table_of(ConsultationPoll),
        ConsultationPoll(consultation_id=consultation.id, resident_id=resident.id, chat_id=resident.telegram_id).model_dump(
            exclude={"id"}
        ),
        ["consultation_id", "resident_id"],
    )


async def record_poll_sent(session: AsyncSession, message: Any, result: Any) -> None:
    """Outbox hook for kind "poll": remember the poll id Telegram gave, to count its answers."""
    key = message.dedupe_key or ""
    parts = key.split(":")
    poll = getattr(result, "poll", None)
    if len(parts) != 3 or poll is None:
        return
    await session.execute(
        update(ConsultationPoll)
        .where(col(ConsultationPoll.consultation_id) == int(parts[1]), col(ConsultationPoll.resident_id) == int(parts[2]))
        .values(poll_id=poll.id, message_id=result.message_id, status="open")
    )
    # Delivered after the consultation closed (a long queue): stop it at once like the others.
    consultation = await session.get(Consultation, int(parts[1]))
    if consultation is not None and status_at(consultation) == Status.CLOSED:
        await stop_polls(session, int(parts[1]))


class PollOutcome(StrEnum):
    RECORDED = "recorded"
    RETRACTED = "retracted"
    IGNORED = "ignored"  # someone else's poll, a closed consultation, an impossible option
    # No poll with that id (yet): the sender records a poll's id just after Telegram accepted it,
    # so a very quick vote can arrive before that record is committed.
    UNKNOWN_POLL = "unknown_poll"


async def record_poll_answer(
    session: AsyncSession, poll_id: str, resident: Resident | None, option_ids: list[int], now: datetime | None = None
) -> PollOutcome:
    """Count a `poll_answer` in the same tables as the conversational answers, once per resident."""
    now = now or utcnow()
    poll = await session.scalar(select(ConsultationPoll).where(col(ConsultationPoll.poll_id) == poll_id))
    if poll is None:
        return PollOutcome.UNKNOWN_POLL
    if resident is None or poll.resident_id != resident.id:
        return PollOutcome.IGNORED
    consultation = await session.get(Consultation, poll.consultation_id)
    if consultation is None or status_at(consultation, now) != Status.OPEN:
        return PollOutcome.IGNORED
    question = questions_of(consultation)[0]
    values = poll_values(question)
    if any(not 0 <= i < len(values) for i in option_ids):
        return PollOutcome.IGNORED
    chosen = [values[i] for i in option_ids]
    assert consultation.id is not None  # loaded from the database
    await insert_ignore(
        session,
        table_of(ConsultationResponse),
        ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, cursor=None).model_dump(exclude={"id"}),
        ["consultation_id", "resident_id"],
    )
    response = await find_response(session, consultation.id, resident.id)
    assert response is not None
    view = await _view(session, consultation, response)
    if not chosen:  # the resident took their vote back
        await session.execute(delete(ConsultationAnswer).where(col(ConsultationAnswer.response_id) == response.id))
        response.status = ResponseStatus.IN_PROGRESS
        response.submitted_at = None
        outcome = PollOutcome.RETRACTED
    else:
        _remember(view, 0, question.from_poll(chosen))
        await _save(session, view, 0, now)
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at = now
        outcome = PollOutcome.RECORDED
    response.cursor = None
    response.step += 1
    response.updated_at = now
    session.add(response)
    await session.flush()
    return outcome


async def stop_polls(session: AsyncSession, consultation_id: int) -> int:
    """Queue stopPoll for every native poll of a consultation still open; returns how many."""
    polls = (
        await session.scalars(
            select(ConsultationPoll).where(
                col(ConsultationPoll.consultation_id) == consultation_id, col(ConsultationPoll.status) == "open"
            )
        )
    ).all()
    for poll in polls:
        await outbox.enqueue(
            session,
            chat_id=poll.chat_id,
            method="stopPoll",
            payload={"chat_id": poll.chat_id, "message_id": poll.message_id},
            resident_id=poll.resident_id,
            kind=POLL_STOP_KIND,
            dedupe_key=f"pollstop:{poll.id}",
        )
        poll.status = "stopped"
        session.add(poll)
    await session.flush()
    return len(polls)
