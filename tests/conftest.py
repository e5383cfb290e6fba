"""Shared fixtures: a migrated database per test (SQLite, or PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from bot.i18n import compile_catalogs
from storage import crypto
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")  # e.g. postgresql+asyncpg://palabre@127.0.0.1/postgres


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs the real `palabre run` process against a fake Bot API")
    compile_catalogs()


def screenshots_root(config: pytest.Config) -> Path:
    """Where the back office's browser stories put their screenshots: $PALABRE_SCREENSHOTS, or the
    run's temporary folder (xdist workers write beside theirs, into the controller's)."""
    if os.environ.get("PALABRE_SCREENSHOTS"):
        return Path(os.environ["PALABRE_SCREENSHOTS"])
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "backoffice-screenshots"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """List the screenshots taken, so that a reviewer can look at every page."""
    folder = screenshots_root(config)
    shots = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if shots:
        terminalreporter.write_sep("-", f"back office screenshots ({len(shots)}) in {folder}")
        for shot in shots:
            terminalreporter.write_line(f"  {shot.name}")


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Path:
    folder = screenshots_root(request.config)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# A fixed key for every test (32 bytes, url-safe base64): subprocesses such as `palabre run` inherit it.
TEST_DATA_KEY = "dGVzdC1rZXktcGFsYWJyZS10ZXN0LWtleS0zMmJ5dGU="


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Personal fields are encrypted at rest: every test runs with the same known key."""
    monkeypatch.setenv("DATA_KEY", TEST_DATA_KEY)
    crypto.install_keys(TEST_DATA_KEY)
    return TEST_DATA_KEY


def backends() -> list[str]:
    return ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


@asynccontextmanager
async def fresh_postgres_database() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database on the test server, dropped afterwards."""
    assert POSTGRES_URL is not None
    name = f"palabre_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(params=backends())
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test, on each backend under test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'palabre.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> SessionMaker:
    return make_sessionmaker(engine)


@pytest.fixture
async def session(sessionmaker: SessionMaker) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session
