"""Leadership: of all the `palabre run` processes, exactly one runs the scheduler and the sender.

PostgreSQL: a session-level advisory lock held on a dedicated connection; if the leader dies its
connection closes, the lock is freed and another process takes over within RETRY_SECONDS.
SQLite: the database is on one machine, so an exclusive lock on a file beside it does the same
(the operating system frees it when the process dies).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger("palabre.leader")

RETRY_SECONDS = 2.0
CHECK_SECONDS = 2.0
ADVISORY_LOCK_KEY = 0x50414C41  # "PALA": any constant shared by every process of one database


class LeaderLock(Protocol):
    async def try_acquire(self) -> bool: ...
    async def still_held(self) -> bool: ...
    async def release(self) -> None: ...


class PostgresLeaderLock:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def try_acquire(self) -> bool:
        connection = await self._engine.connect()
        try:
            got = (await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})).scalar()
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    async def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception:  # noqa: BLE001 - a broken connection means the lock is gone
            return False

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                await self._connection.commit()
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None


class FileLeaderLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leader_lock_for(engine: AsyncEngine) -> LeaderLock:
    url = make_url(engine.url.render_as_string(hide_password=False))
    if url.get_backend_name() == "postgresql":
        return PostgresLeaderLock(engine)
    database = Path(url.database or "palabre.db").resolve()
    return FileLeaderLock(database.with_name(database.name + ".leader"))


async def lead(
    lock: LeaderLock,
    start: Callable[[], Awaitable[None]],
    stop: Callable[[], Awaitable[None]],
    stopping: asyncio.Event,
) -> None:
    """Run `start` while this process holds the lock, `stop` when it loses it or shuts down."""
    while not stopping.is_set():
        try:
            acquired = await lock.try_acquire()
        except Exception:  # noqa: BLE001 - database down: try again later
            log.warning("leader: could not ask for the lock; retrying", exc_info=True)
            acquired = False
        if not acquired:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=RETRY_SECONDS)
            continue
        log.info("leader: this process now runs the scheduler and the outbox sender")
        await start()
        try:
            while not stopping.is_set() and await lock.still_held():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=CHECK_SECONDS)
        finally:
            await stop()
            await lock.release()
            if not stopping.is_set():
                log.warning("leader: lost the lock; another process takes over")
