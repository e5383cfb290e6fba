"""The leader's lease: one holder at a time, taken over once expired, and a fence that closes in time."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from aiogram import Bot
from sqlalchemy import select, update

from bot.leader import LEASE_NAME, Fence, LeadershipLost, LeaseStore, lead
from bot.sender import OutboxSender
from participation import outbox
from participation.outbox import Status
from storage.db import SessionMaker
from storage.models import LeaderLease, OutboxMessage
from storage.types import utcnow
from tests.bot.test_sender import ScriptedSession, enqueue

TOKEN = "123456:TEST-token"


async def expire(sessionmaker: SessionMaker) -> None:
    """What a frozen leader's lease looks like once its time is up: nobody renewed it."""
    async with sessionmaker.begin() as session:
        await session.execute(update(LeaderLease).values(expires_at=utcnow() - timedelta(seconds=1)))


async def test_one_holder_at_a_time_and_a_takeover_once_expired(sessionmaker: SessionMaker) -> None:
    first, second = LeaseStore(sessionmaker, 15, "host:1:a"), LeaseStore(sessionmaker, 15, "host:2:b")
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.renew()
    assert await first.acquire()  # asking again while holding it keeps it

    await expire(sessionmaker)
    assert await second.acquire()
    assert not await first.renew()  # the old leader learns it lost the lease
    assert not await first.acquire()
    async with sessionmaker() as session:
        row = (await session.execute(select(LeaderLease))).scalar_one()
    assert (row.name, row.holder) == (LEASE_NAME, "host:2:b")
    assert row.expires_at > utcnow() + timedelta(seconds=10)


async def test_a_clean_stop_hands_the_lease_over_at_once(sessionmaker: SessionMaker) -> None:
    first, second = LeaseStore(sessionmaker, 15, "host:1:a"), LeaseStore(sessionmaker, 15, "host:2:b")
    assert await first.acquire()
    await second.release()  # releasing what one does not hold changes nothing
    assert not await second.acquire()
    await first.release()
    assert await second.acquire()


async def test_a_claim_by_a_stale_leader_is_rolled_back(sessionmaker: SessionMaker) -> None:
    old, new = LeaseStore(sessionmaker, 15, "host:1:a"), LeaseStore(sessionmaker, 15, "host:2:b")
    fence = Fence(old)
    assert await old.acquire()
    fence.open_until(time.monotonic() + 60)  # the process did not notice: frozen
    await expire(sessionmaker)
    assert await new.acquire()
    await enqueue(sessionmaker, 501, "bonjour")

    with pytest.raises(LeadershipLost):
        async with sessionmaker.begin() as session:
            claimed = await outbox.claim_due(session, limit=10)
            assert len(claimed) == 1
            await fence.confirm(session)
    async with sessionmaker() as session:
        status = await session.scalar(select(OutboxMessage.status))
    assert status == Status.PENDING  # still there for the new leader


async def test_a_sender_behind_a_closed_fence_sends_nothing(sessionmaker: SessionMaker) -> None:
    store = LeaseStore(sessionmaker, 15, "host:1:a")
    fence = Fence(store)
    assert await store.acquire()  # held in the database, but this process's fence is closed
    await enqueue(sessionmaker, 502, "bonjour")
    session = ScriptedSession()
    sender = OutboxSender(Bot(TOKEN, session=session), sessionmaker, rate=30, fence=fence)
    await asyncio.wait_for(sender.run(), timeout=10)  # it stops by itself
    assert sender.fenced
    assert session.delivered == []
    async with sessionmaker() as db:
        assert await db.scalar(select(OutboxMessage.status)) == Status.PENDING


class RecordingWork:
    def __init__(self) -> None:
        self.gave_up = asyncio.Event()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()

    async def start(self) -> None:
        self.started.set()

    async def stop(self) -> None:
        self.stopped.set()


class StuckRenewals(LeaseStore):
    """A lease whose renewals never answer: a database cut off, or a process that cannot reach it."""

    async def renew(self) -> bool:
        await asyncio.Event().wait()
        return True


async def test_a_leader_that_cannot_renew_stops_its_work_before_the_lease_ends(sessionmaker: SessionMaker) -> None:
    store = StuckRenewals(sessionmaker, 1.5, "host:1:a")
    fence = Fence(store)
    work, stopping = RecordingWork(), asyncio.Event()
    leading = asyncio.create_task(lead(store, fence, work, stopping))
    try:
        await asyncio.wait_for(work.started.wait(), timeout=10)
        assert fence.is_open()
        await asyncio.wait_for(work.stopped.wait(), timeout=10)
        assert not fence.is_open()
        # Stopped before the row expired: no other process could have taken over yet.
        async with sessionmaker() as session:
            row = (await session.execute(select(LeaderLease))).scalar_one()
        assert row.holder == "host:1:a"
    finally:
        stopping.set()
        await asyncio.wait_for(leading, timeout=10)


async def test_work_that_gave_up_hands_the_lease_to_another_process(sessionmaker: SessionMaker) -> None:
    store, other = LeaseStore(sessionmaker, 15, "host:1:a"), LeaseStore(sessionmaker, 15, "host:2:b")
    work, stopping = RecordingWork(), asyncio.Event()
    leading = asyncio.create_task(lead(store, Fence(store), work, stopping))
    try:
        await asyncio.wait_for(work.started.wait(), timeout=10)
        assert not await other.acquire()
        work.gave_up.set()  # what the supervisor does when a task keeps crashing
        await asyncio.wait_for(work.stopped.wait(), timeout=10)
        # Given back just after the work stopped, well before the 15 s lease would have run out.
        for _ in range(200):
            if await other.acquire():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the lease was not handed over")
    finally:
        stopping.set()
        await asyncio.wait_for(leading, timeout=10)
