"""aiogram FSM storage over the `conversation_state` table: conversations survive restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, KeyBuilder, StateType, StorageKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.db import SessionMaker
from storage.models import ConversationState
from storage.types import utcnow
from storage.upsert import upsert

# The session of the update being handled, set by DbSessionMiddleware. State changes made while
# handling an update join its transaction: they are committed with the answers they go with, or
# rolled back with them. (With SQLite a second writer would also wait for the update's own lock.)
UPDATE_SESSION: ContextVar[AsyncSession | None] = ContextVar("palabre_update_session", default=None)
_CACHE_KEY = "palabre_fsm_states"


class DatabaseStorage(BaseStorage):
    """Keeps each conversation's state and data in the database."""

    def __init__(self, sessionmaker: SessionMaker, key_builder: KeyBuilder | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)

    def _key(self, key: StorageKey) -> str:
        return self._key_builder.build(key)

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        session = UPDATE_SESSION.get()
        if session is not None:
            yield session
            return
        async with self._sessionmaker.begin() as own:
            yield own

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        session = UPDATE_SESSION.get()
        if session is not None:
            yield session  # sees the update's own uncommitted changes
            return
        async with self._sessionmaker() as own:
            yield own

    def _cache(self) -> dict[str, tuple[str | None, dict[str, Any]]] | None:
        """The states already read or written during the update being handled, by key.

        An update reads its resident's state several times (aiogram's FSM middleware for the state
        filters, then handlers); the per-resident lock is held from before the first read until
        after the commit, so what was read stays true for the whole update (bench/RESULTS.md §6).
        Outside an update nothing is cached.
        """
        session = UPDATE_SESSION.get()
        if session is None:
            return None
        return session.info.setdefault(_CACHE_KEY, {})

    async def _load(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        built = self._key(key)
        cache = self._cache()
        if cache is not None and built in cache:
            return cache[built]
        async with self._reading() as session:
            row = (
                await session.execute(
                    select(col(ConversationState.state), col(ConversationState.data)).where(col(ConversationState.key) == built)
                )
            ).first()
        loaded = (row[0], dict(row[1] or {})) if row is not None else (None, {})
        if cache is not None:
            cache[built] = loaded
        return loaded

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        built = self._key(key)
        async with self._writing() as session:
            await upsert(
                session,
                ConversationState,
                {"key": built, "state": value, "data": {}, "updated_at": utcnow()},
                ["key"],
                ["state", "updated_at"],
            )
        cache = self._cache()
        if cache is not None and built in cache:  # the data is known only if it was read
            cache[built] = (value, cache[built][1])

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        built = self._key(key)
        async with self._writing() as session:
            await upsert(
                session,
                ConversationState,
                {"key": built, "state": None, "data": dict(data), "updated_at": utcnow()},
                ["key"],
                ["data", "updated_at"],
            )
        cache = self._cache()
        if cache is not None and built in cache:
            cache[built] = (cache[built][0], dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._load(key))[1])  # a copy: callers may change it

    async def close(self) -> None:
        # The engine belongs to the application, which disposes of it.
        return None
