"""Apply Alembic migrations from code (`palabre run`, `palabre db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import scrub_sqlite

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Indexes only SQLite gets, from the migrations (0007): not in the models, which describe both
# databases, so comparing the schema with the models leaves them out.
SQLITE_ONLY_INDEXES = frozenset({"ix_consultation_answer_question_value"})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter for schema comparisons (autogenerate, tests): everything but SQLITE_ONLY_INDEXES."""
    return not (type_ == "index" and name in SQLITE_ONLY_INDEXES)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # '%' must be doubled for ConfigParser; URLs with encoded passwords contain it.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema of `engine`'s database up to `revision`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection) -> None:  # type: ignore[no-untyped-def]
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    before = await current_revision(engine)
    async with engine.begin() as connection:
        await connection.run_sync(run)
    if before is not None and await current_revision(engine) != before:
        # Values a migration rewrote (0011 encrypts what was in clear) would stay in freed pages.
        await scrub_sqlite(engine)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
