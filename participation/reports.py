"""Problem reports: filing, duplicates nearby, followers, the status workflow and its history.

Notifications are enqueued through a `ReportNotifier` handed in by the caller (chat, command line,
Open311): the domain decides who hears what and when; the notifier renders it in each
recipient's language and puts it in the outbox.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from participation.geo import bounding_box, haversine_m, point_in_area, valid_coordinates
from participation.text import clean_text, clean_visible, has_visible
from storage.crypto import cells_covering
from storage.models import Neighbourhood, Report, ReportCategory, ReportFollower, ReportPhoto, ReportStatusChange, Resident
from storage.types import utcnow
from storage.upsert import insert_ignore

MAX_DESCRIPTION = 2000
MIN_DESCRIPTION = 3
MAX_ADDRESS = 300
MAX_NOTE = 1000
MAX_PHOTOS = 5
DUPLICATE_RADIUS_M = 50.0
DUPLICATE_DAYS = 30
MAX_NEARBY = 5


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    ACTION_SCHEDULED = "action_scheduled"
    FIXED = "fixed"
    DUPLICATE = "duplicate"
    NOT_RESPONSIBLE = "not_responsible"
    NO_FURTHER_ACTION = "no_further_action"


OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.ACTION_SCHEDULED})
CLOSED_STATUSES = frozenset({Status.FIXED, Status.DUPLICATE, Status.NOT_RESPONSIBLE, Status.NO_FURTHER_ACTION})
_CLOSING = CLOSED_STATUSES
# Nothing goes back to `new`; a closed report can be reopened (acknowledged or in progress).
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.ACTION_SCHEDULED}) | _CLOSING,
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.ACTION_SCHEDULED}) | _CLOSING,
    Status.IN_PROGRESS: frozenset({Status.ACTION_SCHEDULED}) | _CLOSING,
    Status.ACTION_SCHEDULED: frozenset({Status.IN_PROGRESS}) | _CLOSING,
    Status.FIXED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
    Status.DUPLICATE: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
    Status.NOT_RESPONSIBLE: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
    Status.NO_FURTHER_ACTION: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS}),
}
# Where "no, it is not fixed" from the reporter takes the report.
REOPEN_STATUS = Status.ACKNOWLEDGED


def open311_status(status: str) -> str:
    return "closed" if status in CLOSED_STATUSES else "open"


def allowed_next(status: str) -> list[Status]:
    current = Status(status)
    return [s for s in Status if s in TRANSITIONS[current]]


class Problem(StrEnum):
    UNKNOWN_CATEGORY = "unknown_category"
    DESCRIPTION_EMPTY = "description_empty"
    DESCRIPTION_TOO_LONG = "description_too_long"
    PHOTO_REQUIRED = "photo_required"
    TOO_MANY_PHOTOS = "too_many_photos"
    LOCATION_REQUIRED = "location_required"
    BAD_COORDINATES = "bad_coordinates"
    ADDRESS_TOO_LONG = "address_too_long"
    NOTE_TOO_LONG = "note_too_long"
    UNKNOWN_STATUS = "unknown_status"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    SAME_REPORT = "same_report"


class ReportError(ValueError):
    """Input refused; nothing was stored. `problem` says which rule, for the caller to word."""

    def __init__(self, problem: Problem, detail: str = "") -> None:
        super().__init__(f"{problem.value}{': ' + detail if detail else ''}")
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class PhotoIn:
    file_id: str
    file_unique_id: str | None = None


@dataclass(frozen=True)
class Nearby:
    report: Report
    distance_m: float


class FollowOutcome(StrEnum):
    FOLLOWING = "following"
    ALREADY = "already"
    OWN = "own"


class ReportNotifier(Protocol):
    """Renders and enqueues what people are told about reports (notices/reports.py: ReportNotices)."""

    async def report_created(self, session: AsyncSession, report: Report, category: ReportCategory) -> None: ...

    async def status_changed(
        self,
        session: AsyncSession,
        report: Report,
        change: ReportStatusChange,
        recipients: list[Resident],
        ask_if_fixed: Resident | None,
    ) -> None: ...

    async def reopened_by_reporter(self, session: AsyncSession, report: Report) -> None: ...

    async def assigned(self, session: AsyncSession, report: Report) -> None:
        """The report was given to an agent, or to nobody (participation/report_desk.py: assign)."""
        ...


def check_description(text: str) -> str:
    text = clean_text(text)
    if len(text) < MIN_DESCRIPTION or not has_visible(text):
        raise ReportError(Problem.DESCRIPTION_EMPTY)
    if len(text) > MAX_DESCRIPTION:
        raise ReportError(Problem.DESCRIPTION_TOO_LONG, str(MAX_DESCRIPTION))
    return text


def check_address(text: str) -> str:
    text = " ".join(clean_text(text).split())
    if not has_visible(text):
        raise ReportError(Problem.LOCATION_REQUIRED)
    if len(text) > MAX_ADDRESS:
        raise ReportError(Problem.ADDRESS_TOO_LONG, str(MAX_ADDRESS))
    return text


def check_note(note: str | None) -> str | None:
    note = clean_visible(note)
    if note is None:
        return None
    if len(note) > MAX_NOTE:
        raise ReportError(Problem.NOTE_TOO_LONG, str(MAX_NOTE))
    return note


def check_location(category: ReportCategory, lat: float | None, lon: float | None, address: str | None) -> None:
    if (lat is None) != (lon is None):
        raise ReportError(Problem.BAD_COORDINATES)
    if lat is not None and lon is not None and not valid_coordinates(lat, lon):
        raise ReportError(Problem.BAD_COORDINATES)
    if category.location_required and lat is None and not address:
        raise ReportError(Problem.LOCATION_REQUIRED)


def parse_status(name: str) -> Status:
    try:
        return Status(name.strip().lower())
    except ValueError as exc:
        raise ReportError(Problem.UNKNOWN_STATUS, name) from exc


async def create_report(
    session: AsyncSession,
    *,
    category: ReportCategory,
    description: str,
    photos: list[PhotoIn],
    lat: float | None,
    lon: float | None,
    address: str | None,
    resident: Resident | None,
    source: audit.Source,
    notifier: ReportNotifier,
    media_url: str | None = None,
    neighbourhood: str | None = None,
    open311_token: str | None = None,
) -> Report:
    """Check every rule of the category, store the report and post it to the agents."""
    if not category.active:
        raise ReportError(Problem.UNKNOWN_CATEGORY, category.code)
    description = check_description(description)
    address = check_address(address) if address else None
    check_location(category, lat, lon, address)
    if len(photos) > MAX_PHOTOS:
        raise ReportError(Problem.TOO_MANY_PHOTOS, str(MAX_PHOTOS))
    if category.photo_required and not photos and not media_url:
        raise ReportError(Problem.PHOTO_REQUIRED)
    if neighbourhood is None and lat is not None and lon is not None:
        neighbourhood = await neighbourhood_at(session, lat, lon)
    assert category.id is not None  # categories are stored by the import
    now = utcnow()
    report = Report(
        # A placeholder until the id is known: the reference is built from it.
        ref=f"tmp-{secrets.token_hex(8)}",
        category_id=category.id,
        resident_id=resident.id if resident else None,
        status=Status.NEW,
        description=description,
        lat=lat,
        lon=lon,
        address=address,
        neighbourhood=neighbourhood,
        media_url=media_url,
        source=source.value,
        open311_token=open311_token,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    await session.flush()
    assert report.id is not None  # flushed: the database gave it its id
    report.ref = f"PAL-{now.year}-{report.id:06d}"
    for position, photo in enumerate(photos):
        session.add(
            ReportPhoto(report_id=report.id, file_id=photo.file_id, file_unique_id=photo.file_unique_id, position=position)
        )
    session.add(ReportStatusChange(report_id=report.id, from_status=None, to_status=Status.NEW, source=source.value, at=now))
    await session.flush()
    await notifier.report_created(session, report, category)
    return report


async def neighbourhood_at(session: AsyncSession, lat: float, lon: float) -> str | None:
    """The code of the first neighbourhood (in the file's order) whose `area` contains the point."""
    rows = await session.execute(
        select(col(Neighbourhood.code), col(Neighbourhood.area))
        .where(col(Neighbourhood.area).is_not(None))
        .order_by(col(Neighbourhood.position), col(Neighbourhood.code))
    )
    for code, area in rows.all():
        if area and point_in_area(lon, lat, area):
            return str(code)
    return None


async def set_photo_path(session: AsyncSession, photo: ReportPhoto, path: str) -> None:
    photo.path = path
    session.add(photo)
    await session.flush()


async def find_nearby(
    session: AsyncSession,
    *,
    category_id: int,
    lat: float,
    lon: float,
    radius_m: float = DUPLICATE_RADIUS_M,
    days: int = DUPLICATE_DAYS,
    now: datetime | None = None,
) -> list[Nearby]:
    """Open reports of the category within `radius_m` filed in the last `days`, nearest first."""
    since = (now or utcnow()) - timedelta(days=days)
    # Exact locations are encrypted: the database narrows down by the clear coarse cells the box
    # touches, then distances are measured on the decrypted values.
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius_m)
    rows = await session.scalars(
        select(Report).where(
            col(Report.category_id) == category_id,
            col(Report.created_at) >= since,
            col(Report.status).in_([s.value for s in OPEN_STATUSES]),
            col(Report.cell).in_(cells_covering(min_lat, max_lat, min_lon, max_lon)),
        )
    )
    found = [Nearby(r, haversine_m(lat, lon, r.lat, r.lon)) for r in rows if r.lat is not None and r.lon is not None]
    found = [n for n in found if n.distance_m <= radius_m]
    return sorted(found, key=lambda n: (n.distance_m, n.report.id))[:MAX_NEARBY]


async def follow(session: AsyncSession, report: Report, resident: Resident) -> FollowOutcome:
    if report.resident_id == resident.id:
        return FollowOutcome.OWN
    inserted = await insert_ignore(
        session,
        ReportFollower.metadata.tables["report_follower"],  # SQLModel does not type `__table__`
        {"report_id": report.id, "resident_id": resident.id, "created_at": utcnow()},
        ["report_id", "resident_id"],
    )
    return FollowOutcome.FOLLOWING if inserted else FollowOutcome.ALREADY


async def recipients_of(session: AsyncSession, report: Report) -> list[Resident]:
    """The reporter and the followers who can still be written to."""
    follower_ids = select(col(ReportFollower.resident_id)).where(col(ReportFollower.report_id) == report.id)
    rows = await session.scalars(
        select(Resident)
        .where(or_(col(Resident.id) == report.resident_id, col(Resident.id).in_(follower_ids)))
        .where(col(Resident.telegram_id).is_not(None), col(Resident.erased_at).is_(None))
        .order_by(col(Resident.id))
    )
    return list(rows)


async def change_status(
    session: AsyncSession,
    report: Report,
    new_status: Status | str,
    *,
    author_telegram_id: int | None,
    note: str | None,
    source: audit.Source,
    notifier: ReportNotifier,
    duplicate_of: Report | None = None,
    notify_reporter: bool = True,
) -> ReportStatusChange:
    """Move the report along the workflow, record who/when/why, tell the reporter and followers."""
    target = parse_status(new_status) if isinstance(new_status, str) else new_status
    note = check_note(note)
    current = Status(report.status)
    if target not in TRANSITIONS[current]:
        raise ReportError(Problem.TRANSITION_NOT_ALLOWED, f"{current.value} -> {target.value}")
    assert report.id is not None  # a report whose status changes is stored
    now = utcnow()
    if target == Status.DUPLICATE and duplicate_of is not None:
        if duplicate_of.id == report.id:
            raise ReportError(Problem.SAME_REPORT)
        report.duplicate_of_id = duplicate_of.id
    change = ReportStatusChange(
        report_id=report.id,
        from_status=current.value,
        to_status=target.value,
        note=note,
        author_telegram_id=author_telegram_id,
        source=source.value,
        at=now,
    )
    report.status = target.value
    report.updated_at = now
    report.closed_at = now if target in CLOSED_STATUSES else None
    session.add_all([report, change])
    await session.flush()
    if target == Status.DUPLICATE and duplicate_of is not None:
        # Whoever followed the duplicate now hears about the original.
        for person in await recipients_of(session, report):
            await follow(session, duplicate_of, person)
    await audit.record(
        session,
        actor_telegram_id=author_telegram_id,
        source=source,
        action="report.status",
        subject=report.ref,
        detail={"from": current.value, "to": target.value, **({"duplicate_of": duplicate_of.ref} if duplicate_of else {})},
    )
    people = await recipients_of(session, report)
    reporter = next((p for p in people if p.id == report.resident_id), None)
    if not notify_reporter:
        people = [p for p in people if p.id != report.resident_id]
    ask = reporter if (target == Status.FIXED and notify_reporter) else None
    await notifier.status_changed(session, report, change, people, ask)
    return change


class FixedAnswer(StrEnum):
    THANKS = "thanks"
    REOPENED = "reopened"
    NOT_ASKED = "not_asked"


async def answer_fixed_question(
    session: AsyncSession, report: Report, resident: Resident, fixed: bool, *, notifier: ReportNotifier
) -> FixedAnswer:
    """The reporter's answer to "is it really fixed?"; "no" reopens the report and tells the agents."""
    if report.resident_id != resident.id or report.status != Status.FIXED:
        return FixedAnswer.NOT_ASKED
    if fixed:
        return FixedAnswer.THANKS
    await change_status(
        session,
        report,
        REOPEN_STATUS,
        author_telegram_id=resident.telegram_id,
        note=None,
        source=audit.Source.CHAT,
        notifier=notifier,
        notify_reporter=False,  # they are answered directly
    )
    await notifier.reopened_by_reporter(session, report)
    return FixedAnswer.REOPENED


async def report_by_ref(session: AsyncSession, ref: str) -> Report | None:
    return await session.scalar(select(Report).where(col(Report.ref) == ref.strip().upper()))


async def report_by_id(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def category_of(session: AsyncSession, report: Report) -> ReportCategory:
    category = await session.get(ReportCategory, report.category_id)
    assert category is not None
    return category


async def photos_of(session: AsyncSession, report: Report) -> list[ReportPhoto]:
    return list(
        await session.scalars(
            select(ReportPhoto).where(col(ReportPhoto.report_id) == report.id).order_by(col(ReportPhoto.position))
        )
    )


async def history_of(session: AsyncSession, report: Report) -> list[ReportStatusChange]:
    return list(
        await session.scalars(
            select(ReportStatusChange)
            .where(col(ReportStatusChange.report_id) == report.id)
            .order_by(col(ReportStatusChange.at), col(ReportStatusChange.id))
        )
    )


@dataclass(frozen=True)
class MyReport:
    report: Report
    category: ReportCategory
    mine: bool  # False: followed


async def reports_of(session: AsyncSession, resident: Resident, limit: int = 20) -> list[MyReport]:
    """The resident's own reports and the ones they follow, newest first."""
    followed = select(col(ReportFollower.report_id)).where(col(ReportFollower.resident_id) == resident.id)
    rows = await session.execute(
        select(Report, ReportCategory)
        .join(ReportCategory, col(ReportCategory.id) == col(Report.category_id))
        .where(or_(col(Report.resident_id) == resident.id, col(Report.id).in_(followed)))
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
        .limit(limit)
    )
    return [MyReport(r, c, r.resident_id == resident.id) for r, c in rows.all()]


async def is_related(session: AsyncSession, report: Report, resident: Resident) -> bool:
    """The resident filed or follows the report (and may see its history)."""
    if report.resident_id == resident.id:
        return True
    return (
        await session.scalar(
            select(col(ReportFollower.id)).where(
                col(ReportFollower.report_id) == report.id, col(ReportFollower.resident_id) == resident.id
            )
        )
    ) is not None


async def reports_personal_data(session: AsyncSession, resident: Resident) -> dict[str, list[dict[str, object]]]:
    """The resident's reports and followed reports, for /mydata."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    own, followed = [], []
    for item in await reports_of(session, resident, limit=10_000):
        entry: dict[str, object] = {
            "ref": item.report.ref,
            "category": item.category.code,
            "status": item.report.status,
            "created_at": iso(item.report.created_at),
        }
        if item.mine:
            photos = await photos_of(session, item.report)
            entry.update(
                description=item.report.description,
                address=item.report.address,
                lat=item.report.lat,
                lon=item.report.lon,
                photos=len(photos),
            )
            own.append(entry)
        else:
            followed.append(entry)
    return {"reports": own, "followed_reports": followed}


async def unlink_resident(session: AsyncSession, resident: Resident) -> None:
    """/forget: the resident's reports stay (the problem is still in the street: category, place,
    photos, status) with no link to them and without what they typed (description, address);
    what they followed is forgotten; history rows no longer name them."""
    await session.execute(
        update(Report).where(col(Report.resident_id) == resident.id).values(resident_id=None, description="", address=None)
    )
    await session.execute(delete(ReportFollower).where(col(ReportFollower.resident_id) == resident.id))
    if resident.telegram_id is not None:
        await session.execute(
            update(ReportStatusChange)
            .where(col(ReportStatusChange.author_telegram_id) == resident.telegram_id)
            .values(author_telegram_id=None)
        )
