"""JSON aggregation in SQL that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, ColumnElement, Text, cast, func
from sqlalchemy.ext.asyncio import AsyncSession


def json_object_of(session: AsyncSession, key: Any, value: Any, when: ColumnElement[bool] | None = None) -> ColumnElement[str]:
    """`key` → `value` of the rows (matching `when`), aggregated into the text of one JSON object.

    Rows not matching `when` are left out: the NULL key of an outer join's empty row would make
    either database refuse the aggregate. Read the text back with `decoded`.
    """
    postgresql = session.get_bind().dialect.name == "postgresql"
    stored = getattr(value.type, "impl", value.type)  # a TypeDecorator (the answers' values) stores its impl
    if not postgresql and isinstance(stored, JSON):
        value = func.json(value)  # SQLite stores JSON as its text: nest it, don't quote it
    function = func.json_object_agg(key, value) if postgresql else func.json_group_object(key, value)
    aggregate: ColumnElement[Any] = function.filter(when) if when is not None else function
    # As text on PostgreSQL: the driver would otherwise decode the json itself. No row gives NULL there, not {}.
    return cast(aggregate, Text) if postgresql else aggregate


def decoded(aggregated: str | None) -> dict[str, Any]:
    """The object `json_object_of` built; an empty one (NULL on PostgreSQL) needs no parsing."""
    return json.loads(aggregated) if aggregated and aggregated != "{}" else {}
