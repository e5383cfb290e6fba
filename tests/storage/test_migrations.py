"""Migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.migrate import SQLITE_ONLY_INDEXES, current_revision, head_revision, include_object, upgrade


async def test_upgrade_reaches_head_and_is_idempotent(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # a second `palabre run` start must be a no-op
    assert await current_revision(engine) == head_revision()


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "a model changed without a migration: add one in storage/migrations/versions"


async def test_sqlite_only_indexes_exist_on_sqlite_only(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        indexes = await connection.run_sync(
            lambda sync: {index["name"] for index in inspect(sync).get_indexes("consultation_answer")}
        )
    expected = SQLITE_ONLY_INDEXES if engine.dialect.name == "sqlite" else set()
    assert indexes & SQLITE_ONLY_INDEXES == expected
