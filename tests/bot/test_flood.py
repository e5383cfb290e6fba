"""Flood counters: one warning, then silence for a while, per resident; in memory and in Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from bot.flood import MAX_UPDATES_PER_WINDOW, SILENCE_SECONDS, WINDOW_SECONDS, MemoryFloodCounter, RedisFloodCounter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_counter_warns_once_then_silences_then_forgives() -> None:
    clock = Clock()
    counter = MemoryFloodCounter(clock)
    results = [await counter.hit(7) for _ in range(50)]
    assert results[:MAX_UPDATES_PER_WINDOW] == [(True, False)] * MAX_UPDATES_PER_WINDOW
    assert results[MAX_UPDATES_PER_WINDOW] == (False, True)
    assert set(results[MAX_UPDATES_PER_WINDOW + 1 :]) == {(False, False)}
    assert await counter.hit(8) == (True, False)  # someone else is not affected
    clock.now += SILENCE_SECONDS + 1
    assert await counter.hit(7) == (True, False)


async def test_memory_counter_allows_a_steady_pace() -> None:
    clock = Clock()
    counter = MemoryFloodCounter(clock)
    for _ in range(200):  # one tap a second, for minutes: never a flood
        assert await counter.hit(7) == (True, False)
        clock.now += WINDOW_SECONDS / MAX_UPDATES_PER_WINDOW * 1.5


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs Redis (scripts/test starts one when installed)")
async def test_redis_counter_is_shared_by_workers() -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(os.environ["TEST_REDIS_URL"])
    user = int(uuid.uuid4().int % 10**9)
    worker_a, worker_b = RedisFloodCounter(redis), RedisFloodCounter(redis)
    results = [await (worker_a if n % 2 else worker_b).hit(user) for n in range(40)]
    await redis.aclose()
    assert results.count((True, False)) == MAX_UPDATES_PER_WINDOW
    assert results.count((False, True)) == 1  # one warning, whichever worker saw the flood
