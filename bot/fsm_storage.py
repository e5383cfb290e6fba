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

from storage.db import SessionMaker
from storage.models import ConversationState
from storage.types import utcnow
from storage.upsert import upsert


# The session of the update being handled, set by DbSessionMiddleware. State changes made while
# handling an update join its transaction: they are committed with the answers they go with, or
# rolled back with them. (With SQLite a second writer would also wait for the update's own lock.)
UPDATE_SESSION: ContextVar[AsyncSession | None] = ContextVar("palabre_update_session", default=None)


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

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._writing() as session:
            await upsert(
                session,
                ConversationState.__table__,  # type: ignore[arg-type]
                {"key": self._key(key), "state": value, "data": {}, "updated_at": utcnow()},
                ["key"],
                ["state", "updated_at"],
            )

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._reading() as session:
            return await session.scalar(
                select(ConversationState.state).where(ConversationState.key == self._key(key))
            )

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._writing() as session:
            await upsert(
                session,
                ConversationState.__table__,  # type: ignore[arg-type]
                {"key": self._key(key), "state": None, "data": dict(data), "updated_at": utcnow()},
                ["key"],
                ["data", "updated_at"],
            )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._reading() as session:
            data = await session.scalar(
                select(ConversationState.data).where(ConversationState.key == self._key(key))
            )
        return dict(data or {})

    async def close(self) -> None:
        # The engine belongs to the application, which disposes of it.
        return None
