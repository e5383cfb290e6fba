"""A resident's consultation data: what /mydata shows and what /forget erases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.consultations.questions import read_questions
from storage.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationPoll,
    ConsultationResponse,
    Resident,
)


async def personal_data(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """The resident's responses, for the /mydata file: consultation, status and every answer."""
    responses = (
        await session.execute(
            select(ConsultationResponse, col(Consultation.slug))
            .join(Consultation, col(Consultation.id) == col(ConsultationResponse.consultation_id))
            .where(col(ConsultationResponse.resident_id) == resident.id)
            .order_by(col(ConsultationResponse.id))
        )
    ).all()
    data = []
    for response, slug in responses:
        answers = await session.scalars(
            select(ConsultationAnswer)
            .where(col(ConsultationAnswer.response_id) == response.id)
            .order_by(col(ConsultationAnswer.id))
        )
        data.append(
            {
                "consultation": slug,
                "status": response.status,
                "started_at": response.started_at.isoformat(),
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": a.question_id, "value": a.value, "other": a.other_text, "answered_at": a.answered_at.isoformat()}
                    for a in answers
                ],
            }
        )
    return data


async def erase_personal_data(session: AsyncSession, resident: Resident) -> None:
    """On /forget: what the resident typed goes; their choices stay, as anonymous counts.

    Native polls are forgotten too: their rows hold the resident's chat id.
    """
    response_ids = select(col(ConsultationResponse.id)).where(col(ConsultationResponse.resident_id) == resident.id)
    typed = []
    for answer, questions in (
        await session.execute(
            select(ConsultationAnswer, col(Consultation.questions))
            .join(ConsultationResponse, col(ConsultationResponse.id) == col(ConsultationAnswer.response_id))
            .join(Consultation, col(Consultation.id) == col(ConsultationResponse.consultation_id))
            .where(col(ConsultationAnswer.response_id).in_(response_ids))
        )
    ).all():
        if answer.question_id in {q.id for q in read_questions(questions) if q.typed}:
            typed.append(answer.id)
    if typed:
        await session.execute(delete(ConsultationAnswer).where(col(ConsultationAnswer.id).in_(typed)))
    await session.execute(
        update(ConsultationAnswer).where(col(ConsultationAnswer.response_id).in_(response_ids)).values(other_text=None)
    )
    await session.execute(delete(ConsultationPoll).where(col(ConsultationPoll.resident_id) == resident.id))
