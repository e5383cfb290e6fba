"""Consultations: statuses and refusals, import and publication, listing, audience, participants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from participation.consultations.files import ConsultationSpec
from storage.models import (
    Consultation,
    ConsultationResponse,
    Resident,
)
from storage.types import utcnow


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ResponseStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class ConsultationLocked(Exception):
    """Re-importing a slug that residents have already answered."""

    def __init__(self, responses: int) -> None:
        super().__init__(f"{responses} responses")
        self.responses = responses


def status_at(consultation: Consultation, now: datetime | None = None) -> Status:
    """The status that counts: the times decide, whatever the scheduler has done yet."""
    now = now or utcnow()
    if consultation.status == Status.DRAFT:
        return Status.DRAFT
    if consultation.status == Status.CLOSED or now >= consultation.closes_at:
        return Status.CLOSED
    if now < consultation.opens_at:
        return Status.SCHEDULED
    return Status.OPEN


def in_audience(consultation: Consultation, resident: Resident) -> bool:
    """Everyone when no neighbourhood is set; otherwise residents of those neighbourhoods."""
    return not consultation.neighbourhoods or resident.neighbourhood in consultation.neighbourhoods


class ImportOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


async def get_consultation(session: AsyncSession, consultation_id: int) -> Consultation | None:
    return await session.get(Consultation, consultation_id)


async def get_by_slug(session: AsyncSession, slug: str) -> Consultation | None:
    return await session.scalar(select(Consultation).where(col(Consultation.slug) == slug))


async def count_responses(session: AsyncSession, consultation_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(ConsultationResponse)
            .where(col(ConsultationResponse.consultation_id) == consultation_id)
        )
        or 0
    )


async def import_consultation(
    session: AsyncSession,
    spec: ConsultationSpec,
    *,
    actor_telegram_id: int | None,
    source: audit.Source,
    draft: bool = False,
) -> tuple[Consultation, ImportOutcome]:
    """Create the consultation, or replace one of the same slug that nobody has answered yet."""
    existing = await get_by_slug(session, spec.slug)
    if existing is not None:
        assert existing.id is not None  # loaded from the database
        responses = await count_responses(session, existing.id)
        if responses:
            raise ConsultationLocked(responses)
    consultation = existing or Consultation(slug=spec.slug, opens_at=spec.opens_at, closes_at=spec.closes_at)
    consultation.title = spec.title
    consultation.description = spec.description
    consultation.topic = spec.topic
    consultation.neighbourhoods = spec.neighbourhoods
    consultation.opens_at = spec.opens_at
    consultation.closes_at = spec.closes_at
    consultation.reminders = spec.reminders
    consultation.questions = spec.stored_questions()
    consultation.status = Status.DRAFT if draft else Status.SCHEDULED
    consultation.updated_at = utcnow()
    if existing is None:
        consultation.created_by = actor_telegram_id
    session.add(consultation)
    await session.flush()
    outcome = ImportOutcome.UPDATED if existing is not None else ImportOutcome.CREATED
    await audit.record(
        session,
        actor_telegram_id=actor_telegram_id,
        source=source,
        action=f"consultation.{outcome.value}" if not draft else "consultation.draft",
        subject=spec.slug,
        detail={"questions": len(spec.questions)},
    )
    return consultation, outcome


async def publish(
    session: AsyncSession, consultation: Consultation, *, actor_telegram_id: int | None, source: audit.Source
) -> bool:
    """A draft built in the chat becomes scheduled (and opens at its time); False if not a draft."""
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Consultation)
            .where(col(Consultation.id) == consultation.id, col(Consultation.status) == Status.DRAFT)
            .values(status=Status.SCHEDULED, updated_at=utcnow())
        ),
    )
    if not result.rowcount:
        return False
    await session.refresh(consultation)
    await audit.record(
        session, actor_telegram_id=actor_telegram_id, source=source, action="consultation.publish", subject=consultation.slug
    )
    return True


@dataclass(frozen=True)
class ConsultationRow:
    consultation: Consultation
    status: Status
    started: int
    submitted: int


async def list_consultations(session: AsyncSession, now: datetime | None = None) -> list[ConsultationRow]:
    """Every consultation with its status and participation, newest opening first."""
    counts = {
        (cid, status): count
        for cid, status, count in (
            await session.execute(
                select(col(ConsultationResponse.consultation_id), col(ConsultationResponse.status), func.count()).group_by(
                    col(ConsultationResponse.consultation_id), col(ConsultationResponse.status)
                )
            )
        ).all()
    }
    rows = []
    for consultation in await session.scalars(
        select(Consultation).order_by(col(Consultation.opens_at).desc(), col(Consultation.id))
    ):
        cid = consultation.id or 0  # loaded from the database: always set
        submitted = counts.get((cid, ResponseStatus.SUBMITTED.value), 0)
        in_progress = counts.get((cid, ResponseStatus.IN_PROGRESS.value), 0)
        rows.append(ConsultationRow(consultation, status_at(consultation, now), submitted + in_progress, submitted))
    return rows


@dataclass(frozen=True)
class OpenConsultation:
    consultation: Consultation
    response_status: ResponseStatus | None  # None when the resident has not started it


async def open_for(session: AsyncSession, resident: Resident, now: datetime | None = None) -> list[OpenConsultation]:
    """The consultations open now and meant for this resident, with where they stand in each."""
    now = now or utcnow()
    candidates = await session.scalars(
        select(Consultation)
        .where(
            col(Consultation.status).in_([Status.SCHEDULED, Status.OPEN]),
            col(Consultation.opens_at) <= now,
            col(Consultation.closes_at) > now,
        )
        .order_by(col(Consultation.closes_at), col(Consultation.id))
    )
    mine = {
        cid: ResponseStatus(status)
        for cid, status in (
            await session.execute(
                select(col(ConsultationResponse.consultation_id), col(ConsultationResponse.status)).where(
                    col(ConsultationResponse.resident_id) == resident.id
                )
            )
        ).all()
    }
    return [OpenConsultation(c, mine.get(c.id or 0)) for c in candidates if in_audience(c, resident)]


# --- Participants (for reminders and publication) -----------------------------------------------


@dataclass(frozen=True)
class Participants:
    submitted: list[Resident]
    unfinished: list[Resident]  # started without submitting


async def participants(session: AsyncSession, consultation_id: int) -> Participants:
    """Who took part (submitted) and who started without finishing; erased residents are left out."""
    rows = (
        await session.execute(
            select(Resident, col(ConsultationResponse.status))
            .join(ConsultationResponse, col(ConsultationResponse.resident_id) == col(Resident.id))
            .where(col(ConsultationResponse.consultation_id) == consultation_id, col(Resident.erased_at).is_(None))
            .order_by(col(Resident.id))
        )
    ).all()
    return Participants(
        submitted=[r for r, status in rows if status == ResponseStatus.SUBMITTED],
        unfinished=[r for r, status in rows if status == ResponseStatus.IN_PROGRESS],
    )
