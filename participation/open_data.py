"""The queries behind the public Open311 server: reports with their category and history, in a fixed number of statements.

Anyone can call these endpoints: a listing of 1,000 reports costs three statements, not one per report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.reports import CLOSED_STATUSES, OPEN_STATUSES
from storage.models import Report, ReportCategory, ReportPhoto, ReportStatusChange


@dataclass(frozen=True)
class PublicRequest:
    """One report as open data: the report, its category, its history in order, its first kept photo."""

    report: Report
    category: ReportCategory
    history: list[ReportStatusChange]
    first_photo: int | None = None  # position of the first photo downloaded to MEDIA_DIR, if any


@dataclass(frozen=True)
class RequestFilters:
    """Open311's filters, already validated; `refs` overrides all the others (as the specification says)."""

    refs: list[str]
    codes: list[str]
    open311_statuses: list[str]  # "open", "closed", both or none
    start: datetime | None
    end: datetime | None
    limit: int


async def _with_history(session: AsyncSession, rows: list[tuple[Report, ReportCategory]]) -> list[PublicRequest]:
    history: dict[int, list[ReportStatusChange]] = defaultdict(list)
    ids = [report.id for report, _ in rows]
    if ids:
        for change in await session.scalars(
            select(ReportStatusChange)
            .where(col(ReportStatusChange.report_id).in_(ids))
            .order_by(col(ReportStatusChange.report_id), col(ReportStatusChange.at), col(ReportStatusChange.id))
        ):
            history[change.report_id].append(change)
    first_photo: dict[int, int] = {}
    if ids:
        for report_id, position in await session.execute(
            select(col(ReportPhoto.report_id), func.min(col(ReportPhoto.position)))
            .where(col(ReportPhoto.report_id).in_(ids), col(ReportPhoto.path).is_not(None))
            .group_by(col(ReportPhoto.report_id))
        ):
            first_photo[report_id] = position
    found = []
    for report, category in rows:
        assert report.id is not None  # a stored report
        found.append(PublicRequest(report, category, history[report.id], first_photo.get(report.id)))
    return found


async def list_requests(session: AsyncSession, filters: RequestFilters) -> list[PublicRequest]:
    """Reports matching `filters`, newest first, at most `filters.limit`: two statements."""
    statement = select(Report, ReportCategory).join(ReportCategory, col(ReportCategory.id) == col(Report.category_id))
    if filters.refs:
        statement = statement.where(col(Report.ref).in_([ref.upper() for ref in filters.refs]))
    else:
        if filters.codes:
            statement = statement.where(col(ReportCategory.code).in_(filters.codes))
        wanted = set(filters.open311_statuses)
        if wanted and wanted != {"open", "closed"}:
            chosen = OPEN_STATUSES if "open" in wanted else CLOSED_STATUSES
            statement = statement.where(col(Report.status).in_([s.value for s in chosen]))
        if filters.start is not None:
            statement = statement.where(col(Report.created_at) >= filters.start)
        if filters.end is not None:
            statement = statement.where(col(Report.created_at) <= filters.end)
    statement = statement.order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(filters.limit)
    rows = [(report, category) for report, category in (await session.execute(statement)).all()]
    return await _with_history(session, rows)


async def request_by_ref(session: AsyncSession, ref: str) -> PublicRequest | None:
    row = (
        await session.execute(
            select(Report, ReportCategory)
            .join(ReportCategory, col(ReportCategory.id) == col(Report.category_id))
            .where(col(Report.ref) == ref.upper())
        )
    ).first()
    if row is None:
        return None
    return (await _with_history(session, [(row[0], row[1])]))[0]


async def kept_photo_path(session: AsyncSession, ref: str, position: int) -> str | None:
    """Where photo `position` of report `ref` was downloaded, if it was (what Open311's media_url serves)."""
    return await session.scalar(
        select(col(ReportPhoto.path))
        .join(Report, col(Report.id) == col(ReportPhoto.report_id))
        .where(col(Report.ref) == ref, col(ReportPhoto.position) == position, col(ReportPhoto.path).is_not(None))
    )


async def ref_by_token(session: AsyncSession, token: str) -> str | None:
    return await session.scalar(select(col(Report.ref)).where(col(Report.open311_token) == token))


async def latest_category_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(col(ReportCategory.created_at)).order_by(col(ReportCategory.created_at).desc()).limit(1))
