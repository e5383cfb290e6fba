"""The sender's rate limiter: no sliding second ever holds more sends than the rate."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.sender import RateLimiter


async def test_no_second_ever_holds_more_sends_than_the_rate() -> None:
    limiter = RateLimiter(20)
    limiter.pause(0.01)  # after a pause the bucket is full: the burst must still fit in the second
    times = []
    for _ in range(45):
        await limiter.acquire()
        times.append(time.monotonic())
        limiter.release()
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 20


async def test_sends_still_in_flight_count_against_the_rate() -> None:
    """A slow send may reach Telegram late: until it completes, it holds its place in the second."""
    limiter = RateLimiter(3)
    for _ in range(3):
        await limiter.acquire()  # three sends on their way, none completed
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), timeout=1.5)
    limiter.release()
    await asyncio.wait_for(limiter.acquire(), timeout=1.5)


def test_forgetting_past_chats_keeps_those_still_paced() -> None:
    """The per-chat memory is pruned as a broadcast goes on; a chat written to a moment ago stays paced."""
    limiter = RateLimiter(500)
    limiter.note_chat(1)
    limiter.note_chat(-2)  # a group: 3 s between messages
    for chat in range(3, 10_003):  # many times the pruning bound
        limiter.note_chat(chat)
    assert limiter.chat_wait(1) > 0 and limiter.chat_wait(-2) > 0 and limiter.chat_wait(10_002) > 0
