"""Flood control: a resident who sends too much too fast is warned once, then ignored a while.

It runs before the database session is opened, so nothing of a flood is stored. With several
workers the counters live in Redis, so a flood spread over workers is still seen as one.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlmodel import col

from bot.i18n import locale_for
from storage.db import SessionMaker
from storage.models import Resident

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# 30 updates in 10 seconds is more than anyone tapping quickly through a consultation produces.
WINDOW_SECONDS = 10.0
MAX_UPDATES_PER_WINDOW = 30
SILENCE_SECONDS = 60.0


class FloodCounter(Protocol):
    async def hit(self, user_id: int) -> tuple[bool, bool]:
        """Count one update; returns (allowed, warn_now)."""


class MemoryFloodCounter:
    """Counters in this process (one worker)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._silenced_until: dict[int, float] = {}

    async def hit(self, user_id: int) -> tuple[bool, bool]:
        now = self._clock()
        if self._silenced_until.get(user_id, 0.0) > now:
            return False, False
        hits = self._hits.setdefault(user_id, deque())
        while hits and hits[0] <= now - WINDOW_SECONDS:
            hits.popleft()
        hits.append(now)
        if len(hits) > MAX_UPDATES_PER_WINDOW:
            self._silenced_until[user_id] = now + SILENCE_SECONDS
            hits.clear()
            return False, True
        if len(self._hits) > 100_000:  # forget quiet users so memory stays bounded
            self._hits = {uid: h for uid, h in self._hits.items() if h and h[-1] > now - WINDOW_SECONDS}
            self._silenced_until = {uid: t for uid, t in self._silenced_until.items() if t > now}
        return True, False


class RedisFloodCounter:
    """Counters shared by every worker: a fixed window per user and a silence key."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def hit(self, user_id: int) -> tuple[bool, bool]:
        silence_key, count_key = f"palabre:flood:silence:{user_id}", f"palabre:flood:count:{user_id}"
        if await self._redis.exists(silence_key):
            return False, False
        pipe = self._redis.pipeline()
        pipe.incr(count_key)
        pipe.expire(count_key, int(WINDOW_SECONDS), nx=True)
        count, _ = await pipe.execute()
        if int(count) > MAX_UPDATES_PER_WINDOW:
            # SET NX: of several workers seeing the flood at once, only one warns.
            first = await self._redis.set(silence_key, 1, ex=int(SILENCE_SECONDS), nx=True)
            await self._redis.delete(count_key)
            return False, bool(first)
        return True, False


class FloodControlMiddleware(BaseMiddleware):
    """Outer middleware on `dp.update`, before the database session."""

    def __init__(self, counter: FloodCounter, i18n: I18n, sessionmaker: SessionMaker, default_locale: str) -> None:
        self._counter = counter
        self._i18n = i18n
        self._sessionmaker = sessionmaker
        self._default_locale = default_locale

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None or user.is_bot or chat is None or chat.type != "private":
            return await handler(event, data)
        allowed, warn = await self._counter.hit(user.id)
        if allowed:
            return await handler(event, data)
        if warn:
            await self._warn(data["bot"], user)
        return None

    async def _warn(self, bot: Bot, user: User) -> None:
        async with self._sessionmaker() as session:  # read only: the flood itself stores nothing
            chosen = await session.scalar(select(col(Resident.locale)).where(col(Resident.telegram_id) == user.id))
        with self._i18n.context(), self._i18n.use_locale(locale_for(chosen, user, self._default_locale)):
            text = _("🐢 Easy! You are sending a lot of messages very fast. I will not answer for a minute.")
        await bot.send_message(user.id, text)
