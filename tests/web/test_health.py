"""/healthz tells a load balancer whether the database answers."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine
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
