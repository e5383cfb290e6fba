"""Logging set-up. Log lines carry ids, kinds and timings, never what people wrote or where they are."""

from __future__ import annotations

import logging
import sys
import traceback

QUIET_LIBRARIES = ("aiogram", "aiohttp", "httpx", "httpcore", "asyncio", "redis", "alembic")
SILENT_LIBRARIES = ("sqlalchemy", "aiosqlite", "asyncpg")


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        force=True,
    )
    # aiohttp's access log would show request paths with their query strings: not needed.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # At DEBUG these libraries log what passes through them: aiosqlite each statement with its
    # parameters, aiogram and aiohttp the updates and API calls (texts, names, places, the token).
    # Palabre's own loggers may go to DEBUG; theirs never below INFO.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))
    # SQLAlchemy logs every statement at INFO: it stays at WARNING, as it sets itself by default.
    for name in SILENT_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))


def describe_crash(exc: BaseException) -> str:
    """The exception's class and where it was raised, with its causes, but never its message.

    Messages may quote what a resident wrote (a database error repeats the statement's parameters),
    and logs must not; the class and the frames are what a developer needs to find the fault.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if parts:
            parts.append("caused by:")
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}")
        parts.extend(
            f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
            for frame in traceback.extract_tb(current.__traceback__)
        )
        current = current.__cause__ or current.__context__
    return "\n".join(parts)
