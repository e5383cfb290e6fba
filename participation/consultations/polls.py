"""Native polls: a one-question consultation sent as a Telegram poll, counted with the chat's answers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from participation import outbox
from participation.consultations.answering import _remember, _save, _view, find_response
from participation.consultations.catalog import ResponseStatus, Status, in_audience, status_at
from storage.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationPoll,
    ConsultationResponse,
    Resident,
)
from storage.types import utcnow
from storage.upsert import insert_ignore

POLL_TYPES = ("single", "yesno", "multiple")
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
    question = consultation.questions[0]
    if question["type"] not in POLL_TYPES or question.get("other"):
        return PollRefusal.WRONG_TYPE
    if status_at(consultation, now) != Status.OPEN:
        return PollRefusal.NOT_OPEN
    return None


async def poll_audience(session: AsyncSession, consultation: Consultation) -> list[Resident]:
    """Residents who consented, are reachable, are in the audience and have no poll yet for it."""
    already = select(ConsultationPoll.resident_id).where(ConsultationPoll.consultation_id == consultation.id)
    residents = await session.scalars(
        select(Resident)
        .where(
            Resident.consent_at.is_not(None),
            Resident.erased_at.is_(None),
            Resident.unreachable_at.is_(None),
            Resident.telegram_id.is_not(None),
            Resident.id.not_in(already),
        )
        .order_by(Resident.id)
    )
    return [r for r in residents if in_audience(consultation, r)]


def poll_values(question: dict[str, Any]) -> list[Any]:
    """The answer value behind each option of the native poll, in order."""
    if question["type"] == "yesno":
        return ["yes", "no"]
    return [choice["id"] for choice in question["choices"]]


def poll_dedupe_key(consultation_id: int, resident_id: int) -> str:
    return f"poll:{consultation_id}:{resident_id}"


async def register_poll(session: AsyncSession, consultation: Consultation, resident: Resident) -> bool:
    """Remember that a poll goes to this resident; False when one already did (nothing to send)."""
    return await insert_ignore(
        session,
        ConsultationPoll.__table__,  # type: ignore[arg-type]
        ConsultationPoll(consultation_id=consultation.id, resident_id=resident.id, chat_id=resident.telegram_id).model_dump(
            exclude={"id"}
        ),  # type: ignore[arg-type]
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
        .where(ConsultationPoll.consultation_id == int(parts[1]), ConsultationPoll.resident_id == int(parts[2]))
        .values(poll_id=poll.id, message_id=result.message_id, status="open")
    )
    # Delivered after the consultation closed (a long queue): stop it at once like the others.
    consultation = await session.get(Consultation, int(parts[1]))
    if consultation is not None and status_at(consultation) == Status.CLOSED:
        await stop_polls(session, consultation.id)  # type: ignore[arg-type]


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
    poll = await session.scalar(select(ConsultationPoll).where(ConsultationPoll.poll_id == poll_id))
    if poll is None:
        return PollOutcome.UNKNOWN_POLL
    if resident is None or poll.resident_id != resident.id:
        return PollOutcome.IGNORED
    consultation = await session.get(Consultation, poll.consultation_id)
    if consultation is None or status_at(consultation, now) != Status.OPEN:
        return PollOutcome.IGNORED
    question = consultation.questions[0]
    values = poll_values(question)
    if any(not 0 <= i < len(values) for i in option_ids):
        return PollOutcome.IGNORED
    chosen = [values[i] for i in option_ids]
    await insert_ignore(
        session,
        ConsultationResponse.__table__,  # type: ignore[arg-type]
        ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, cursor=None).model_dump(exclude={"id"}),  # type: ignore[arg-type]
        ["consultation_id", "resident_id"],
    )
    response = await find_response(session, consultation.id, resident.id)  # type: ignore[arg-type]
    assert response is not None
    view = await _view(session, consultation, response)
    if not chosen:  # the resident took their vote back
        await session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.response_id == response.id))
        response.status = ResponseStatus.IN_PROGRESS
        response.submitted_at = None
        outcome = PollOutcome.RETRACTED
    else:
        value = chosen if question["type"] == "multiple" else chosen[0]
        if question["type"] == "multiple" and question.get("max") and len(chosen) > question["max"]:
            value = chosen[: question["max"]]
        _remember(view, 0, value)
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
            select(ConsultationPoll).where(ConsultationPoll.consultation_id == consultation_id, ConsultationPoll.status == "open")
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
