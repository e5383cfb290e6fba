"""Fixtures for end-to-end stories: the fake Bot API server and the real bot process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def palabre(fake: FakeTelegram, tmp_path: Path, database_url: str) -> AsyncIterator[PalabreFactory]:
    factory = PalabreFactory(fake, tmp_path, database_url)
    yield factory
    await factory.close()
