"""Logging set-up. Log lines carry ids, kinds and timings, never what people wrote or where they are."""

from __future__ import annotations

import logging
import sys


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
