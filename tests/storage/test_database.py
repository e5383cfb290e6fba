"""The SQLite connection is set up as the house style asks; timestamps come back aware."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import SessionMaker, make_engine
from storage.models import OutboxMessage, Resident


async def test_sqlite_runs_with_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    async with engine.connect() as connection:
        assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 10000
        assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    await engine.dispose()


async def test_foreign_keys_are_enforced(sessionmaker: SessionMaker) -> None:
    with pytest.raises(IntegrityError):
        async with sessionmaker.begin() as session:
            session.add(OutboxMessage(chat_id=1, method="sendMessage", payload={}, resident_id=999_999))


async def test_timestamps_are_utc_aware_after_a_round_trip(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        session.add(Resident(telegram_id=42))
    async with sessionmaker() as session:
        resident = (await session.execute(text("SELECT id FROM resident"))).scalar()
        loaded = await session.get(Resident, resident)
    assert loaded is not None and loaded.created_at.tzinfo == UTC


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="file path"):
        make_engine("sqlite+aiosqlite:///:memory:")
