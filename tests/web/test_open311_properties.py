"""Issue 13, property-based: whatever anyone sends to the public Open311 server, no 5xx, well-formed XML and JSON, no change without a key."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.i18n import build_i18n
from config.settings import Settings
from notices.reports import ReportNotices
from participation.audit import Source
from participation.reports import Status, change_status, create_report
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import OutboxMessage, Report
from tests.conftest import backends, fresh_postgres_database
from tests.participation.reports_support import load_categories
from web.app import build_web_app
from web.open311 import Open311Context

KEY = "property-key"
PARAMETERS = [
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "extensions",
    "lat",
    "long",
    "api_key",
    "jurisdiction_id",
]
# Any bytes, percent-encoded: invalid UTF-8, NUL, control characters, huge numbers, dates.
raw_values = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"0001-01-01T00:00:00Z",
            b"9999-12-31T23:59:59Z",
            b"2026-02-30T00:00:00Z",
            b"open,closed",
            b"true",
            b"1e400",
            b"nan",
            b"-0",
        ]
    ),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
)
queries = st.dictionaries(st.sampled_from(PARAMETERS), raw_values, max_size=4)
path_values = st.one_of(st.binary(min_size=1, max_size=30), st.sampled_from([b"bruit", b"PAL-2026-000001", b"..", b"%"]))


class LiveServer:
    """The Open311 app on a loop of its own, so that hypothesis can drive it from plain functions."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.database_url = database_url

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(120)

    async def start(self) -> str:
        self.engine = make_engine(self.database_url)
        await upgrade(self.engine)
        self.sessionmaker = make_sessionmaker(self.engine)
        settings = Settings(agents_chat_id=-100, open311_api_keys=KEY, _env_file=None)  # type: ignore[call-arg]
        i18n = build_i18n(settings.default_locale)
        async with self.sessionmaker.begin() as session:
            categories = await load_categories(session)
            notices = ReportNotices(i18n, settings)
            report = await create_report(
                session,
                category=categories["bruit"],
                description="Musique forte",
                photos=[],
                lat=45.0,
                lon=3.0,
                address=None,
                resident=None,
                source=Source.HTTP,
                notifier=notices,
            )
            await change_status(
                session, report, Status.FIXED, author_telegram_id=None, note="Fini", source=Source.CLI, notifier=notices
            )
        app = build_web_app(self.engine, open311=Open311Context(self.sessionmaker, settings, i18n, lambda: None))
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/open311/v2"

    async def counts(self) -> tuple[int, int]:
        async with self.sessionmaker() as session:
            reports = await session.scalar(select(func.count()).select_from(Report))
            messages = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return int(reports or 0), int(messages or 0)

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.engine.dispose()


@pytest.fixture(scope="module", params=backends())
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    postgres: AbstractAsyncContextManager[str] | None = None
    if request.param == "sqlite":
        server = LiveServer(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('open311') / 'palabre.db'}")
    else:
        postgres = fresh_postgres_database()
        placeholder = LiveServer("")
        placeholder.database_url = placeholder.run(postgres.__aenter__())
        server = placeholder
    base = server.run(server.start())
    yield server, base
    server.run(server.stop())
    if postgres is not None:
        server.run(postgres.__aexit__(None, None, None))
    server.loop.call_soon_threadsafe(server.loop.stop)


def check(response: httpx.Response, fmt: str) -> None:
    assert response.status_code < 500, response.text[:300]
    if fmt == "xml":
        ET.fromstring(response.content)  # raises when malformed
    else:
        json.loads(response.content)


def encoded(values: dict[str, bytes]) -> str:
    return "&".join(f"{name}={urllib.parse.quote_from_bytes(value, safe='')}" for name, value in values.items())


PROPERTY = hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(query=queries, fmt=st.sampled_from(["json", "xml"]), endpoint=st.sampled_from(["discovery", "services", "requests"]))
def test_any_query_on_the_get_endpoints(live: tuple[LiveServer, str], query: dict[str, bytes], fmt: str, endpoint: str) -> None:
    _server, base = live
    with httpx.Client() as client:
        check(client.get(f"{base}/{endpoint}.{fmt}?{encoded(query)}"), fmt)


@PROPERTY
@given(
    value=path_values,
    query=queries,
    fmt=st.sampled_from(["json", "xml"]),
    endpoint=st.sampled_from(["services", "requests", "tokens"]),
)
def test_any_path_parameter(live: tuple[LiveServer, str], value: bytes, query: dict[str, bytes], fmt: str, endpoint: str) -> None:
    _server, base = live
    segment = urllib.parse.quote_from_bytes(value, safe="")
    with httpx.Client() as client:
        response = client.get(f"{base}/{endpoint}/{segment}.{fmt}?{encoded(query)}")
    # An encoded "/" may route elsewhere (a 404 of ours); never a 5xx, always a parsable body.
    check(response, fmt)


@PROPERTY
@given(
    form=st.dictionaries(st.sampled_from([*PARAMETERS, "description", "address_string", "media_url"]), raw_values, max_size=6),
    with_key=st.booleans(),
    multipart=st.booleans(),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_any_post_without_a_key_changes_nothing(
    live: tuple[LiveServer, str], form: dict[str, bytes], with_key: bool, multipart: bool, fmt: str
) -> None:
    server, base = live
    form = {name: value for name, value in form.items() if name != "api_key"}
    if with_key:
        form["api_key"] = KEY.encode()
    before = server.run(server.counts())
    with httpx.Client() as client:
        if multipart:
            response = client.post(f"{base}/requests.{fmt}", files={name: (None, value) for name, value in form.items()})
        else:
            response = client.post(
                f"{base}/requests.{fmt}",
                content=encoded(form).encode(),
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
    check(response, fmt)
    after = server.run(server.counts())
    if not with_key:
        assert response.status_code == 403 and after == before
    elif response.status_code != 200:
        assert after == before  # refused: nothing half-done
