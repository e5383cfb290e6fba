"""Apply Alembic migrations from code (`palabre run`, `palabre db upgrade`, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import crypto, rekey
from storage.db import scrub_sqlite

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The migration that encrypts the personal data stored in clear before it: it needs DATA_KEY.
ENCRYPTION_REVISION = "0011"

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

    def run(connection: Connection) -> None:
        refuse_encryption_without_key(connection, config)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"the migration left {len(broken)} rows pointing at a missing row: stopped before its commit")

    sqlite = engine.dialect.name == "sqlite"
    before = await current_revision(engine)
    try:
        async with engine.begin() as connection:
            if sqlite:
                # Batch migrations rebuild a table (copy, drop, rename): with foreign keys on, dropping
                # the old table would cascade-delete every row that refers to it. The pragma only
                # works outside a transaction, hence first; foreign_key_check runs before the commit.
                await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.run_sync(run)
    finally:
        if sqlite:
            async with engine.connect() as connection:
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    if before is not None and await current_revision(engine) != before:
        # Values a migration rewrote (0011 encrypts what was in clear) would stay in freed pages.
        await scrub_sqlite(engine)


def refuse_encryption_without_key(connection: Any, config: Config) -> None:
    """Stop before any migration runs when 0011 would need DATA_KEY and none is set.

    Checked up front, not inside 0011: SQLite does not roll back DDL, so the migrations before it
    in the same upgrade would stay applied without their revision being recorded.
    """
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None or crypto.installed_keys():
        return
    pending = {script.revision for script in ScriptDirectory.from_config(config).iterate_revisions("heads", current)}
    if ENCRYPTION_REVISION in pending and rekey.has_clear_personal_data(connection):
        raise crypto.MissingKey(crypto.MISSING_KEY_FOR_MIGRATION)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
