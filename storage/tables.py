"""Typed access to what SQLModel and the async session leave untyped: a model's table, a DML row count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import CursorResult, Result, Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model: SQLModel sets `__table__` but does not declare it in its types."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def affected_rows(result: Result[Any]) -> int:
    """The rows an INSERT, UPDATE or DELETE touched; AsyncSession types every result as a plain Result."""
    if not isinstance(result, CursorResult):
        raise TypeError("only the result of an INSERT, UPDATE or DELETE has a row count")
    return result.rowcount
