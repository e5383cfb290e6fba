"""Figures for the council: who takes part, how often, with what effect (PRODUCT.md, "Measuring success").

Plain functions over a period [start, end) returning dataclasses; rendering lives in notices/stats_report.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.consultations import ResponseStatus
from participation.impact import publication_of
from participation.population import load_margins
from participation.reports import CLOSED_STATUSES, OPEN_STATUSES
from participation.reports import Status as ReportStatus
from participation.residents import AgeBracket
from participation.satisfaction import SCORES, period_start
from participation.weighting import GroupFigure, Margins, group_figures
from storage.models import (
    Consultation,
    ConsultationResponse,
    Feedback,
    Neighbourhood,
    Report,
    ReportCategory,
    ReportStatusChange,
    Resident,
    SatisfactionAnswer,
)


@dataclass(frozen=True)
class ResidentFigures:
    total: int  # consenting, not erased, at the end of the period
    new_per_week: list[tuple[date, int]]  # Monday of each week in the period -> consents given
    active: int  # did anything in the period (used the bot, answered, wrote)
    unreachable: int  # blocked the bot


@dataclass(frozen=True)
class Share:
    """One group of a consultation's audience (a neighbourhood, an age bracket) against its participants."""

    code: str | None  # None: the residents who did not give theirs
    residents: int
    resident_share: float
    participants: int
    participant_share: float
    population_share: float | None = None  # share of the commune's population (None without margins)


@dataclass(frozen=True)
class PopulationFigures:
    """Who took part in the period's consultations against the commune's population (issue 18)."""

    source: str
    total: int  # inhabitants aged 15 and over
    participants: int  # distinct residents who submitted a response in the period
    groups: list[GroupFigure]  # by neighbourhood, then by age bracket


@dataclass(frozen=True)
class ConsultationFigures:
    slug: str
    title: dict[str, str]
    opens_at: datetime
    closes_at: datetime
    audience: int
    started: int
    finished: int
    participation_rate: float | None  # started / audience
    completion_rate: float | None  # finished / started
    published: bool
    by_neighbourhood: list[Share]
    by_age_bracket: list[Share]


@dataclass(frozen=True)
class SatisfactionFigures:
    answers: int
    mean: float | None
    distribution: dict[int, int]
    trend: list[tuple[date, float, int]]  # start of each period, mean score, answers


@dataclass(frozen=True)
class FeedbackFigures:
    received: int
    answered: int


@dataclass(frozen=True)
class CategoryFigures:
    code: str
    name: dict[str, str]
    opened: int
    closed: int
    median_hours: float | None  # time from filing to closing, of the reports closed in the period
    p90_hours: float | None


@dataclass(frozen=True)
class ReportFigures:
    opened: int
    closed: int
    median_hours: float | None
    p90_hours: float | None
    reopened: int  # taken back from "fixed" to an open status (the reporter's "not fixed")
    by_category: list[CategoryFigures]


@dataclass(frozen=True)
class Stats:
    start: datetime
    end: datetime
    residents: ResidentFigures
    consultations: list[ConsultationFigures]
    closed_consultations: int
    published_consultations: int
    satisfaction: SatisfactionFigures
    feedback: FeedbackFigures
    reports: ReportFigures
    population: PopulationFigures | None = None

    @property
    def published_share(self) -> float | None:
        if not self.closed_consultations:
            return None
        return self.published_consultations / self.closed_consultations


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _monday(at: datetime) -> date:
    day = at.date()
    return day - timedelta(days=day.weekday())


def _living() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (col(Resident.consent_at).is_not(None), col(Resident.erased_at).is_(None))


async def resident_figures(session: AsyncSession, start: datetime, end: datetime) -> ResidentFigures:
    total = await session.scalar(select(func.count()).select_from(Resident).where(*_living(), col(Resident.consent_at) < end))
    unreachable = await session.scalar(
        select(func.count()).select_from(Resident).where(*_living(), col(Resident.unreachable_at).is_not(None))
    )
    consents = list(
        await session.scalars(
            select(col(Resident.consent_at)).where(*_living(), col(Resident.consent_at) >= start, col(Resident.consent_at) < end)
        )
    )
    per_week = Counter(_monday(at) for at in consents if at is not None)  # the query kept consented ones only
    weeks = []
    monday = _monday(start)
    while datetime.combine(monday, datetime.min.time(), tzinfo=start.tzinfo) < end:
        weeks.append((monday, per_week.get(monday, 0)))
        monday += timedelta(days=7)
    active_ids: set[int] = set(
        await session.scalars(
            select(col(Resident.id)).where(*_living(), col(Resident.last_active_at) >= start, col(Resident.last_active_at) < end)
        )
    )
    active_ids.update(
        await session.scalars(
            select(col(ConsultationResponse.resident_id)).where(
                or_(
                    (col(ConsultationResponse.started_at) >= start) & (col(ConsultationResponse.started_at) < end),
                    (col(ConsultationResponse.updated_at) >= start) & (col(ConsultationResponse.updated_at) < end),
                )
            )
        )
    )
    active_ids.update(
        await session.scalars(
            select(col(Feedback.resident_id)).where(col(Feedback.created_at) >= start, col(Feedback.created_at) < end)
        )
    )
    active_ids.update(
        await session.scalars(
            select(col(SatisfactionAnswer.resident_id)).where(
                col(SatisfactionAnswer.answered_at) >= start,
                col(SatisfactionAnswer.answered_at) < end,
                col(SatisfactionAnswer.resident_id).is_not(None),
            )
        )
    )
    living = set(await session.scalars(select(col(Resident.id)).where(*_living())))
    return ResidentFigures(total=total or 0, new_per_week=weeks, active=len(active_ids & living), unreachable=unreachable or 0)


def _shares(
    codes: list[str | None], audience: list[str | None], participants: list[str | None], population: dict[str, int] | None = None
) -> list[Share]:
    """How the audience and the participants divide between `codes` (in that order), "not given" last.

    A group shows when it has anyone in the audience or among the participants: an empty one
    would only lengthen the council's report.
    """
    in_audience, taking_part = Counter(audience), Counter(participants)
    shown = [code for code in codes if in_audience.get(code) or taking_part.get(code)]
    if in_audience.get(None) or taking_part.get(None):
        shown.append(None)
    return [
        Share(
            code=code,
            residents=in_audience.get(code, 0),
            resident_share=_ratio(in_audience.get(code, 0), len(audience)) or 0.0,
            participants=taking_part.get(code, 0),
            participant_share=_ratio(taking_part.get(code, 0), len(participants)) or 0.0,
            population_share=None
            if population is None or code is None
            else _ratio(population.get(code, 0), sum(population.values())),
        )
        for code in shown
    ]


async def consultation_figures(
    session: AsyncSession, start: datetime, end: datetime, margins: Margins | None = None
) -> list[ConsultationFigures]:
    """Every consultation open at some time in the period, oldest first."""
    consultations = list(
        await session.scalars(
            select(Consultation)
            .where(col(Consultation.status) != "draft", col(Consultation.opens_at) < end, col(Consultation.closes_at) >= start)
            .order_by(col(Consultation.opens_at), col(Consultation.id))
        )
    )
    residents = (
        await session.execute(
            select(col(Resident.neighbourhood), col(Resident.age_bracket), col(Resident.consent_at)).where(*_living())
        )
    ).all()
    hood_codes: list[str | None] = list(
        await session.scalars(select(col(Neighbourhood.code)).order_by(col(Neighbourhood.position), col(Neighbourhood.code)))
    )
    age_codes: list[str | None] = [bracket.value for bracket in AgeBracket]
    figures = []
    for consultation in consultations:
        assert consultation.id is not None  # a stored consultation
        audience_rows = [
            (hood, age)
            for hood, age, consent_at in residents
            if consent_at is not None
            and consent_at < consultation.closes_at
            and (not consultation.neighbourhoods or hood in consultation.neighbourhoods)
        ]
        rows = (
            await session.execute(
                select(
                    col(ConsultationResponse.status),
                    col(Resident.neighbourhood),
                    col(Resident.age_bracket),
                    col(Resident.erased_at),
                )
                .join(Resident, col(Resident.id) == col(ConsultationResponse.resident_id))
                .where(col(ConsultationResponse.consultation_id) == consultation.id)
            )
        ).all()
        responses = [(status, hood, age) for status, hood, age, _erased in rows]
        started = len(responses)
        finished = sum(1 for status, _hood, _age in responses if status == ResponseStatus.SUBMITTED)
        # Residents who used /forget left the audience but their anonymous answers stay: they were
        # in it when they took part (else « 2 participants sur 1 (200 %) »).
        erased = sum(1 for *_rest, erased_at in rows if erased_at is not None)
        audience = max(len(audience_rows) + erased, started)
        figures.append(
            ConsultationFigures(
                slug=consultation.slug,
                title=consultation.title,
                opens_at=consultation.opens_at,
                closes_at=consultation.closes_at,
                audience=audience,
                started=started,
                finished=finished,
                participation_rate=_ratio(started, audience),
                completion_rate=_ratio(finished, started),
                published=await publication_of(session, consultation.id) is not None,
                by_neighbourhood=_shares(
                    hood_codes,
                    [hood for hood, _age in audience_rows],
                    [hood for _s, hood, _age in responses],
                    None if margins is None else margins.neighbourhoods,
                ),
                by_age_bracket=_shares(
                    age_codes,
                    [age for _hood, age in audience_rows],
                    [age for _s, _hood, age in responses],
                    None if margins is None else margins.age_brackets,
                ),
            )
        )
    return figures


async def satisfaction_figures(session: AsyncSession, start: datetime, end: datetime, interval_days: int) -> SatisfactionFigures:
    rows = (
        await session.execute(
            select(col(SatisfactionAnswer.period), col(SatisfactionAnswer.score)).where(
                col(SatisfactionAnswer.answered_at) >= start, col(SatisfactionAnswer.answered_at) < end
            )
        )
    ).all()
    scores = [score for _period, score in rows]
    by_period: dict[int, list[int]] = {}
    for period, score in rows:
        by_period.setdefault(period, []).append(score)
    trend = [
        (period_start(period, interval_days).date(), sum(values) / len(values), len(values))
        for period, values in sorted(by_period.items())
    ]
    return SatisfactionFigures(
        answers=len(scores),
        mean=sum(scores) / len(scores) if scores else None,
        distribution={score: scores.count(score) for score in SCORES},
        trend=trend,
    )


async def feedback_figures(session: AsyncSession, start: datetime, end: datetime) -> FeedbackFigures:
    rows = list(
        await session.scalars(
            select(col(Feedback.answered_at)).where(col(Feedback.created_at) >= start, col(Feedback.created_at) < end)
        )
    )
    return FeedbackFigures(received=len(rows), answered=sum(1 for at in rows if at is not None))


def quantile(values: list[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between closest ranks (q=0.5: the median)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def report_figures(session: AsyncSession, start: datetime, end: datetime) -> ReportFigures:
    opened = Counter(
        await session.scalars(
            select(col(Report.category_id)).where(col(Report.created_at) >= start, col(Report.created_at) < end)
        )
    )
    closed_rows = (
        await session.execute(
            select(col(Report.category_id), col(Report.created_at), col(Report.closed_at)).where(
                col(Report.closed_at).is_not(None),
                col(Report.closed_at) >= start,
                col(Report.closed_at) < end,
                col(Report.status).in_([s.value for s in CLOSED_STATUSES]),
            )
        )
    ).all()
    hours: dict[int, list[float]] = {}
    for category_id, created_at, closed_at in closed_rows:
        assert closed_at is not None  # the query kept closed reports only
        hours.setdefault(category_id, []).append((closed_at - created_at).total_seconds() / 3600)
    reopened = await session.scalar(
        select(func.count(func.distinct(col(ReportStatusChange.report_id)))).where(
            col(ReportStatusChange.from_status) == ReportStatus.FIXED.value,
            col(ReportStatusChange.to_status).in_([s.value for s in OPEN_STATUSES]),
            col(ReportStatusChange.at) >= start,
            col(ReportStatusChange.at) < end,
        )
    )
    categories = list(
        await session.scalars(select(ReportCategory).order_by(col(ReportCategory.position), col(ReportCategory.code)))
    )
    every = [h for values in hours.values() for h in values]
    return ReportFigures(
        opened=sum(opened.values()),
        closed=len(every),
        median_hours=quantile(every, 0.5),
        p90_hours=quantile(every, 0.9),
        reopened=reopened or 0,
        by_category=[
            CategoryFigures(
                code=c.code,
                name=c.name,
                opened=opened.get(c.id, 0),
                closed=len(hours.get(c.id, [])),
                median_hours=quantile(hours.get(c.id, []), 0.5),
                p90_hours=quantile(hours.get(c.id, []), 0.9),
            )
            for c in categories
            if c.id is not None and (opened.get(c.id) or hours.get(c.id))
        ],
    )


async def compute_stats(session: AsyncSession, start: datetime, end: datetime, *, now: datetime, interval_days: int) -> Stats:
    """All the figures for the period [start, end)."""
    margins = await load_margins(session)
    consultations = await consultation_figures(session, start, end, margins)
    closed = [c for c in consultations if start <= c.closes_at < end and c.closes_at <= now]
    return Stats(
        start=start,
        end=end,
        residents=await resident_figures(session, start, end),
        consultations=consultations,
        closed_consultations=len(closed),
        published_consultations=sum(1 for c in closed if c.published),
        satisfaction=await satisfaction_figures(session, start, end, interval_days),
        feedback=await feedback_figures(session, start, end),
        reports=await report_figures(session, start, end),
        population=None if margins is None else await population_figures(session, start, end, margins),
    )


async def population_figures(session: AsyncSession, start: datetime, end: datetime, margins: Margins) -> PopulationFigures:
    """Distinct residents who submitted a response in the period, by group, against the population."""
    rows = (
        await session.execute(
            select(col(Resident.neighbourhood), col(Resident.age_bracket), func.count(func.distinct(col(Resident.id))))
            .join(ConsultationResponse, col(ConsultationResponse.resident_id) == col(Resident.id))
            .where(
                col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
                col(ConsultationResponse.submitted_at) >= start,
                col(ConsultationResponse.submitted_at) < end,
            )
            .group_by(col(Resident.neighbourhood), col(Resident.age_bracket))
        )
    ).all()
    cells = {(hood, age): int(n) for hood, age, n in rows}
    return PopulationFigures(
        source=margins.source, total=margins.total, participants=sum(cells.values()), groups=group_figures(margins, cells)
    )
