"""/healthz tells a load balancer whether the database answers and, on the leader, the sender runs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiogram import Bot
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import BackgroundWork
from bot.i18n import build_i18n
from config.settings import Settings
from storage.db import SessionMaker, make_engine
from tests.bot.test_sender import TOKEN, ScriptedSession
from tests.bot.test_supervision import FlakyDatabase
from web.app import build_web_app


async def test_health_is_200_with_the_database(engine: AsyncEngine) -> None:
    async with TestClient(TestServer(build_web_app(engine))) as client:
        response = await client.get("/healthz")
        assert response.status == 200
        assert (await response.json())["database"] == "ok"


async def test_health_is_503_without_the_database(tmp_path: Path) -> None:
    # A database file inside a directory that does not exist cannot be opened.
    broken = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'p.db'}")
    async with TestClient(TestServer(build_web_app(broken))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
    await broken.dispose()


async def test_health_is_503_while_the_leaders_sender_is_down(engine: AsyncEngine, sessionmaker: SessionMaker) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    bot = Bot(TOKEN, session=ScriptedSession())
    # The database answers /healthz, but every write transaction of the background work fails.
    work = BackgroundWork(bot, FlakyDatabase(sessionmaker, failures=10**6), settings, build_i18n("fr"))  # type: ignore[arg-type]
    async with TestClient(TestServer(build_web_app(engine, sender_problem=work.sender_problem))) as client:
        response = await client.get("/healthz")
        assert response.status == 200  # not the leader: nothing to send here
        await work.start()
        try:
            for _ in range(200):
                response = await client.get("/healthz")
                if response.status == 503:
                    break
                await asyncio.sleep(0.05)
            assert response.status == 503
            assert await response.json() == {
                "status": "error",
                "database": "ok",
                "sender": "not running: restarting after a crash",
            }
        finally:
            await work.stop()
        response = await client.get("/healthz")
        assert response.status == 200  # stopped on purpose: no longer the leader


async def test_health_is_200_while_the_leaders_sender_runs(engine: AsyncEngine, sessionmaker: SessionMaker) -> None:

    work = BackgroundWork(Bot(TOKEN, session=ScriptedSession()), sessionmaker, Settings(_env_file=None), build_i18n("fr"))  # type: ignore[call-arg]
    async with TestClient(TestServer(build_web_app(engine, sender_problem=work.sender_problem))) as client:
        await work.start()
        try:
            response = await client.get("/healthz")
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok", "sender": "ok"}
        finally:
            await work.stop()
