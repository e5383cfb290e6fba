"""The queries behind the public Open311 server: reports with their category and history, in a fixed number of statements.

Anyone can call these endpoints: a listing of 1,000 reports costs three statements, not one per report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
            .where(ReportStatusChange.report_id.in_(ids))  # type: ignore[attr-defined]
            .order_by(ReportStatusChange.report_id, ReportStatusChange.at, ReportStatusChange.id)
        ):
            history[change.report_id].append(change)
    first_photo: dict[int, int] = {}
    if ids:
        for report_id, position in await session.execute(
            select(ReportPhoto.report_id, func.min(ReportPhoto.position))
            .where(ReportPhoto.report_id.in_(ids), ReportPhoto.path.is_not(None))  # type: ignore[attr-defined,union-attr]
            .group_by(ReportPhoto.report_id)
        ):
            first_photo[report_id] = position
    return [
        PublicRequest(report, category, history[report.id], first_photo.get(report.id))  # type: ignore[index,arg-type]
        for report, category in rows
    ]


async def list_requests(session: AsyncSession, filters: RequestFilters) -> list[PublicRequest]:
    """Reports matching `filters`, newest first, at most `filters.limit`: two statements."""
    statement = select(Report, ReportCategory).join(ReportCategory, ReportCategory.id == Report.category_id)
    if filters.refs:
        statement = statement.where(Report.ref.in_([ref.upper() for ref in filters.refs]))  # type: ignore[attr-defined]
    else:
        if filters.codes:
            statement = statement.where(ReportCategory.code.in_(filters.codes))  # type: ignore[attr-defined]
        wanted = set(filters.open311_statuses)
        if wanted and wanted != {"open", "closed"}:
            chosen = OPEN_STATUSES if "open" in wanted else CLOSED_STATUSES
            statement = statement.where(Report.status.in_([s.value for s in chosen]))  # type: ignore[attr-defined]
        if filters.start is not None:
            statement = statement.where(Report.created_at >= filters.start)
        if filters.end is not None:
            statement = statement.where(Report.created_at <= filters.end)
    statement = statement.order_by(Report.created_at.desc(), Report.id.desc()).limit(filters.limit)  # type: ignore[attr-defined]
    rows = [(report, category) for report, category in (await session.execute(statement)).all()]
    return await _with_history(session, rows)


async def request_by_ref(session: AsyncSession, ref: str) -> PublicRequest | None:
    row = (
        await session.execute(
            select(Report, ReportCategory)
            .join(ReportCategory, ReportCategory.id == Report.category_id)
            .where(Report.ref == ref.upper())
        )
    ).first()
    if row is None:
        return None
    return (await _with_history(session, [(row[0], row[1])]))[0]


async def kept_photo_path(session: AsyncSession, ref: str, position: int) -> str | None:
    """Where photo `position` of report `ref` was downloaded, if it was (what Open311's media_url serves)."""
    return await session.scalar(
        select(ReportPhoto.path)
        .join(Report, Report.id == ReportPhoto.report_id)
        .where(Report.ref == ref, ReportPhoto.position == position, ReportPhoto.path.is_not(None))  # type: ignore[union-attr]
    )


async def ref_by_token(session: AsyncSession, token: str) -> str | None:
    return await session.scalar(select(Report.ref).where(Report.open311_token == token))


async def latest_category_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(ReportCategory.created_at).order_by(ReportCategory.created_at.desc()).limit(1))  # type: ignore[attr-defined]
