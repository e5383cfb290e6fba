"""Reports as open data: GeoJSON and CSV exports, with no personal data (no reporter at all)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.cells import safe_cell
from participation.languages import in_language
from participation.reports import open311_status
from storage.models import Report, ReportCategory, ReportFollower

CSV_COLUMNS = [
    "ref",
    "service_code",
    "category",
    "group",
    "status",
    "open311_status",
    "description",
    "address",
    "lat",
    "lon",
    "neighbourhood",
    "followers",
    "created_at",
    "updated_at",
    "closed_at",
]


@dataclass(frozen=True)
class ExportRow:
    ref: str
    service_code: str
    category: str
    group: str
    status: str
    open311_status: str
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    neighbourhood: str | None
    followers: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


async def export_rows(session: AsyncSession, locale: str) -> list[ExportRow]:
    followers = select(col(ReportFollower.report_id), func.count().label("n")).group_by(col(ReportFollower.report_id)).subquery()
    rows = await session.execute(
        select(Report, ReportCategory, func.coalesce(followers.c.n, 0))
        .join(ReportCategory, col(ReportCategory.id) == col(Report.category_id))
        .outerjoin(followers, followers.c.report_id == col(Report.id))
        .order_by(col(Report.id))
    )
    return [
        ExportRow(
            ref=r.ref,
            service_code=c.code,
            category=in_language(c.name, locale, locale),
            group=in_language(c.group_name, locale, locale),
            status=r.status,
            open311_status=open311_status(r.status),
            description=r.description,
            address=r.address,
            lat=r.lat,
            lon=r.lon,
            neighbourhood=r.neighbourhood,
            followers=int(n),
            created_at=r.created_at,
            updated_at=r.updated_at,
            closed_at=r.closed_at,
        )
        for r, c, n in rows.all()
    ]


def _properties(row: ExportRow) -> dict[str, Any]:
    values = {column: getattr(row, column) for column in CSV_COLUMNS if column not in ("lat", "lon")}
    # GeoJSON is opened in spreadsheets too (through QGIS or an online converter): same care as CSV.
    return {k: v.isoformat() if isinstance(v, datetime) else safe_cell(v) for k, v in values.items()}


def to_geojson(rows: list[ExportRow]) -> str:
    """A FeatureCollection; reports without coordinates have a null geometry (GeoJSON allows it)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]}
            if row.lat is not None and row.lon is not None
            else None,
            "properties": _properties(row),
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1)


def to_csv(rows: list[ExportRow]) -> bytes:
    """UTF-8 with a BOM, so that spreadsheet programs show accents."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                value.isoformat() if isinstance(value, datetime) else ("" if value is None else safe_cell(value))
                for value in (getattr(row, column) for column in CSV_COLUMNS)
            ]
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")
