"""Insert-or-ignore and insert-or-update that work the same on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

# A table, or the SQLModel class whose table it is (SQLModel does not declare `__table__` to type checkers).
TableOrModel = Table | type[SQLModel]


def table_of(target: TableOrModel) -> Table:
    """The table itself, or the table a SQLModel class is mapped to."""
    if isinstance(target, Table):
        return target
    table = inspect(target).local_table
    assert isinstance(table, Table), f"{target.__name__} is not mapped to a table"
    return table


def affected_rows(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched (the session types every result as a plain Result)."""
    assert isinstance(result, CursorResult), "only a DML statement reports the rows it touched"
    return result.rowcount


def _dialect(session: AsyncSession) -> str:
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"unsupported database dialect: {dialect}")
    return dialect


def _insert_for(dialect: str, table: Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def insert_ignore(session: AsyncSession, table: TableOrModel, values: dict[str, Any], conflict_columns: list[str]) -> bool:
    """Insert a row unless one with the same `conflict_columns` exists; True when inserted."""
    insert = _insert_for(_dialect(session), table_of(table))
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    return bool(affected_rows(await session.execute(statement)))


@functools.lru_cache(maxsize=64)
def _upsert_statement(
    dialect: str, table: Table, conflict_columns: tuple[str, ...], update_columns: tuple[str, ...]
) -> postgresql.Insert | sqlite.Insert:
    # Built once per shape, values given at execution: building it was costly per tap (bench/RESULTS.md §6).
    insert = _insert_for(dialect, table)
    return insert.on_conflict_do_update(
        index_elements=list(conflict_columns),
        set_={column: insert.excluded[column] for column in update_columns},
    )


async def upsert(
    session: AsyncSession,
    table: TableOrModel,
    values: dict[str, Any],
    conflict_columns: list[str],
    update_columns: list[str],
) -> None:
    """Insert a row, or update `update_columns` of the existing one."""
    statement = _upsert_statement(_dialect(session), table_of(table), tuple(conflict_columns), tuple(update_columns))
    await session.execute(statement, values)


async def insert_many_ignore(
    session: AsyncSession, table: TableOrModel, rows: list[dict[str, Any]], conflict_columns: list[str]
) -> int:
    """Insert many rows in one statement, skipping those that conflict; returns how many were inserted."""
    if not rows:
        return 0
    insert = _insert_for(_dialect(session), table_of(table))
    statement = insert.values(rows).on_conflict_do_nothing(index_elements=conflict_columns)
    return affected_rows(await session.execute(statement))
