"""Reports in the domain: rules of the category, duplicates nearby, the workflow and its history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.audit import Source
from participation.reports import (
    FixedAnswer,
    FollowOutcome,
    PhotoIn,
    Problem,
    ReportError,
    Status,
    answer_fixed_question,
    change_status,
    create_report,
    find_nearby,
    follow,
    history_of,
    reports_of,
)
from participation.residents import get_or_create_resident
from storage.models import AuditEntry, Report, ReportFollower, ReportPhoto
from tests.participation.reports_support import RecordingNotifier, load_categories

LAT, LON = 45.7772, 3.0870


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_report_gets_a_reference_and_reaches_the_agents(session: AsyncSession) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 501)
    notifier = RecordingNotifier()
    report = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Un gros trou devant l’école",
        photos=[PhotoIn("file-1", "u1")],
        lat=LAT,
        lon=LON,
        address=None,
        resident=camille,
        source=Source.CHAT,
        notifier=notifier,
    )
    assert report.ref == f"PAL-{report.created_at.year}-{report.id:06d}"
    assert report.status == Status.NEW
    assert notifier.calls == [("created", report.ref)]
    photo = await session.scalar(select(ReportPhoto))
    assert photo is not None and photo.file_id == "file-1"
    assert [c.to_status for c in await history_of(session, report)] == ["new"]


@pytest.mark.parametrize(
    ("code", "kwargs", "problem"),
    [
        ("proprete-depot", {"photos": [], "lat": LAT, "lon": LON}, Problem.PHOTO_REQUIRED),
        ("voirie-chaussee", {"photos": [], "lat": None, "lon": None}, Problem.LOCATION_REQUIRED),
        ("voirie-chaussee", {"photos": [], "lat": 91.0, "lon": LON}, Problem.BAD_COORDINATES),
        ("voirie-chaussee", {"photos": [], "lat": LAT, "lon": -181.0}, Problem.BAD_COORDINATES),
        ("voirie-chaussee", {"photos": [], "lat": LAT, "lon": LON, "description": "x" * 2001}, Problem.DESCRIPTION_TOO_LONG),
    ],
)
async def test_refused_reports_store_nothing(session: AsyncSession, code: str, kwargs: dict, problem: Problem) -> None:  # type: ignore[type-arg]
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 502)
    arguments = {"description": "Un problème", "address": None, **kwargs}
    with pytest.raises(ReportError) as caught:
        await create_report(
            session, category=categories[code], resident=camille, source=Source.CHAT, notifier=RecordingNotifier(), **arguments
        )
    assert caught.value.problem == problem
    assert await count(session, Report) == 0


async def test_location_optional_category_accepts_no_place_and_typed_address_is_kept(session: AsyncSession) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 503)
    noise = await create_report(
        session,
        category=categories["bruit"],
        description="Musique la nuit",
        photos=[],
        lat=None,
        lon=None,
        address=None,
        resident=camille,
        source=Source.CHAT,
        notifier=RecordingNotifier(),
    )
    typed = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Trou",
        photos=[],
        lat=None,
        lon=None,
        address="  12 rue  de la Paix ",
        resident=camille,
        source=Source.CHAT,
        notifier=RecordingNotifier(),
    )
    assert noise.lat is None and noise.address is None
    assert typed.address == "12 rue de la Paix"


async def test_nearby_open_reports_of_the_same_category_from_the_last_30_days(session: AsyncSession) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 504)
    notifier = RecordingNotifier()

    async def file(code: str, lat: float, lon: float) -> Report:
        return await create_report(
            session,
            category=categories[code],
            description="Trou dans la chaussée",
            photos=[PhotoIn("f")],
            lat=lat,
            lon=lon,
            address=None,
            resident=camille,
            source=Source.CHAT,
            notifier=notifier,
        )

    near = await file("voirie-chaussee", LAT, LON)
    await file("voirie-chaussee", LAT + 0.001, LON)  # about 111 m north: too far
    await file("proprete-depot", LAT, LON)  # another category
    old = await file("voirie-chaussee", LAT, LON + 0.0001)
    old.created_at = old.created_at - timedelta(days=31)
    closed = await file("voirie-chaussee", LAT, LON - 0.0001)
    await change_status(session, closed, Status.FIXED, author_telegram_id=9, note=None, source=Source.CLI, notifier=notifier)
    await session.flush()

    found = await find_nearby(session, category_id=categories["voirie-chaussee"].id, lat=LAT + 0.0002, lon=LON)  # ~22 m
    assert [n.report.ref for n in found] == [near.ref]
    assert 20 < found[0].distance_m < 25


async def test_workflow_records_history_notifies_and_refuses_forbidden_transitions(session: AsyncSession) -> None:
    categories = await load_categories(session)
    reporter = await get_or_create_resident(session, 601)
    neighbour = await get_or_create_resident(session, 602)
    notifier = RecordingNotifier()
    report = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Trou",
        photos=[],
        lat=LAT,
        lon=LON,
        address=None,
        resident=reporter,
        source=Source.CHAT,
        notifier=notifier,
    )
    assert await follow(session, report, neighbour) == FollowOutcome.FOLLOWING
    assert await follow(session, report, neighbour) == FollowOutcome.ALREADY
    assert await follow(session, report, reporter) == FollowOutcome.OWN

    await change_status(session, report, "acknowledged", author_telegram_id=77, note=None, source=Source.CHAT, notifier=notifier)
    await change_status(
        session, report, Status.FIXED, author_telegram_id=77, note="Rebouché ce matin", source=Source.CHAT, notifier=notifier
    )
    with pytest.raises(ReportError) as caught:
        await change_status(session, report, Status.NEW, author_telegram_id=77, note=None, source=Source.CHAT, notifier=notifier)
    assert caught.value.problem == Problem.TRANSITION_NOT_ALLOWED
    with pytest.raises(ReportError):
        await change_status(session, report, "repaired", author_telegram_id=77, note=None, source=Source.CLI, notifier=notifier)

    assert notifier.calls[1:] == [
        ("status", (report.ref, "acknowledged", None, [601, 602], None)),
        ("status", (report.ref, "fixed", "Rebouché ce matin", [601, 602], 601)),
    ]
    history = await history_of(session, report)
    assert [(h.to_status, h.author_telegram_id, h.note) for h in history] == [
        ("new", None, None),
        ("acknowledged", 77, None),
        ("fixed", 77, "Rebouché ce matin"),
    ]
    assert report.closed_at is not None
    audited = (await session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "report.status"))).all()
    assert audited == [{"from": "new", "to": "acknowledged"}, {"from": "acknowledged", "to": "fixed"}]

    # Only the reporter's "no" counts, once: it reopens and tells the followers and the agents.
    assert await answer_fixed_question(session, report, neighbour, False, notifier=notifier) == FixedAnswer.NOT_ASKED
    assert await answer_fixed_question(session, report, reporter, False, notifier=notifier) == FixedAnswer.REOPENED
    assert await answer_fixed_question(session, report, reporter, False, notifier=notifier) == FixedAnswer.NOT_ASKED
    assert report.status == Status.ACKNOWLEDGED and report.closed_at is None
    assert notifier.calls[-2:] == [("status", (report.ref, "acknowledged", None, [602], None)), ("reopened", report.ref)]


async def test_duplicate_moves_followers_to_the_original(session: AsyncSession) -> None:
    categories = await load_categories(session)
    first_reporter = await get_or_create_resident(session, 701)
    second_reporter = await get_or_create_resident(session, 702)
    notifier = RecordingNotifier()
    original = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Trou",
        photos=[],
        lat=LAT,
        lon=LON,
        address=None,
        resident=first_reporter,
        source=Source.CHAT,
        notifier=notifier,
    )
    copy = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Même trou",
        photos=[],
        lat=LAT,
        lon=LON,
        address=None,
        resident=second_reporter,
        source=Source.CHAT,
        notifier=notifier,
    )
    with pytest.raises(ReportError):
        await change_status(
            session,
            copy,
            Status.DUPLICATE,
            author_telegram_id=77,
            note=None,
            source=Source.CHAT,
            notifier=notifier,
            duplicate_of=copy,
        )
    await change_status(
        session,
        copy,
        Status.DUPLICATE,
        author_telegram_id=77,
        note=None,
        source=Source.CHAT,
        notifier=notifier,
        duplicate_of=original,
    )
    assert copy.duplicate_of_id == original.id
    mine = await reports_of(session, second_reporter)
    assert [(m.report.ref, m.mine) for m in mine] == [(copy.ref, True), (original.ref, False)]


async def test_mydata_lists_reports_and_forget_keeps_them_without_a_link_or_what_was_typed(session: AsyncSession, engine) -> None:  # type: ignore[no-untyped-def]
    from participation.privacy import erase_resident, personal_data
    from tests.dbscan import find_in_database

    categories = await load_categories(session)
    reporter = await get_or_create_resident(session, 912345)
    neighbour = await get_or_create_resident(session, 912346)
    notifier = RecordingNotifier()
    report = await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="Trou rue Blatin",
        photos=[PhotoIn("f")],
        lat=LAT,
        lon=LON,
        address=None,
        resident=reporter,
        source=Source.CHAT,
        notifier=notifier,
    )
    other = await create_report(
        session,
        category=categories["bruit"],
        description="Fête",
        photos=[],
        lat=None,
        lon=None,
        address=None,
        resident=neighbour,
        source=Source.CHAT,
        notifier=notifier,
    )
    await follow(session, other, reporter)
    await change_status(session, report, Status.FIXED, author_telegram_id=5, note=None, source=Source.CLI, notifier=notifier)
    await answer_fixed_question(session, report, reporter, False, notifier=notifier)  # history names the reporter

    data = await personal_data(session, reporter)
    assert [(r["ref"], r["description"], r["photos"]) for r in data["reports"]] == [(report.ref, "Trou rue Blatin", 1)]
    assert [r["ref"] for r in data["followed_reports"]] == [other.ref]

    await erase_resident(session, reporter)
    await session.commit()
    assert await find_in_database(engine, ["912345", "Trou rue Blatin"]) == []
    kept = await session.get(Report, report.id)
    # The problem stays known (category, place, status); what the reporter typed does not.
    assert kept is not None and kept.resident_id is None and kept.description == "" and kept.lat == LAT
    assert await reports_of(session, neighbour) != [] and (await count(session, ReportFollower)) == 0


async def test_a_located_report_belongs_to_the_neighbourhood_whose_area_contains_it(session: AsyncSession) -> None:
    from storage.models import Neighbourhood

    square = [[[3.08, 45.77], [3.09, 45.77], [3.09, 45.78], [3.08, 45.78], [3.08, 45.77]]]
    session.add_all(
        [
            Neighbourhood(code="nord", names={"fr": "Nord"}, area=None, position=0),
            Neighbourhood(code="centre", names={"fr": "Centre"}, area={"type": "Polygon", "coordinates": square}, position=1),
        ]
    )
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 940)

    async def file(lat: float | None, lon: float | None, address: str | None = None) -> Report:
        return await create_report(
            session,
            category=categories["voirie-chaussee"],
            description="Trou",
            photos=[],
            lat=lat,
            lon=lon,
            address=address,
            resident=camille,
            source=Source.CHAT,
            notifier=RecordingNotifier(),
        )

    assert (await file(45.775, 3.085)).neighbourhood == "centre"
    assert (await file(45.80, 3.085)).neighbourhood is None
    assert (await file(None, None, "12 rue de la Paix")).neighbourhood is None
