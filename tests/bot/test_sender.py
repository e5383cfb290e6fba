"""The outbox sender: a 429 puts the message back in the queue; the pace never exceeds the rate."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from sqlalchemy import select

from bot.sender import OutboxSender, RateLimiter
from participation import outbox
from storage.models import OutboxMessage


class TooManyOnce(BaseSession):
    """Answers the first send with 429 (retry after 1 s), like Telegram's flood control."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls += 1
        raise TelegramRetryAfter(method=method, message="Too Many Requests: retry after 1", retry_after=1)

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError
        yield b""  # pragma: no cover


async def test_a_message_refused_with_429_is_queued_again_not_left_in_flight(sessionmaker) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        await outbox.enqueue(session, chat_id=42, method="sendMessage", payload={"text": "Bonjour"})
    sender = OutboxSender(Bot("1:x", session=TooManyOnce()), sessionmaker, rate=25)
    assert await sender.drain_once()
    async with sessionmaker() as session:
        message = await session.scalar(select(OutboxMessage))
    # Before the fix the outcome could not be recorded and the message stayed "sending" until
    # the next restart: delayed for hours, and counted as in flight.
    assert message is not None
    assert (message.status, message.attempts, message.last_error) == ("pending", 0, "429 retry_after")


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
