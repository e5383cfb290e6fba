"""Insert-or-ignore and insert-or-update that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _dialect(session: AsyncSession) -> str:
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"unsupported database dialect: {dialect}")
    return dialect


def _insert_for(session: AsyncSession, table: Table):  # type: ignore[no-untyped-def]
    return (postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert)(table)


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any], conflict_columns: list[str]) -> bool:
    """Insert a row unless one with the same `conflict_columns` exists; True when inserted."""
    statement = _insert_for(session, table).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    result = await session.execute(statement)
    return bool(result.rowcount)


@functools.lru_cache(maxsize=64)
def _upsert_statement(dialect: str, table: Table, conflict_columns: tuple[str, ...], update_columns: tuple[str, ...]):  # type: ignore[no-untyped-def]
    # Built once per shape, values given at execution: building `excluded` each time was a tenth
    # of the cost of a consultation tap (bench/answers.py).
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return insert.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={column: insert.excluded[column] for column in update_columns},
    )


async def upsert(
    session: AsyncSession,
    table: Table,
    values: dict[str, Any],
    conflict_columns: list[str],
    update_columns: list[str],
) -> None:
    """Insert a row, or update `update_columns` of the existing one."""
    statement = _upsert_statement(_dialect(session), table, tuple(conflict_columns), tuple(update_columns))
    await session.execute(statement, values)


async def insert_many_ignore(session: AsyncSession, table: Table, rows: list[dict[str, Any]], conflict_columns: list[str]) -> int:
    """Insert many rows in one statement, skipping those that conflict; returns how many were inserted."""
    if not rows:
        return 0
    statement = _insert_for(session, table).values(rows).on_conflict_do_nothing(index_elements=conflict_columns)
    result = await session.execute(statement)
    return int(result.rowcount or 0)
