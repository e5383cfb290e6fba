"""The typed helpers over SQLModel tables and DML results give what the database holds."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlmodel import SQLModel, col

from storage.db import SessionMaker
from storage.models import Resident
from storage.tables import affected_rows, table_of
from storage.upsert import insert_ignore


class NotATable(SQLModel):
    name: str


async def test_table_of_a_model_inserts_into_its_table(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        assert await insert_ignore(session, table_of(Resident), {"telegram_id": 7, "pseudonym": "p7"}, ["telegram_id"])
        assert not await insert_ignore(session, table_of(Resident), {"telegram_id": 7, "pseudonym": "p8"}, ["telegram_id"])
    async with sessionmaker() as session:
        assert list(await session.scalars(select(col(Resident.telegram_id)))) == [7]


def test_table_of_a_plain_model_is_refused() -> None:
    with pytest.raises(TypeError, match="NotATable"):
        table_of(NotATable)


async def test_affected_rows_counts_what_an_update_or_delete_touched(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        session.add_all([Resident(telegram_id=1), Resident(telegram_id=2), Resident(telegram_id=3)])
    async with sessionmaker.begin() as session:
        updated = await session.execute(update(Resident).where(col(Resident.telegram_id) < 3).values(notifications_enabled=False))
        assert affected_rows(updated) == 2
        assert affected_rows(await session.execute(delete(Resident).where(col(Resident.telegram_id) == 99))) == 0
        with pytest.raises(TypeError):
            affected_rows(await session.execute(select(Resident)))
