"""The store's typed helpers over SQLModel tables and DML results give what the database holds."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlmodel import col

from storage.db import SessionMaker
from storage.models import Resident
from storage.upsert import affected_rows, insert_ignore


async def test_a_model_class_inserts_into_its_table_once(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        assert await insert_ignore(session, Resident, {"telegram_id": 7, "pseudonym": "p7"}, ["telegram_id"])
        assert not await insert_ignore(session, Resident, {"telegram_id": 7, "pseudonym": "p8"}, ["telegram_id"])
    async with sessionmaker() as session:
        assert [(r.telegram_id, r.pseudonym) for r in await session.scalars(select(Resident))] == [(7, "p7")]


async def test_affected_rows_counts_what_an_update_or_delete_touched(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        session.add_all([Resident(telegram_id=1), Resident(telegram_id=2), Resident(telegram_id=3)])
    async with sessionmaker.begin() as session:
        updated = await session.execute(update(Resident).where(col(Resident.telegram_id) < 3).values(notifications_enabled=False))
        assert affected_rows(updated) == 2
        assert affected_rows(await session.execute(delete(Resident).where(col(Resident.telegram_id) == 99))) == 0
