"""Migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import storage.models  # noqa: F401 - registers the tables
from storage.migrate import current_revision, head_revision, upgrade


async def test_upgrade_reaches_head_and_is_idempotent(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # a second `palabre run` start must be a no-op
    assert await current_revision(engine) == head_revision()


async def test_models_and_migrations_agree(engine: AsyncEngine) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == [], "a model changed without a migration: add one in storage/migrations/versions"
