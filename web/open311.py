"""Open311 GeoReport v2 server under /open311/v2/, in JSON and XML (reports as open data).

Nothing personal is served: no names, no Telegram ids, no pseudonyms; a POSTed request keeps none
of the submitter's contact fields (email, names, phone, device and account ids).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.reports import ReportNotices
from participation import audit
from participation.categories import active_categories, category_by_code, localized
from participation.reports import (
    CLOSED_STATUSES,
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    OPEN_STATUSES,
    ReportError,
    create_report,
    history_of,
    open311_status,
)
from storage.db import SessionMaker
from storage.models import Report, ReportCategory, ReportStatusChange
from storage.types import utcnow

log = logging.getLogger("palabre.open311")

BASE = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_SPAN = timedelta(days=90)
MAX_RESULTS = 1000
FORMATS = "{fmt:(?:json|xml)}"
# XML element names of list items, by the name of the list (the Spark convention, reversed).
XML_ITEMS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value", "notes": "note"}


@dataclass
class Open311Context:
    sessionmaker: SessionMaker
    settings: Settings
    i18n: I18n
    wake_sender: Callable[[], None]


CONTEXT_KEY = web.AppKey("open311", Open311Context)


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


# --- Rendering ---------------------------------------------------------------------------------


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if value is None:
        return
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, dict):
        for key, item in value.items():
            _xml_value(element, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml_value(element, XML_ITEMS.get(name, "item"), item)
    else:
        element.text = str(value)


def to_xml(root: str, item: str | None, data: Any) -> bytes:
    top = ET.Element(root)
    if item is None:
        for key, value in data.items():
            _xml_value(top, key, value)
    else:
        for entry in data:
            _xml_value(top, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="unicode").encode("utf-8")


def respond(fmt: str, root: str, item: str | None, data: Any, status: int = 200) -> web.Response:
    if fmt == "json":
        return web.Response(text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json", charset="utf-8")
    return web.Response(body=to_xml(root, item, data), status=status, content_type="text/xml", charset="utf-8")


def error_response(fmt: str, status: int, description: str) -> web.Response:
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status=status)


def w3(moment: datetime | None, settings: Settings) -> str | None:
    """W3C date-time with the commune's UTC offset, as the specification asks."""
    if moment is None:
        return None
    return moment.astimezone(settings.tz).replace(microsecond=0).isoformat()


def service_json(category: ReportCategory, locale: str) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": localized(category.name, locale, locale),
        "description": None,
        "metadata": False,
        "type": "realtime",
        "keywords": None,
        "group": localized(category.group_name, locale, locale),
    }


async def request_json(
    session: AsyncSession, report: Report, category: ReportCategory, settings: Settings, extensions: bool
) -> dict[str, Any]:
    history = await history_of(session, report)
    # As PRODUCT.md asks: the detailed status, then the public note of the change that set it.
    latest = history[-1] if history else None
    status_notes = report.status + (f": {latest.note}" if latest is not None and latest.note else "")
    data: dict[str, Any] = {
        "service_request_id": report.ref,
        "status": open311_status(report.status),
        "status_notes": status_notes,
        "service_name": localized(category.name, settings.default_locale, settings.default_locale),
        "service_code": category.code,
        "description": report.description,
        "agency_responsible": None,
        "service_notice": None,
        "requested_datetime": w3(report.created_at, settings),
        "updated_datetime": w3(report.updated_at, settings),
        "expected_datetime": None,
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": report.media_url,
    }
    if extensions:
        data["extended_attributes"] = {
            "detailed_status": report.status,
            "neighbourhood": report.neighbourhood,
        }
        data["notes"] = [_note(change, settings) for change in history]
    return data


def _note(change: ReportStatusChange, settings: Settings) -> dict[str, Any]:
    return {"datetime": w3(change.at, settings), "type": change.to_status, "description": change.note or ""}


# --- Parsing -----------------------------------------------------------------------------------


def parse_w3(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not a W3C date-time such as 2026-01-01T00:00:00Z") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_coordinate(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not a number") from exc
    if not math.isfinite(number):
        raise Open311Error(400, f"{name} is not a number")
    return number


REPORT_ERRORS = {
    "unknown_category": "service_code is not open to requests",
    "description_empty": "description is required",
    "description_too_long": f"description is longer than {MAX_DESCRIPTION} characters",
    "photo_required": "media_url is required for this service_code (a photo of the problem)",
    "too_many_photos": "too many photos",
    "location_required": "a location is required: lat and long, or address_string",
    "bad_coordinates": "lat must be within -90..90 and long within -180..180, both given",
    "address_too_long": f"address_string is longer than {MAX_ADDRESS} characters",
}


# --- Handlers ----------------------------------------------------------------------------------


def _context(request: web.Request) -> Open311Context:
    return request.app[CONTEXT_KEY]


async def discovery(request: web.Request) -> web.Response:
    context = _context(request)
    async with context.sessionmaker() as session:
        latest = await session.scalar(select(ReportCategory.created_at).order_by(ReportCategory.created_at.desc()).limit(1))  # type: ignore[attr-defined]
    changeset = w3(latest, context.settings) or "1970-01-01T00:00:00+00:00"
    data = {
        "changeset": changeset,
        "contact": "Contact the town hall that runs this Palabre service.",
        "key_service": "API keys to post requests are given by the town hall that runs this service.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{request.scheme}://{request.host}{BASE}",
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(request.match_info["fmt"], "discovery", None, data)


async def services(request: web.Request) -> web.Response:
    context = _context(request)
    async with context.sessionmaker() as session:
        rows = await active_categories(session)
    locale = context.settings.default_locale
    return respond(request.match_info["fmt"], "services", "service", [service_json(c, locale) for c in rows])


async def service_definition(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    async with _context(request).sessionmaker() as session:
        category = await category_by_code(session, request.match_info["code"])
    if category is None or not category.active:
        return error_response(fmt, 404, "service_code was not found")
    return respond(fmt, "service_definition", None, {"service_code": category.code, "attributes": []})


async def list_requests(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    context = _context(request)
    query = request.query
    try:
        statement = select(Report, ReportCategory).join(ReportCategory, ReportCategory.id == Report.category_id)
        ids = parse_list(query.get("service_request_id"))
        if ids:  # overrides every other argument
            statement = statement.where(Report.ref.in_([i.upper() for i in ids[:MAX_RESULTS]]))  # type: ignore[attr-defined]
        else:
            codes = parse_list(query.get("service_code"))
            if codes:
                statement = statement.where(ReportCategory.code.in_(codes))  # type: ignore[attr-defined]
            statuses = parse_list(query.get("status"))
            if any(s not in ("open", "closed") for s in statuses):
                raise Open311Error(400, "status must be open, closed, or both separated by a comma")
            if statuses and set(statuses) != {"open", "closed"}:
                chosen = OPEN_STATUSES if statuses[0] == "open" else CLOSED_STATUSES
                statement = statement.where(Report.status.in_([s.value for s in chosen]))  # type: ignore[attr-defined]
            start = parse_w3(query["start_date"], "start_date") if query.get("start_date") else None
            end = parse_w3(query["end_date"], "end_date") if query.get("end_date") else None
            if start is None and end is None:
                end = utcnow()
            if start is None:
                start = end - DEFAULT_SPAN  # type: ignore[operator]
            if end is None:
                end = start + DEFAULT_SPAN
            if end < start:
                raise Open311Error(400, "end_date is before start_date")
            statement = statement.where(Report.created_at >= start, Report.created_at <= end)
        extensions = query.get("extensions", "").lower() == "true"
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    statement = statement.order_by(Report.created_at.desc(), Report.id.desc()).limit(MAX_RESULTS)  # type: ignore[attr-defined]
    async with context.sessionmaker() as session:
        rows = (await session.execute(statement)).all()
        data = [await request_json(session, r, c, context.settings, extensions) for r, c in rows]
    return respond(fmt, "service_requests", "request", data)


async def one_request(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    context = _context(request)
    extensions = request.query.get("extensions", "").lower() == "true"
    async with context.sessionmaker() as session:
        row = (
            await session.execute(
                select(Report, ReportCategory)
                .join(ReportCategory, ReportCategory.id == Report.category_id)
                .where(Report.ref == request.match_info["id"].upper())
            )
        ).first()
        if row is None:
            return error_response(fmt, 404, "service_request_id was not found")
        data = [await request_json(session, row[0], row[1], context.settings, extensions)]
    return respond(fmt, "service_requests", "request", data)


async def token(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    async with _context(request).sessionmaker() as session:
        ref = await session.scalar(select(Report.ref).where(Report.open311_token == request.match_info["token"]))
    if ref is None:
        return error_response(fmt, 404, "token was not found")
    return respond(fmt, "service_requests", "request", [{"service_request_id": ref, "token": request.match_info["token"]}])


def _valid_key(given: str, keys: list[str]) -> bool:
    # Compare every key in constant time: how long a refusal takes tells nothing about the keys.
    return bool(given) and any([hmac.compare_digest(given.encode(), key.encode()) for key in keys])  # noqa: C419 - a list: every key is compared


async def create_request(request: web.Request) -> web.Response:
    """POST a service request (form-encoded, with an api_key); it reaches the agents' group."""
    fmt = request.match_info["fmt"]
    context = _context(request)
    form = await request.post()
    field: Callable[[str], str] = lambda name: str(form.get(name, "") or "").strip()  # noqa: E731
    api_key = field("api_key")
    if not _valid_key(api_key, context.settings.open311_api_keys):
        return error_response(fmt, 403, "Invalid api_key received -- can't proceed with create_request.")
    code = field("service_code")
    if not code:
        return error_response(fmt, 400, "service_code was not provided")
    try:
        lat = parse_coordinate(field("lat"), "lat") if field("lat") else None
        lon = parse_coordinate(field("long"), "long") if field("long") else None
        media_url = field("media_url") or None
        if media_url is not None and (len(media_url) > 500 or not media_url.startswith(("http://", "https://"))):
            raise Open311Error(400, "media_url must be an http(s) URL of at most 500 characters")
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    try:
        async with context.sessionmaker.begin() as session:
            category = await category_by_code(session, code)
            if category is None or not category.active:
                raise Open311Error(404, "service_code was not found")
            try:
                report = await create_report(
                    session,
                    category=category,
                    description=field("description"),
                    photos=[],
                    lat=lat,
                    lon=lon,
                    address=field("address_string") or None,
                    resident=None,
                    source=audit.Source.HTTP,
                    notifier=ReportNotices(context.i18n, context.settings),
                    media_url=media_url,
                    open311_token=secrets.token_urlsafe(12),
                )
            except ReportError as error:  # raised again so that the transaction rolls back
                raise Open311Error(400, REPORT_ERRORS.get(error.problem.value, "the request could not be created")) from error
            await audit.record(
                session,
                actor_telegram_id=None,
                source=audit.Source.HTTP,
                action="report.open311_create",
                subject=report.ref,
                detail={"api_key": hashlib.sha256(api_key.encode()).hexdigest()[:12]},
            )
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    context.wake_sender()
    log.info("open311: request %s created", report.id)
    return respond(fmt, "service_requests", "request", [{"service_request_id": report.ref, "service_notice": None, "account_id": None}])


async def not_found(request: web.Request) -> web.Response:
    fmt = "json" if request.path.endswith(".json") else "xml"
    return error_response(fmt, 404, "no such Open311 resource: see discovery.xml")


def add_open311_routes(app: web.Application, context: Open311Context) -> None:
    app[CONTEXT_KEY] = context
    app.router.add_get(f"{BASE}/discovery.{FORMATS}", discovery)
    app.router.add_get(f"{BASE}/services.{FORMATS}", services)
    app.router.add_get(f"{BASE}/services/{{code:[^/]+}}.{FORMATS}", service_definition)
    app.router.add_get(f"{BASE}/requests.{FORMATS}", list_requests)
    app.router.add_post(f"{BASE}/requests.{FORMATS}", create_request)
    app.router.add_get(f"{BASE}/requests/{{id:[^/]+}}.{FORMATS}", one_request)
    app.router.add_get(f"{BASE}/tokens/{{token:[^/]+}}.{FORMATS}", token)
    app.router.add_route("*", f"{BASE}/{{tail:.*}}", not_found)
