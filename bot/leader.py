"""Leadership: of all the `palabre run` processes, exactly one runs the scheduler and the sender.

The leader holds a lease: the row of `leader_lease` with an expiry, renewed every third of
LEADER_LEASE_SECONDS. Another process takes the row once it has expired: after a crash, or when
the leader is frozen (SIGSTOP, a paused virtual machine) or cut off from the database. A lock
held by a connection or a file descriptor never expires while a frozen process keeps it open.

The leader fences itself: its `Fence` closes when the lease was not renewed in time, measured
from *before* the last renewal was asked, so it always closes before the row expires. The sender
and the jobs look at the fence before each action, so a process resumed after a freeze stops at
once instead of sending, and its claims are checked against the row in their own transaction.
Expiry is measured by the database's clock on PostgreSQL (processes on several machines) and by
the machine's on SQLite (the database is a local file, so all processes share one clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import SessionMaker
from storage.models import LeaderLease
from storage.types import utcnow
from storage.upsert import affected_rows, insert_ignore

log = logging.getLogger("palabre.leader")

LEASE_NAME = "scheduler-and-sender"
RENEWALS_PER_LEASE = 3  # a lease survives two failed renewals in a row
# After giving up because its work kept crashing, a process leaves the lease to the others for
# this many lease periods before competing again.
COOL_DOWN_LEASES = 2


def holder_id() -> str:
    """Names this process in the lease row and the logs: host, pid, and a random part for pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class LeadershipLost(Exception):
    """Raised inside a transaction that found this process no longer holds the lease (rolls it back)."""


class LeaseStore:
    """The lease row: take it when free or expired, renew it, give it back."""

    def __init__(self, sessionmaker: SessionMaker, seconds: float, holder: str | None = None) -> None:
        self._sessionmaker = sessionmaker
        self.seconds = seconds
        self.holder = holder or holder_id()

    @staticmethod
    async def _now(session: AsyncSession) -> datetime:
        if session.get_bind().dialect.name == "postgresql":
            # clock_timestamp(), not now(): the time of this statement, not of the transaction's start.
            value = (await session.execute(text("SELECT clock_timestamp()"))).scalar_one()
            assert isinstance(value, datetime)
            return value
        return utcnow()

    async def acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours; True when this process holds it."""
        async with self._sessionmaker.begin() as session:
            now = await self._now(session)
            expires = now + timedelta(seconds=self.seconds)
            taken = await session.execute(
                update(LeaderLease)
                .where(
                    col(LeaderLease.name) == LEASE_NAME,
                    or_(col(LeaderLease.holder) == self.holder, col(LeaderLease.expires_at) < now),
                )
                .values(holder=self.holder, acquired_at=now, expires_at=expires)
            )
            if affected_rows(taken):
                return True
            row = {"name": LEASE_NAME, "holder": self.holder, "acquired_at": now, "expires_at": expires}
            return await insert_ignore(session, LeaderLease, row, ["name"])

    async def renew(self) -> bool:
        """Push our expiry forward; False when another process holds the lease now."""
        async with self._sessionmaker.begin() as session:
            now = await self._now(session)
            renewed = await session.execute(
                update(LeaderLease)
                .where(col(LeaderLease.name) == LEASE_NAME, col(LeaderLease.holder) == self.holder)
                .values(expires_at=now + timedelta(seconds=self.seconds))
            )
            return bool(affected_rows(renewed))

    async def release(self) -> None:
        """Let the lease expire now, so that another process need not wait for it (a clean stop)."""
        async with self._sessionmaker.begin() as session:
            now = await self._now(session)
            await session.execute(
                update(LeaderLease)
                .where(col(LeaderLease.name) == LEASE_NAME, col(LeaderLease.holder) == self.holder)
                .values(expires_at=now)
            )

    async def holds(self, session: AsyncSession) -> bool:
        """Inside the caller's write transaction: do we still hold an unexpired lease?

        Call it after the transaction's first write: SQLite then holds its write lock, and on
        PostgreSQL the row is locked (FOR UPDATE), so nobody can take the lease before the caller
        commits; a takeover after that releases what the caller claimed (outbox.release_in_flight).
        """
        now = await self._now(session)
        query = select(col(LeaderLease.name)).where(
            col(LeaderLease.name) == LEASE_NAME,
            col(LeaderLease.holder) == self.holder,
            col(LeaderLease.expires_at) > now,
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return (await session.execute(query)).first() is not None


class Fence:
    """Open while this process's lease surely holds; the sender and the jobs look before acting."""

    def __init__(self, store: LeaseStore) -> None:
        self._store = store
        self._until = 0.0  # time.monotonic(): it keeps counting while the process is frozen

    def is_open(self) -> bool:
        return time.monotonic() < self._until

    def remaining(self) -> float:
        return max(0.0, self._until - time.monotonic())

    def open_until(self, deadline: float) -> None:
        self._until = deadline

    def close(self) -> None:
        self._until = 0.0

    async def confirm(self, session: AsyncSession) -> None:
        """Raise LeadershipLost, inside the caller's write transaction, unless the lease still holds."""
        if not self.is_open() or not await self._store.holds(session):
            raise LeadershipLost


class Work(Protocol):
    """What the leader runs (bot/app.py BackgroundWork)."""

    gave_up: asyncio.Event

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def _wait_any(events: list[asyncio.Event], timeout: float) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def lead(store: LeaseStore, fence: Fence, work: Work, stopping: asyncio.Event) -> None:
    """Compete for the lease; run `work` while this process holds it, stop it the moment it may not."""
    interval = store.seconds / RENEWALS_PER_LEASE
    while not stopping.is_set():
        asked = time.monotonic()
        try:
            acquired = await store.acquire()
        except Exception as exc:  # noqa: BLE001 - database down: try again later
            log.warning("leader: could not ask for the lease (%s); retrying", type(exc).__name__)
            acquired = False
        if not acquired or time.monotonic() >= asked + store.seconds:  # too slow to be of use
            await _wait_any([stopping], interval)
            continue
        fence.open_until(asked + store.seconds)
        log.info("leader: this process now runs the scheduler and the outbox sender (%s)", store.holder)
        ending = "stopping"
        next_renewal = asked + interval
        await work.start()
        try:
            while True:
                # Wake up for the next renewal, or when the fence closes if renewals keep failing.
                await _wait_any([stopping, work.gave_up], min(next_renewal - time.monotonic(), fence.remaining()))
                if stopping.is_set():
                    break
                if work.gave_up.is_set():
                    ending = "gave up"
                    break
                if not fence.is_open():
                    ending = "lapsed"
                    break
                if time.monotonic() < next_renewal:
                    continue
                asked = time.monotonic()
                try:
                    held: bool | None = await asyncio.wait_for(store.renew(), timeout=fence.remaining())
                except Exception as exc:  # noqa: BLE001 - retried until the fence closes
                    log.warning("leader: could not renew the lease (%s)", type(exc).__name__)
                    held = None
                if held is False:
                    ending = "taken"
                    break
                if held:
                    fence.open_until(asked + store.seconds)
                    next_renewal = asked + interval
                else:  # keep asking, more often, while the lease lasts
                    next_renewal = time.monotonic() + min(1.0, interval)
        finally:
            fence.close()  # first: nothing may be sent or run from here on
            await work.stop()
            if ending != "taken":
                with contextlib.suppress(Exception):
                    await store.release()
        if ending == "lapsed":
            log.warning("leader: the lease was not renewed in time; stopped the scheduler and the sender")
        elif ending == "taken":
            log.warning("leader: another process holds the lease now; stopped the scheduler and the sender")
        elif ending == "gave up":
            log.error("leader: gave up the lease so that another process can run the background work")
            await _wait_any([stopping], COOL_DOWN_LEASES * store.seconds)
            work.gave_up.clear()
