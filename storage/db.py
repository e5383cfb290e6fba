"""The async engine and the session factory, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionMaker = async_sessionmaker[AsyncSession]
SQLITE_QUEUE_SECONDS = 60.0  # a transaction waiting longer for the connection fails (and is retried)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (exports, Open311) work while the bot writes; busy_timeout makes a writer
    # wait for the lock instead of failing at once; SQLite leaves foreign keys off unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted or replaced content is overwritten with zeros, not left readable in free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the engine for `url`; SQLite connections get the pragmas the house style asks for."""
    parsed = make_url(url)
    # hide_parameters: a failed statement is logged (and its error shown) without its values,
    # which are often what a resident typed.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("an in-memory SQLite database cannot be shared: give a file path")
        kwargs["connect_args"] = {"timeout": 30}
        # One connection per process: transactions queue for SQLite's one write lock (bench/RESULTS.md §6).
        # Readers queue too; transactions are short since none spans a network call.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=SQLITE_QUEUE_SECONDS)
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> SessionMaker:
    # expire_on_commit=False: objects stay readable after the one commit at the end of an update.
    return async_sessionmaker(engine, expire_on_commit=False)


async def scrub_sqlite(engine: AsyncEngine) -> None:
    """Rewrite a SQLite file and empty its WAL, so that no old version of a row stays in either.

    Run after values were encrypted or re-encrypted in bulk (migration 0011, key rotation): the
    pages they replaced would otherwise keep the clear (or old-key) values until reused.
    """
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None  # a connection just opened has its driver's
        # VACUUM refuses to run in a transaction: on the driver's connection, in autocommit.
        await driver.execute("VACUUM")
        await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def ping(engine: AsyncEngine) -> bool:
    """True when the database answers (used by /healthz)."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable" for a health check
        return False
