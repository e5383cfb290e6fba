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
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import I18n
from aiohttp import BodyPartReader, web

from config.settings import Settings
from notices.reports import ReportNotices
from participation import audit, open_data
from participation.categories import active_categories, category_by_code
from participation.languages import in_language
from participation.open_data import PublicRequest
from participation.reports import (
    MAX_ADDRESS,
    MAX_DESCRIPTION,
    ReportError,
    create_report,
    open311_status,
)
from participation.text import clean_text, strip_controls
from storage.db import SessionMaker
from storage.models import ReportCategory, ReportStatusChange
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
        # Reports stored before input was cleaned may hold characters XML cannot carry.
        element.text = strip_controls(str(value))


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
        return web.Response(
            text=json.dumps(data, ensure_ascii=False), status=status, content_type="application/json", charset="utf-8"
        )
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
        "service_name": in_language(category.name, locale, locale),
        "description": None,
        "metadata": False,
        "type": "realtime",
        "keywords": None,
        "group": in_language(category.group_name, locale, locale),
    }


def request_json(public: PublicRequest, settings: Settings, extensions: bool, origin: str = "") -> dict[str, Any]:
    report, category, history = public.report, public.category, public.history
    # As PRODUCT.md asks: the detailed status, then the public note of the change that set it.
    latest = history[-1] if history else None
    status_notes = report.status + (f": {latest.note}" if latest is not None and latest.note else "")
    data: dict[str, Any] = {
        "service_request_id": report.ref,
        "status": open311_status(report.status),
        "status_notes": status_notes,
        "service_name": in_language(category.name, settings.default_locale, settings.default_locale),
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
        "media_url": report.media_url or _photo_url(public, origin),
    }
    if extensions:
        data["extended_attributes"] = {
            "detailed_status": report.status,
            "neighbourhood": report.neighbourhood,
        }
        data["notes"] = [_note(change, settings) for change in history]
    return data


def _photo_url(public: PublicRequest, origin: str) -> str | None:
    """The first photo of a report made in the chat, served by `media`; None when it has none kept."""
    if not origin or public.first_photo is None:
        return None
    return f"{origin}{BASE}/media/{public.report.ref}/{public.first_photo + 1}.jpg"


async def media(request: web.Request) -> web.StreamResponse:
    """GET /open311/v2/media/REF/N.jpg: photo N of a report, from MEDIA_DIR (what media_url points to)."""
    context = _context(request)
    async with context.sessionmaker() as session:
        kept = await open_data.kept_photo_path(session, request.match_info["ref"], int(request.match_info["n"]) - 1)
    if kept is None:
        raise web.HTTPNotFound()
    # A stat on the local disk: quicker than a hop to a thread.
    path = Path(kept).resolve()  # noqa: ASYNC240
    # Only files under MEDIA_DIR are ever served, whatever a stored path says.
    if not path.is_file() or not path.is_relative_to(Path(context.settings.media_dir).resolve()):  # noqa: ASYNC240
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/jpeg"})


def _note(change: ReportStatusChange, settings: Settings) -> dict[str, Any]:
    return {"datetime": w3(change.at, settings), "type": change.to_status, "description": change.note or ""}


# --- Parsing -----------------------------------------------------------------------------------


# Dates outside these years are refused: adding the default span to 9999-12-31 overflows, and no
# report predates 1970 or follows 9000.
YEARS = range(1970, 9001)
MAX_PARAMETER = 2000


def parse_w3(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        in_range = moment.astimezone(UTC).year in YEARS
    except (ValueError, OverflowError) as exc:
        raise Open311Error(400, f"{name} is not a W3C date-time such as 2026-01-01T00:00:00Z") from exc
    if not in_range:
        raise Open311Error(400, f"{name} must be between the years {YEARS.start} and {YEARS.stop - 1}")
    return moment


def parameter(value: str | None, name: str, max_length: int = MAX_PARAMETER) -> str:
    """A query or path parameter as given, refused when too long or holding control characters."""
    text = value or ""
    if len(text) > max_length:
        raise Open311Error(400, f"{name} is longer than {max_length} characters")
    if strip_controls(text) != text:
        raise Open311Error(400, f"{name} holds characters that are not allowed")
    return text


def parse_extensions(query: Any) -> bool:
    value = parameter(query.get("extensions"), "extensions", 10).strip().lower()
    if value not in ("", "true", "false"):
        raise Open311Error(400, "extensions must be true or false")
    return value == "true"


def parse_list(value: str | None, name: str = "parameter") -> list[str]:
    return [part.strip() for part in parameter(value, name).split(",") if part.strip()]


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
        latest = await open_data.latest_category_at(session)
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
    try:
        code = parameter(request.match_info["code"], "service_code", 100)
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    async with _context(request).sessionmaker() as session:
        category = await category_by_code(session, code)
    if category is None or not category.active:
        return error_response(fmt, 404, "service_code was not found")
    return respond(fmt, "service_definition", None, {"service_code": category.code, "attributes": []})


def parse_filters(query: Any) -> tuple[open_data.RequestFilters, bool]:
    """The listing's filters and `extensions`, each validated (Open311Error: a 400)."""
    refs = parse_list(query.get("service_request_id"), "service_request_id")[:MAX_RESULTS]
    codes = parse_list(query.get("service_code"), "service_code")
    statuses = parse_list(query.get("status"), "status")
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open, closed, or both separated by a comma")
    start = parse_w3(parameter(query.get("start_date"), "start_date", 64), "start_date") if query.get("start_date") else None
    end = parse_w3(parameter(query.get("end_date"), "end_date", 64), "end_date") if query.get("end_date") else None
    if start is None:  # no start: the span before the end, or before now
        end = end or utcnow()
        start = end - DEFAULT_SPAN
    elif end is None:
        end = start + DEFAULT_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    filters = open_data.RequestFilters(refs=refs, codes=codes, open311_statuses=statuses, start=start, end=end, limit=MAX_RESULTS)
    return filters, parse_extensions(query)


async def list_requests(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    context = _context(request)
    try:
        filters, extensions = parse_filters(request.query)
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    async with context.sessionmaker() as session:
        found = await open_data.list_requests(session, filters)
    origin = str(request.url.origin())
    return respond(fmt, "service_requests", "request", [request_json(r, context.settings, extensions, origin) for r in found])


async def one_request(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    context = _context(request)
    try:
        extensions = parse_extensions(request.query)
        ref = parameter(request.match_info["id"], "service_request_id", 64)
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    async with context.sessionmaker() as session:
        found = await open_data.request_by_ref(session, ref)
    if found is None:
        return error_response(fmt, 404, "service_request_id was not found")
    return respond(
        fmt, "service_requests", "request", [request_json(found, context.settings, extensions, str(request.url.origin()))]
    )


async def token(request: web.Request) -> web.Response:
    fmt = request.match_info["fmt"]
    try:
        given = parameter(request.match_info["token"], "token", 64)
    except Open311Error as error:
        return error_response(fmt, error.status, error.description)
    async with _context(request).sessionmaker() as session:
        ref = await open_data.ref_by_token(session, given)
    if ref is None:
        return error_response(fmt, 404, "token was not found")
    return respond(fmt, "service_requests", "request", [{"service_request_id": ref, "token": given}])


def _valid_key(given: str, keys: list[str]) -> bool:
    # Compare every key in constant time: how long a refusal takes tells nothing about the keys.
    return bool(given) and any([hmac.compare_digest(given.encode(), key.encode()) for key in keys])  # noqa: C419 - a list: every key is compared


async def _form_bytes(request: web.Request) -> dict[bytes, bytes]:
    """The form fields as bytes (the first value of each), urlencoded or multipart, undecoded."""
    if request.content_type == "multipart/form-data":
        fields: dict[bytes, bytes] = {}
        try:
            reader = await request.multipart()
            async for part in reader:
                if isinstance(part, BodyPartReader) and part.name and part.filename is None:
                    fields.setdefault(part.name.encode("utf-8", errors="replace"), bytes(await part.read()))
        except (ValueError, AssertionError, RuntimeError):
            return {}  # a malformed body carries no usable key: refused as such
        return fields
    fields = {}
    for pair in (await request.read()).split(b"&"):
        name, _, value = pair.partition(b"=")
        if name:
            unquote = urllib.parse.unquote_to_bytes
            fields.setdefault(unquote(name.replace(b"+", b" ")), unquote(value.replace(b"+", b" ")))
    return fields


async def create_request(request: web.Request) -> web.Response:
    """POST a service request (form-encoded, with an api_key); it reaches the agents' group."""
    fmt = request.match_info["fmt"]
    context = _context(request)
    raw = await _form_bytes(request)
    # The key first, from the raw bytes: without one, nothing of the body is decoded or judged.
    api_key = raw.get(b"api_key", b"").decode("utf-8", errors="replace").strip()
    if not _valid_key(api_key, context.settings.open311_api_keys):
        return error_response(fmt, 403, "Invalid api_key received -- can't proceed with create_request.")
    try:
        form = {name.decode("utf-8"): value.decode("utf-8") for name, value in raw.items()}
    except UnicodeDecodeError:
        return error_response(fmt, 400, "the request body is not valid UTF-8")
    field: Callable[[str], str] = lambda name: clean_text(form.get(name, ""))  # noqa: E731
    code = field("service_code")
    if not code:
        return error_response(fmt, 400, "service_code was not provided")
    try:
        for name, value in form.items():
            parameter(value, name, MAX_DESCRIPTION + 1000)
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
    return respond(
        fmt, "service_requests", "request", [{"service_request_id": report.ref, "service_notice": None, "account_id": None}]
    )


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
    app.router.add_get(f"{BASE}/media/{{ref:[A-Z0-9-]+}}/{{n:[1-9]}}.jpg", media)
    app.router.add_route("*", f"{BASE}/{{tail:.*}}", not_found)
