"""What a resident's contributions changed: their consultations and whether the council decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.consultations import ResponseStatus
from storage.models import Consultation, ConsultationResponse, Resident


@dataclass(frozen=True)
class Publication:
    """The outcome the council published for a consultation: when, and its decision per locale."""

    published_at: datetime
    decision: dict[str, str]


async def publication_of(session: AsyncSession, consultation_id: int) -> Publication | None:
    """The published outcome of a consultation, or None while there is none.

    Results publication lives on another branch; until it is merged nothing is ever published,
    and this is the one place to connect it.
    """
    del session, consultation_id
    return None


@dataclass(frozen=True)
class ConsultationImpact:
    consultation_id: int
    slug: str
    title: dict[str, str]
    closes_at: datetime
    closed: bool
    finished: bool  # the resident submitted their response
    publication: Publication | None


@dataclass(frozen=True)
class Impact:
    consultations: list[ConsultationImpact]

    @property
    def took_part(self) -> int:
        return sum(1 for item in self.consultations if item.finished)

    @property
    def decided(self) -> int:
        return sum(1 for item in self.consultations if item.finished and item.publication is not None)


async def consultations_of(session: AsyncSession, resident: Resident, *, now: datetime) -> list[ConsultationImpact]:
    """The consultations the resident answered (or started), most recent first."""
    rows = await session.execute(
        select(Consultation, ConsultationResponse.status)
        .join(ConsultationResponse, ConsultationResponse.consultation_id == Consultation.id)
        .where(ConsultationResponse.resident_id == resident.id)
        .order_by(Consultation.closes_at.desc(), Consultation.id.desc())
    )
    return [
        ConsultationImpact(
            consultation_id=c.id,  # type: ignore[arg-type]
            slug=c.slug,
            title=c.title,
            closes_at=c.closes_at,
            closed=c.closes_at <= now,
            finished=status == ResponseStatus.SUBMITTED,
            publication=await publication_of(session, c.id),  # type: ignore[arg-type]
        )
        for c, status in rows.all()
    ]


async def impact_of(session: AsyncSession, resident: Resident, *, now: datetime) -> Impact:
    """Everything /impact shows a resident."""
    return Impact(consultations=await consultations_of(session, resident, now=now))
