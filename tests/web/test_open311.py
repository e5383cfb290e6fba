"""The Open311 GeoReport v2 server, checked with the specification's JSON Schemas and a real client."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from georeport import GeoReport
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import build_i18n
from config.settings import Settings
from notices.reports import ReportNotices
from participation.audit import Source
from participation.reports import PhotoIn, Status, change_status, create_report, photos_of, set_photo_path
from participation.residents import get_or_create_resident, set_locale
from storage.db import SessionMaker
from storage.models import AuditEntry, OutboxMessage, Report, Resident
from tests.participation.reports_support import load_categories
from web.app import build_web_app
from web.open311 import Open311Context

SCHEMAS = Path(__file__).parent / "schemas"
AGENTS_CHAT = -100777
KEY = "s3cret-key"
REPORTER = 880011
AGENT = 7531902468  # long and odd-looking: it cannot turn up in a date or a coordinate by chance


def validator(name: str) -> Draft7Validator:
    registry: Registry = Registry()
    for path in SCHEMAS.glob("*.json"):
        registry = registry.with_resource(
            path.name, Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT7)
        )
    return Draft7Validator(json.loads((SCHEMAS / name).read_text()), registry=registry)


def assert_valid(name: str, document: object) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(document)]
    assert errors == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(agents_chat_id=AGENTS_CHAT, open311_api_keys=KEY, media_dir=tmp_path / "media", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def server(engine: AsyncEngine, sessionmaker: SessionMaker, settings: Settings) -> AsyncIterator[str]:
    i18n = build_i18n(settings.default_locale)
    async with sessionmaker.begin() as session:
        categories = await load_categories(session)
        camille = await get_or_create_resident(session, REPORTER)
        await set_locale(session, camille, "fr")
        notices = ReportNotices(i18n, settings)
        pothole = await create_report(
            session,
            category=categories["voirie-chaussee"],
            description="Nid-de-poule rue Blatin",
            photos=[PhotoIn("f1")],
            lat=45.7772,
            lon=3.087,
            address=None,
            resident=camille,
            source=Source.CHAT,
            notifier=notices,
        )
        await create_report(
            session,
            category=categories["bruit"],
            description="Musique forte la nuit",
            photos=[],
            lat=None,
            lon=None,
            address="Place de Jaude",
            resident=camille,
            source=Source.CHAT,
            notifier=notices,
        )
        await change_status(
            session,
            pothole,
            Status.FIXED,
            author_telegram_id=AGENT,
            note="Rebouché le 3 mars",
            source=Source.CHAT,
            notifier=notices,
        )
    woken: list[int] = []
    app = build_web_app(engine, open311=Open311Context(sessionmaker, settings, i18n, lambda: woken.append(1)))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/open311/v2"
    await runner.cleanup()


async def get(url: str, **params: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url, params=params)


async def post(url: str, data: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(url, data=data)


async def test_services_and_requests_follow_the_schemas(server: str) -> None:
    services = (await get(f"{server}/services.json")).json()
    assert_valid("services.json", services)
    assert [s["service_code"] for s in services] == ["voirie-chaussee", "proprete-depot", "bruit"]
    assert services[0]["service_name"] == "Nid-de-poule" and services[0]["group"] == "Voirie"

    definition = await get(f"{server}/services/voirie-chaussee.json")
    assert_valid("service-definition.json", definition.json())
    assert (await get(f"{server}/services/nope.json")).status_code == 404

    response = await get(f"{server}/requests.json")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    requests = response.json()
    assert_valid("requests.json", requests)
    assert [(r["status"], r["service_code"]) for r in requests] == [("open", "bruit"), ("closed", "voirie-chaussee")]
    fixed = requests[1]
    assert (
        fixed["status_notes"] == "fixed: Rebouché le 3 mars"
        and requests[0]["status_notes"] == "new"
        and fixed["lat"] == 45.7772
        and fixed["long"] == 3.087
    )
    assert requests[0]["address"] == "Place de Jaude"

    one = await get(f"{server}/requests/{fixed['service_request_id']}.json", extensions="true")
    assert_valid("requests.json", one.json())
    assert one.json()[0]["extended_attributes"]["detailed_status"] == "fixed"
    assert (await get(f"{server}/requests/PAL-1999-000001.json")).status_code == 404


async def test_filters_of_get_requests(server: str) -> None:
    closed = (await get(f"{server}/requests.json", status="closed")).json()
    assert [r["service_code"] for r in closed] == ["voirie-chaussee"]
    by_code = (await get(f"{server}/requests.json", service_code="bruit,proprete-depot")).json()
    assert [r["service_code"] for r in by_code] == ["bruit"]
    assert (await get(f"{server}/requests.json", start_date="2099-01-01T00:00:00Z")).json() == []
    ref = closed[0]["service_request_id"]
    assert [
        r["service_request_id"] for r in (await get(f"{server}/requests.json", service_request_id=ref, status="open")).json()
    ] == [ref]
    bad = await get(f"{server}/requests.json", start_date="yesterday")
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
    assert (await get(f"{server}/requests.json", status="pending")).status_code == 400


async def test_xml_is_served_as_the_specification_shows(server: str) -> None:
    response = await get(f"{server}/requests.xml")
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests" and [r.findtext("status") for r in root] == ["open", "closed"]
    discovery = ET.fromstring((await get(f"{server}/discovery.xml")).content)
    assert [f.text for f in discovery.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]  # type: ignore[union-attr]
    assert (await get(f"{server}/discovery.json")).json()["endpoints"][0]["url"] == server


async def test_the_georeport_client_reads_services_and_requests(server: str) -> None:
    for output in ("json", "xml"):
        client = GeoReport(server, output_format=output)
        services = await asyncio.to_thread(client.get_service_list)
        assert {s["service_code"] for s in services} == {"voirie-chaussee", "proprete-depot", "bruit"}
        requests = await asyncio.to_thread(client.get_service_requests, status="closed")
        if output == "xml":  # xmltodict gives one mapping for a single element
            requests = [requests]
        assert [r["status_notes"] for r in requests] == ["fixed: Rebouché le 3 mars"]
    single = await asyncio.to_thread(GeoReport(server).get_service_request, requests[0]["service_request_id"])
    assert single["service_code"] == "voirie-chaussee"


async def test_no_personal_data_is_served(server: str, sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        pseudonym = await session.scalar(select(Resident.pseudonym))
    for path in ("requests.json?extensions=true", "requests.xml?extensions=true"):
        body = (await get(f"{server}/{path}")).text
        assert str(REPORTER) not in body and str(pseudonym) not in body and str(AGENT) not in body


async def test_post_needs_a_valid_key_and_refuses_bad_input_storing_nothing(server: str, sessionmaker: SessionMaker) -> None:
    form = {"service_code": "voirie-chaussee", "lat": "45.78", "long": "3.09", "description": "Trou"}
    for data in (form, {**form, "api_key": "wrong"}):
        response = await post(f"{server}/requests.json", data)
        assert response.status_code == 403
        assert response.json() == [{"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}]
    xml_refusal = await post(f"{server}/requests.xml", form)
    assert xml_refusal.status_code == 403 and ET.fromstring(xml_refusal.content).findtext("error/code") == "403"

    refusals = [
        ({"service_code": "inconnu"}, 404),
        ({"service_code": ""}, 400),
        ({"lat": "95"}, 400),
        ({"long": "-200"}, 400),
        ({"lat": "north"}, 400),
        ({"description": "x" * 2001}, 400),
        ({"lat": "", "long": ""}, 400),  # this service needs a place
        ({"service_code": "proprete-depot"}, 400),  # this one needs a photo (media_url)
    ]
    for change, status in refusals:
        response = await post(f"{server}/requests.json", {**form, "api_key": KEY, **change})
        assert response.status_code == status, change
        assert response.json()[0]["code"] == status and response.json()[0]["description"]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 2


async def test_posted_request_reaches_the_agents_and_keeps_no_contact_details(server: str, sessionmaker: SessionMaker) -> None:
    response = await post(
        f"{server}/requests.json",
        {
            "api_key": KEY,
            "service_code": "voirie-chaussee",
            "lat": "45.78",
            "long": "3.09",
            "address_string": "12 rue de la Paix",
            "description": "Plaque d’égout descellée",
            "email": "jean.dupont@example.org",
            "first_name": "Jean",
            "last_name": "Dupont",
            "phone": "0612345678",
        },
    )
    assert response.status_code == 200
    ref = response.json()[0]["service_request_id"]
    assert ref.startswith("PAL-")
    created = (await get(f"{server}/requests/{ref}.json")).json()[0]
    assert (created["status"], created["address"], created["description"]) == (
        "open",
        "12 rue de la Paix",
        "Plaque d’égout descellée",
    )
    async with sessionmaker() as session:
        [post_to_agents] = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.chat_id == AGENTS_CHAT, OutboxMessage.payload.is_not(None))
                .order_by(OutboxMessage.id.desc())
                .limit(1)
            )
        ).all()
        report = await session.scalar(select(Report).where(Report.ref == ref))
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.action == "report.open311_create"))
    assert ref in post_to_agents.payload["text"] and "Plaque d’égout descellée" in post_to_agents.payload["text"]
    assert report is not None and report.resident_id is None and report.source == "http"
    stored = json.dumps(report.model_dump(mode="json")) + json.dumps(audit.detail if audit else {})
    for secret in ("jean.dupont", "Dupont", "0612345678", KEY):
        assert secret not in stored


async def test_media_url_points_to_the_photo_served_from_media_dir(
    server: str, sessionmaker: SessionMaker, settings: Settings
) -> None:
    async with sessionmaker.begin() as session:
        # Descriptions are encrypted at rest with a fresh nonce: found by reading, not by a WHERE.
        report = next((r for r in await session.scalars(select(Report)) if r.description == "Nid-de-poule rue Blatin"), None)
        assert report is not None
        photo = (await photos_of(session, report))[0]
        kept = settings.media_dir / report.ref / "1.jpg"
        kept.parent.mkdir(parents=True)
        kept.write_bytes(b"\xff\xd8 a photo \xff\xd9")
        await set_photo_path(session, photo, str(kept))
        ref = report.ref
    served = (await get(f"{server}/requests/{ref}.json")).json()[0]
    assert served["media_url"] == f"{server}/media/{ref}/1.jpg"
    image = await get(served["media_url"])
    assert (image.status_code, image.content, image.headers["content-type"]) == (200, b"\xff\xd8 a photo \xff\xd9", "image/jpeg")
    without_photo = [r for r in (await get(f"{server}/requests.json")).json() if r["description"] == "Musique forte la nuit"]
    assert without_photo[0]["media_url"] is None
    assert (await get(f"{server}/media/{ref}/2.jpg")).status_code == 404
