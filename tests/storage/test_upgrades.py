"""Upgrades keep data: a database filled at every revision reaches the newest with its rows intact.

The walk follows whatever chain storage/migrations/versions holds: at each revision every table
that exists gets a row, then the next revision runs; at the end each row is read back.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from storage import crypto
from storage.db import make_engine
from storage.migrate import alembic_config, current_revision, head_revision, upgrade

# Columns a later migration rewrites on purpose (table, column): their values may differ at the
# end; every other value must come back exactly as written.
REWRITTEN_ON_PURPOSE: frozenset[tuple[str, str]] = frozenset()


@dataclass
class Written:
    revision: str
    table: str
    key: dict[str, Any]
    values: dict[str, Any]


def revisions_in_order() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


class Filler:
    """Writes one plausible row into every table, values unique across the whole walk."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)
        self.written: list[Written] = []

    def value(self, column: Column[Any]) -> Any:
        n = next(self.counter)
        kind = column.type
        if isinstance(kind, Boolean):
            return n % 2 == 0
        if isinstance(kind, DateTime):
            return datetime(2026, 1 + n % 12, 1 + n % 28, n % 24, n % 60)
        if isinstance(kind, Date):
            return date(2026, 1 + n % 12, 1 + n % 28)
        if isinstance(kind, (Integer,)):
            return n
        if isinstance(kind, (Float, Numeric)):
            return Decimal(n) if isinstance(kind, Numeric) and kind.asdecimal else float(n)
        if isinstance(kind, (JSON, JSONB)):
            if (column.table.name, column.name) == ("consultation", "questions"):
                # Read by migration 0011 to find the text questions whose answers it seals.
                return [{"id": f"q{n}", "type": "text", "prompt": f"v{n}"}]
            return {"kept": f"v{n}"}
        if isinstance(kind, LargeBinary):
            return f"b{n}".encode()
        if isinstance(kind, (String, Text)):
            text = f"v{n}"
            length = getattr(kind, "length", None)
            return text[-length:] if length else text
        raise AssertionError(f"no sample value for {column.table.name}.{column.name} of type {kind!r}")

    def fill(self, connection: Connection, revision: str) -> None:
        metadata = MetaData()
        metadata.reflect(connection)
        latest: dict[str, dict[str, Any]] = {}  # the row written into each table at this revision
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            values: dict[str, Any] = {}
            for column in table.columns:
                foreign = next(iter(column.foreign_keys), None)
                if foreign is not None:
                    target = latest.get(foreign.column.table.name)
                    if target is None or foreign.column.name not in target:
                        if not column.nullable:
                            raise AssertionError(f"{table.name}.{column.name}: no row to refer to")
                        values[column.name] = None
                    else:
                        values[column.name] = target[foreign.column.name]
                    continue
                values[column.name] = self.value(column)
            connection.execute(table.insert().values(**values))
            # Keys are written like any value (some are not numbered by the database): rows are found by them.
            key = {c.name: values[c.name] for c in table.primary_key.columns}
            latest[table.name] = {**values, **key}
            self.written.append(Written(revision, table.name, key, values))

    def check(self, connection: Connection) -> list[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        problems = []
        for row in self.written:
            table: Table | None = metadata.tables.get(row.table)
            if table is None:
                continue  # a table a later migration dropped on purpose
            condition = and_(*(table.c[name] == value for name, value in row.key.items()))
            found = connection.execute(select(table).where(condition)).mappings().first()
            if found is None:
                problems.append(f"{row.table} {row.key} written at {row.revision} is gone")
                continue
            for name, value in row.values.items():
                if name in table.c and (row.table, name) not in REWRITTEN_ON_PURPOSE and not same(found[name], value):
                    problems.append(f"{row.table}.{name} written at {row.revision}: {value!r} became {found[name]!r}")
        return problems


def same(stored: Any, written: Any) -> bool:
    if crypto.is_token(stored) and not crypto.is_token(written):
        # Encrypted by migration 0011: intact when it decrypts to what was written.
        clear = crypto.decrypt(stored)
        if clear == str(written):
            return True
        try:
            return bool(json.loads(clear) == (json.loads(written) if isinstance(written, str) else written))
        except ValueError:
            return False
    if isinstance(stored, datetime) and isinstance(written, datetime):
        return stored.replace(tzinfo=None) == written.replace(tzinfo=None)
    if isinstance(stored, bool) or isinstance(written, bool):
        return bool(stored) == bool(written)
    return bool(stored == written)


async def test_a_database_filled_at_every_revision_upgrades_to_the_newest_with_every_row_intact(database_url: str) -> None:
    revisions = revisions_in_order()
    assert revisions[-1] == head_revision() and len(revisions) >= 2
    engine = make_engine(database_url)
    filler = Filler()
    try:
        for revision in revisions:
            await upgrade(engine, revision)
            assert await current_revision(engine) == revision
            async with engine.begin() as connection:
                await connection.run_sync(filler.fill, revision)
        async with engine.connect() as connection:
            problems = await connection.run_sync(filler.check)
    finally:
        await engine.dispose()
    assert {row.revision for row in filler.written} == set(revisions)  # every step had tables to fill
    assert problems == []
