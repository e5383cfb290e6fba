"""Issue 13: the public Open311 server never answers 5xx, serves well-formed XML, lists in fixed statements; the webhook refuses malformed bodies."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import httpx
from aiogram import Bot
from aiohttp import web
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_dispatcher
from bot.i18n import build_i18n
from participation.audit import Source
from participation.reports import Status, change_status, create_report
from storage.db import SessionMaker
from storage.models import OutboxMessage, Report
from tests.handlers.conftest import RecordingSession
from tests.participation.reports_support import RecordingNotifier, load_categories
from tests.web.test_open311 import KEY, get, server, settings  # noqa: F401 - fixtures
from web.webhook import CheckedRequestHandler


async def test_out_of_range_dates_are_a_400_with_an_open311_body(server: str) -> None:  # noqa: F811
    for params in (
        {"end_date": "0001-01-01T00:00:00Z"},
        {"start_date": "9999-12-31T00:00:00Z"},
        {"start_date": "0001-01-01T00:00:00+14:00"},
    ):
        for fmt in ("json", "xml"):
            response = await get(f"{server}/requests.{fmt}", **params)
            assert response.status_code == 400, params
            if fmt == "json":
                assert response.json()[0]["code"] == 400
            else:
                assert ET.fromstring(response.content).find("error/code").text == "400"  # type: ignore[union-attr]


async def test_every_parameter_is_checked(server: str) -> None:  # noqa: F811
    for params in (
        {"extensions": "maybe"},
        {"service_code": "bruit\x00"},
        {"status": "open\x0b"},
        {"service_request_id": "x" * 5000},
    ):
        response = await get(f"{server}/requests.json", **params)
        assert response.status_code == 400 and response.json()[0]["code"] == 400, params
    assert (await get(f"{server}/requests/PAL%00.json")).status_code == 400
    assert (await get(f"{server}/tokens/{'t' * 100}.xml")).status_code == 400


async def test_the_key_is_checked_before_the_body_is_decoded(server: str, sessionmaker: SessionMaker) -> None:  # noqa: F811
    body = b"service_code=bruit&description=\xff\xfe trou&lat=45.1&long=3.1"
    async with httpx.AsyncClient() as client:
        headers = {"content-type": "application/x-www-form-urlencoded"}
        without = await client.post(f"{server}/requests.json", content=body, headers=headers)
        wrong_key = await client.post(f"{server}/requests.json", content=body + b"&api_key=nope", headers=headers)
        with_key = await client.post(f"{server}/requests.json", content=body + f"&api_key={KEY}".encode(), headers=headers)
    assert (without.status_code, wrong_key.status_code) == (403, 403)
    assert with_key.status_code == 400 and with_key.json()[0]["description"] == "the request body is not valid UTF-8"
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 2  # the two of the fixture


async def test_a_stored_control_character_does_not_break_the_xml(server: str, sessionmaker: SessionMaker) -> None:  # noqa: F811
    async with sessionmaker.begin() as session:  # stored before input was cleaned
        await session.execute(update(Report).values(description="Trou\x0b profond", address="Rue\x01 Haute"))
    response = await get(f"{server}/requests.xml", extensions="true")
    assert response.status_code == 200
    descriptions = [element.text for element in ET.fromstring(response.content).iter("description")]
    assert "Trou profond" in descriptions


async def test_listing_costs_the_same_statements_for_5_or_40_reports(
    server: str,  # noqa: F811 - the fixture imported above
    engine: AsyncEngine,
    sessionmaker: SessionMaker,
) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append("x")

    async def listing_cost() -> int:
        statements.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", count)
        try:
            response = await get(f"{server}/requests.json", extensions="true")
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    async def add_reports(n: int) -> None:
        async with sessionmaker.begin() as session:
            categories = await load_categories(session)
            for i in range(n):
                report = await create_report(
                    session,
                    category=categories["bruit"],
                    description=f"Bruit numéro {i}",
                    photos=[],
                    lat=None,
                    lon=None,
                    address=None,
                    resident=None,
                    source=Source.HTTP,
                    notifier=RecordingNotifier(),
                )
                await change_status(
                    session,
                    report,
                    Status.ACKNOWLEDGED,
                    author_telegram_id=None,
                    note="Vu",
                    source=Source.CLI,
                    notifier=RecordingNotifier(),
                )

    await add_reports(3)
    small = await listing_cost()
    await add_reports(35)
    large = await listing_cost()
    assert small == large <= 3


async def test_malformed_webhook_json_with_the_right_secret_is_a_400(settings, sessionmaker: SessionMaker) -> None:  # noqa: F811
    bot = Bot(token="123456:TEST-token", session=RecordingSession())
    dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    app = web.Application()
    CheckedRequestHandler(dispatcher=dp, bot=bot, handle_in_background=False, secret_token="s" * 20).register(app, path="/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        async with httpx.AsyncClient() as client:
            right = {"X-Telegram-Bot-Api-Secret-Token": "s" * 20}
            statuses = [
                (await client.post(url, content=body, headers=right)).status_code
                for body in (b"{not json", b"\xff\xfe", b"[1, 2]", json.dumps({"update_id": "x"}).encode())
            ]
            wrong = (
                await client.post(url, content=b"{not json", headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            ).status_code
            good = (await client.post(url, json={"update_id": 1}, headers=right)).status_code
    finally:
        await runner.cleanup()
    assert statuses == [400, 400, 400, 400] and wrong == 401 and good == 200
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
