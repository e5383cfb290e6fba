"""What a resident's contributions changed: their consultations and whether the council decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import publication
from participation.consultations import ResponseStatus
from participation.reports import CLOSED_STATUSES, reports_of
from participation.reports import Status as ReportStatus
from storage.models import Consultation, ConsultationResponse, Resident


@dataclass(frozen=True)
class Publication:
    """The outcome the council published for a consultation: when, and the decision text."""

    published_at: datetime
    decision: str


async def publication_of(session: AsyncSession, consultation_id: int) -> Publication | None:
    """The published outcome of a consultation (participation/publication.py), or None while there is none."""
    row = await publication.publication_of(session, consultation_id)
    return None if row is None else Publication(published_at=row.published_at, decision=row.decision)


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
class ReportImpact:
    ref: str
    category: dict[str, str]
    status: str
    mine: bool  # False: a report they follow
    created_at: datetime
    closed_at: datetime | None

    @property
    def time_to_resolution(self) -> timedelta | None:
        if self.closed_at is None or self.status not in CLOSED_STATUSES:
            return None
        return self.closed_at - self.created_at


@dataclass(frozen=True)
class Impact:
    consultations: list[ConsultationImpact]
    reports: list[ReportImpact]

    @property
    def my_reports(self) -> int:
        return sum(1 for item in self.reports if item.mine)

    @property
    def my_reports_fixed(self) -> int:
        return sum(1 for item in self.reports if item.mine and item.status == ReportStatus.FIXED)

    @property
    def took_part(self) -> int:
        return sum(1 for item in self.consultations if item.finished)

    @property
    def decided(self) -> int:
        return sum(1 for item in self.consultations if item.finished and item.publication is not None)


async def consultations_of(session: AsyncSession, resident: Resident, *, now: datetime) -> list[ConsultationImpact]:
    """The consultations the resident answered (or started), most recent first."""
    rows = await session.execute(
        select(Consultation, col(ConsultationResponse.status))
        .join(ConsultationResponse, col(ConsultationResponse.consultation_id) == col(Consultation.id))
        .where(col(ConsultationResponse.resident_id) == resident.id)
        .order_by(col(Consultation.closes_at).desc(), col(Consultation.id).desc())
    )
    impacts: list[ConsultationImpact] = []
    for c, status in rows.all():
        assert c.id is not None  # read from the table
        impacts.append(
            ConsultationImpact(
                consultation_id=c.id,
                slug=c.slug,
                title=c.title,
                closes_at=c.closes_at,
                closed=c.closes_at <= now,
                finished=status == ResponseStatus.SUBMITTED,
                publication=await publication_of(session, c.id),
            )
        )
    return impacts


async def impact_of(session: AsyncSession, resident: Resident, *, now: datetime) -> Impact:
    """Everything /impact shows a resident."""
    reports = [
        ReportImpact(
            ref=item.report.ref,
            category=item.category.name,
            status=item.report.status,
            mine=item.mine,
            created_at=item.report.created_at,
            closed_at=item.report.closed_at,
        )
        for item in await reports_of(session, resident, limit=20)
    ]
    return Impact(consultations=await consultations_of(session, resident, now=now), reports=reports)
