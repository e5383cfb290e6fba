"""Scan every table of a database for values that must not be there (after /forget, in logs…)."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncEngine


async def find_in_database(engine: AsyncEngine, needles: list[str]) -> list[str]:
    """Every place (table.column) where one of `needles` appears, as a whole word, in any row."""
    patterns = {needle: re.compile(rf"(?<![\w]){re.escape(needle)}(?![\w])", re.IGNORECASE) for needle in needles}
    found: list[str] = []
    async with engine.connect() as connection:
        metadata = MetaData()
        await connection.run_sync(metadata.reflect)
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            for row in (await connection.execute(select(table))).mappings():
                for column, value in row.items():
                    text = _as_text(value)
                    for needle, pattern in patterns.items():
                        if pattern.search(text):
                            found.append(f"{table.name}.{column} holds {needle!r}")
    return sorted(set(found))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("{", "["):
        # A JSON column read as text (SQLite) holds \u escapes: "l\u2019\u00e9cole" hid "l’école".
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
