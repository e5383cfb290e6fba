"""pydantic's errors as the lines the town hall's files show: `path: message`, one line per problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails, PydanticCustomError


def problem(message: str, **values: Any) -> PydanticCustomError:
    """A problem worded as the file's readers see it; `at` adds to its path (`.coordinates`)."""
    return PydanticCustomError("palabre", message, values)


def path_of(loc: tuple[int | str, ...]) -> str:
    """`categories[2].name.fr` from pydantic's location."""
    path = ""
    for part in loc:
        if part == "[key]":
            continue  # a mapping's key: the path already names it
        if part == "":
            part = "name"  # a plain name stands for every language
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def problem_lines(error: ValidationError, *, missing: str, unknown: str, unknown_first: bool) -> list[str]:
    """One line per problem, each item's unknown keys first or last as the format always listed them."""
    lines: list[tuple[tuple[int | str, ...], int, str]] = []
    for detail in error.errors():
        loc = detail["loc"]
        extra = detail["type"] == "extra_forbidden"
        rank = (0 if unknown_first else 2) if extra else 1
        lines.append((loc[:2], rank, _line(detail, missing=missing, unknown=unknown)))
    # Stable: pydantic's own order within an item, unknown keys moved to one end of it.
    order = {key: index for index, key in enumerate(dict.fromkeys(item for item, _, _ in lines))}
    lines.sort(key=lambda line: (order[line[0]], line[1]))
    return [text for _, _, text in lines]


def _line(detail: ErrorDetails, *, missing: str, unknown: str) -> str:
    path = path_of(detail["loc"])
    if detail["type"] == "missing":
        return f"{path}: {missing}"
    if detail["type"] == "extra_forbidden":
        return f"{path}: {unknown}"
    at = (detail.get("ctx") or {}).get("at", "")
    return f"{path}{at}: {detail['msg']}"
