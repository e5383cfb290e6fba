"""Figures for the council, checked against a generated history counted again, independently, here."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from participation import stats
from participation.privacy import NOTICE_VERSION
from participation.satisfaction import period_of, period_start
from storage.db import SessionMaker
from storage.models import (
    Consultation,
    ConsultationResponse,
    Feedback,
    Neighbourhood,
    Publication,
    Report,
    ReportCategory,
    ReportStatusChange,
    Resident,
    SatisfactionAnswer,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
START = T0 + timedelta(days=30)
END = T0 + timedelta(days=100)
NOW = T0 + timedelta(days=130)
HOODS = ["centre", "nord", None]
AGES = ["15-29", "30-44", "45-59", "60-74", "75-plus", None]  # the brackets in their order, "not given" last
INTERVAL = 30


@dataclass
class Person:
    id: int
    consent_at: datetime | None
    hood: str | None
    age: str | None
    erased: bool
    unreachable: bool
    last_active_at: datetime | None


def at(rng: random.Random, first_day: int, last_day: int) -> datetime:
    return T0 + timedelta(minutes=rng.randrange(first_day * 1440, last_day * 1440))


async def generate(sessionmaker: SessionMaker, seed: int = 8) -> dict[str, object]:
    rng = random.Random(seed)
    people: list[Person] = []
    responses: list[tuple[str, Person, str, datetime]] = []
    feedback: list[tuple[Person, datetime, bool]] = []
    answers: list[tuple[Person, datetime, int]] = []
    async with sessionmaker.begin() as session:
        session.add_all(
            [
                Neighbourhood(code="centre", names={"fr": "Centre"}, position=1),
                Neighbourhood(code="nord", names={"fr": "Nord"}, position=2),
            ]
        )
        for n in range(80):
            erased = rng.random() < 0.1
            consent = at(rng, 0, 120)
            resident = Resident(
                telegram_id=None if erased else 1000 + n,
                locale="fr",
                consent_at=None if erased else consent,
                consent_version=None if erased else NOTICE_VERSION,
                neighbourhood=None if erased else rng.choice(HOODS),
                age_bracket=None if erased else AGES[n % len(AGES)],  # not drawn: the random history stays the same
                unreachable_at=consent + timedelta(days=2) if rng.random() < 0.15 else None,
                erased_at=NOW if erased else None,
                last_active_at=None if erased else consent + timedelta(days=rng.randrange(0, 60)),
                created_at=consent,
            )
            session.add(resident)
            await session.flush()
            people.append(
                Person(
                    resident.id,
                    resident.consent_at,
                    resident.neighbourhood,
                    resident.age_bracket,
                    erased,
                    resident.unreachable_at is not None,
                    resident.last_active_at,
                )
            )  # type: ignore[arg-type]
        specs = [
            ("parc", T0 + timedelta(days=20), T0 + timedelta(days=40), []),
            ("ecole", T0 + timedelta(days=50), T0 + timedelta(days=70), ["centre"]),
            ("marche", T0 + timedelta(days=90), T0 + timedelta(days=125), []),
            ("avant", T0 - timedelta(days=30), T0 + timedelta(days=10), []),
        ]
        for slug, opens, closes, hoods in specs:
            consultation = Consultation(
                slug=slug, title={"fr": slug}, opens_at=opens, closes_at=closes, neighbourhoods=hoods, status="closed"
            )
            session.add(consultation)
            await session.flush()
            if slug in ("parc", "avant"):  # the council published these outcomes
                session.add(Publication(consultation_id=consultation.id, decision="On plante des arbres", source="cli"))  # type: ignore[arg-type]
            for person in people:
                started = opens + timedelta(hours=rng.randrange(1, 24 * 10))
                registered = person.erased or person.consent_at < started  # type: ignore[operator]
                if registered and rng.random() < 0.4 and (not hoods or person.hood in hoods or person.erased):
                    status = "submitted" if rng.random() < 0.7 else "in_progress"
                    session.add(
                        ConsultationResponse(
                            consultation_id=consultation.id,
                            resident_id=person.id,
                            status=status,
                            started_at=started,
                            updated_at=started,
                        )
                    )  # type: ignore[arg-type]
                    responses.append((slug, person, status, started))
        for person in people:
            if not person.erased and rng.random() < 0.3:
                written = at(rng, 0, 120)
                answered = rng.random() < 0.5
                session.add(
                    Feedback(
                        resident_id=person.id,
                        text="idée",
                        created_at=written,
                        answered_at=written + timedelta(days=1) if answered else None,
                    )
                )
                feedback.append((person, written, answered))
            for period in {period_of(at(rng, 0, 120), INTERVAL) for _ in range(2)}:
                if rng.random() < 0.5:
                    answered_at = max(period_start(period, INTERVAL), T0) + timedelta(hours=rng.randrange(1, 200))
                    score = rng.randint(1, 5)
                    session.add(
                        SatisfactionAnswer(
                            period=period, resident_id=None if person.erased else person.id, score=score, answered_at=answered_at
                        )
                    )
                    answers.append((person, answered_at, score, period))
        reports: list[tuple[str, datetime, datetime | None, bool]] = []
        categories = [
            ReportCategory(code="voirie", name={"fr": "Voirie"}, position=1),
            ReportCategory(code="eclairage", name={"fr": "Éclairage"}, position=2),
        ]
        session.add_all(categories)
        await session.flush()
        for n in range(70):
            category = rng.choice(categories)
            created = at(rng, 0, 110)
            closed_at = created + timedelta(hours=rng.randrange(1, 24 * 25)) if rng.random() < 0.7 else None
            reopened_at = None
            if closed_at is not None and rng.random() < 0.2:
                reopened_at, closed_at = closed_at + timedelta(hours=5), None
            report = Report(
                ref=f"R{n}",
                category_id=category.id,
                description="trou",
                created_at=created,  # type: ignore[arg-type]
                status=("acknowledged" if reopened_at else rng.choice(["fixed", "duplicate"]) if closed_at else "new"),
                closed_at=closed_at,
            )
            session.add(report)
            await session.flush()
            if reopened_at is not None:
                session.add(
                    ReportStatusChange(
                        report_id=report.id, from_status="fixed", to_status="acknowledged", source="chat", at=reopened_at
                    )
                )  # type: ignore[arg-type]
            reports.append((category.code, created, closed_at, reopened_at))  # type: ignore[arg-type]
    return {
        "people": people,
        "responses": responses,
        "feedback": feedback,
        "answers": answers,
        "specs": specs,
        "reports": reports,
    }


def p90(values: list[float]) -> float:
    return values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]


def inside(moment: datetime | None) -> bool:
    return moment is not None and START <= moment < END


async def test_every_figure_matches_the_history_counted_independently(sessionmaker: SessionMaker) -> None:
    history = await generate(sessionmaker)
    people: list[Person] = history["people"]  # type: ignore[assignment]
    responses = history["responses"]
    async with sessionmaker() as session:
        figures = await stats.compute_stats(session, START, END, now=NOW, interval_days=INTERVAL)

    living = [p for p in people if not p.erased]
    # Residents.
    assert figures.residents.total == sum(1 for p in living if p.consent_at < END)  # type: ignore[operator]
    assert figures.residents.unreachable == sum(1 for p in living if p.unreachable)
    weekly: Counter[object] = Counter()
    for p in living:
        if inside(p.consent_at):
            day = p.consent_at.date()  # type: ignore[union-attr]
            weekly[day - timedelta(days=day.weekday())] += 1
    assert dict(figures.residents.new_per_week) == {
        monday: weekly.get(monday, 0) for monday, _n in figures.residents.new_per_week
    }
    assert sum(n for _m, n in figures.residents.new_per_week) == sum(weekly.values())
    # From the Monday of the week of 1 April to that of 10 June: 11 weeks, empty ones included.
    assert figures.residents.new_per_week[0][0].isoformat() == "2026-03-30" and len(figures.residents.new_per_week) == 11
    active = {p.id for p in living if inside(p.last_active_at)}
    active |= {p.id for _slug, p, _status, started in responses if inside(started) and not p.erased}  # type: ignore[misc]
    active |= {p.id for p, written, _answered in history["feedback"] if inside(written)}  # type: ignore[misc,attr-defined]
    active |= {p.id for p, answered_at, _s, _per in history["answers"] if inside(answered_at) and not p.erased}  # type: ignore[misc,attr-defined]
    assert figures.residents.active == len(active)

    # Consultations: those open at some time in the period, oldest first.
    assert [c.slug for c in figures.consultations] == ["parc", "ecole", "marche"]
    for figure, (slug, _opens, closes, hoods) in zip(
        figures.consultations, [s for s in history["specs"] if s[0] != "avant"], strict=True
    ):  # type: ignore[attr-defined]
        mine = [(p, status) for s, p, status, _started in responses if s == slug]  # type: ignore[misc]
        audience = [p for p in living if p.consent_at < closes and (not hoods or p.hood in hoods)]  # type: ignore[operator]
        # Residents who erased themselves after taking part were in the audience when they did.
        erased_here = sum(1 for p, _s in mine if p.erased)
        assert (figure.audience, figure.started) == (len(audience) + erased_here, len(mine))
        assert figure.finished == sum(1 for _p, status in mine if status == "submitted")
        assert figure.participation_rate == len(mine) / (len(audience) + erased_here) <= 1
        assert figure.completion_rate == figure.finished / len(mine)
        for shares, field, order in ((figure.by_neighbourhood, "hood", HOODS), (figure.by_age_bracket, "age", AGES)):
            for share in shares:
                residents_here = sum(1 for p in audience if getattr(p, field) == share.code)
                participants_here = sum(1 for p, _s in mine if getattr(p, field) == share.code)
                assert (share.residents, share.participants) == (residents_here, participants_here)
                assert share.resident_share == residents_here / len(audience)
                assert share.participant_share == participants_here / len(mine)
            assert sum(s.participants for s in shares) == len(mine)
            assert sum(s.residents for s in shares) == len(audience)
            assert [s.code for s in shares] == [code for code in order if code in {s.code for s in shares}]
    # parc and ecole closed in the period, parc's outcome was published (avant's is outside the period).
    assert (figures.closed_consultations, figures.published_consultations, figures.published_share) == (2, 1, 0.5)
    assert [c.published for c in figures.consultations] == [True, False, False]

    # Satisfaction.
    scores = [(score, period) for _p, answered_at, score, period in history["answers"] if inside(answered_at)]  # type: ignore[misc,attr-defined]
    assert figures.satisfaction.answers == len(scores) > 0
    assert figures.satisfaction.mean == pytest.approx(statistics.mean(s for s, _ in scores))
    assert figures.satisfaction.distribution == {k: sum(1 for s, _ in scores if s == k) for k in range(1, 6)}
    trend = {
        period_start(per, INTERVAL).date(): statistics.mean(s for s, p in scores if p == per) for per in {p for _, p in scores}
    }
    assert {day: mean for day, mean, _n in figures.satisfaction.trend} == pytest.approx(trend)

    # Reports: opened and closed in the period, time to close per category, reopened after "fixed".
    reports = history["reports"]
    closed = [
        (code, (closed_at - created).total_seconds() / 3600) for code, created, closed_at, _r in reports if inside(closed_at)
    ]  # type: ignore[misc,attr-defined]
    assert figures.reports.opened == sum(1 for _c, created, _cl, _r in reports if inside(created)) > 0  # type: ignore[misc,attr-defined]
    assert figures.reports.closed == len(closed) > 2
    assert figures.reports.median_hours == pytest.approx(statistics.median(h for _c, h in closed))
    assert figures.reports.p90_hours == pytest.approx(p90([h for _c, h in closed]))
    assert figures.reports.reopened == sum(1 for *_x, reopened_at in reports if inside(reopened_at)) > 0  # type: ignore[misc,attr-defined]
    assert [c.code for c in figures.reports.by_category] == ["voirie", "eclairage"]
    for category in figures.reports.by_category:
        hours = [h for code, h in closed if code == category.code]
        assert category.opened == sum(1 for code, created, _cl, _r in reports if code == category.code and inside(created))  # type: ignore[misc,attr-defined]
        assert category.closed == len(hours)
        assert (category.median_hours, category.p90_hours) == pytest.approx((statistics.median(hours), p90(hours)))

    # Feedback.
    in_period = [answered for _p, written, answered in history["feedback"] if inside(written)]  # type: ignore[misc,attr-defined]
    assert (figures.feedback.received, figures.feedback.answered) == (len(in_period), sum(in_period))


async def test_an_empty_period_has_no_rates_rather_than_zero_divisions(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        figures = await stats.compute_stats(session, START, END, now=NOW, interval_days=INTERVAL)
    assert figures.residents.total == figures.residents.active == 0
    assert figures.consultations == [] and figures.published_share is None
    assert figures.satisfaction.mean is None and figures.satisfaction.distribution == dict.fromkeys(range(1, 6), 0)
    assert (figures.reports.opened, figures.reports.closed, figures.reports.median_hours) == (0, 0, None)


async def test_figures_by_age_bracket_set_participants_against_the_audience(sessionmaker: SessionMaker) -> None:
    # The audience: three residents of 15 to 29, one of 75 and over, two who did not say.
    # Taking part: one young resident, the older one, and one who has since erased themselves.
    opens, closes = START + timedelta(days=1), START + timedelta(days=10)
    async with sessionmaker.begin() as session:

        def person(n: int, age: str | None) -> Resident:
            return Resident(telegram_id=5000 + n, locale="fr", consent_at=T0, consent_version=NOTICE_VERSION, age_bracket=age)

        residents = [
            person(1, "15-29"),
            person(2, "15-29"),
            person(3, "15-29"),
            person(4, "75-plus"),
            person(5, None),
            person(6, None),
            Resident(telegram_id=None, erased_at=T0, age_bracket=None),
        ]
        session.add_all(residents)
        consultation = Consultation(slug="bancs", title={"fr": "Bancs"}, opens_at=opens, closes_at=closes, status="closed")
        session.add(consultation)
        await session.flush()
        for resident in (residents[0], residents[3], residents[6]):
            session.add(
                ConsultationResponse(
                    consultation_id=consultation.id,
                    resident_id=resident.id,
                    status="submitted",  # type: ignore[arg-type]
                    started_at=opens,
                    updated_at=opens,
                )
            )
    async with sessionmaker() as session:
        (figure,) = await stats.consultation_figures(session, START, END)
    # Six living residents, and the one who erased themselves after answering: never « 3 sur 2 ».
    assert (figure.audience, figure.started) == (7, 3) and figure.participation_rate == 3 / 7
    assert [(s.code, s.residents, s.participants) for s in figure.by_age_bracket] == [
        ("15-29", 3, 1),
        ("75-plus", 1, 1),
        (None, 2, 1),  # no row for the brackets nobody is in
    ]
    assert [(s.resident_share, s.participant_share) for s in figure.by_age_bracket] == [
        (0.5, 1 / 3),
        (1 / 6, 1 / 3),
        (1 / 3, 1 / 3),
    ]
