"""Conversation state lives in the database: a new storage object (a restarted bot) sees it."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.fsm_storage import UPDATE_SESSION, DatabaseStorage
from storage.db import SessionMaker


class Flow(StatesGroup):
    asking = State()


KEY = StorageKey(bot_id=1, chat_id=1001, user_id=1001)


async def test_state_and_data_survive_a_new_storage(sessionmaker: SessionMaker) -> None:
    before_restart = DatabaseStorage(sessionmaker)
    await before_restart.set_state(KEY, Flow.asking)
    await before_restart.update_data(KEY, {"question": 2, "answers": {"q1": ["a", "b"]}})

    after_restart = DatabaseStorage(sessionmaker)
    assert await after_restart.get_state(KEY) == Flow.asking.state
    assert await after_restart.get_data(KEY) == {"question": 2, "answers": {"q1": ["a", "b"]}}


async def test_state_and_data_are_independent_and_clearable(sessionmaker: SessionMaker) -> None:
    storage = DatabaseStorage(sessionmaker)
    await storage.set_data(KEY, {"x": 1})
    await storage.set_state(KEY, "Flow:asking")
    assert await storage.get_data(KEY) == {"x": 1}  # setting the state kept the data
    await storage.set_state(KEY, None)
    await storage.set_data(KEY, {})
    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {}


async def test_keys_do_not_mix_residents(sessionmaker: SessionMaker) -> None:
    storage = DatabaseStorage(sessionmaker)
    other = StorageKey(bot_id=1, chat_id=1002, user_id=1002)
    await storage.set_state(KEY, "Flow:asking")
    assert await storage.get_state(other) is None
    assert await storage.get_data(other) == {}


async def test_inside_an_update_changes_are_read_back_and_committed_with_it(sessionmaker: SessionMaker) -> None:
    """Within an update the state is read once and cached; what the update writes is what it
    reads next, and it reaches the database with the update's commit — or not at all."""
    storage = DatabaseStorage(sessionmaker)
    await storage.set_data(KEY, {"draft": "before"})

    async with sessionmaker() as session:
        token = UPDATE_SESSION.set(session)
        try:
            assert await storage.get_state(KEY) is None
            assert await storage.get_data(KEY) == {"draft": "before"}
            await storage.set_state(KEY, Flow.asking)
            assert await storage.get_state(KEY) == Flow.asking.state
            assert await storage.get_data(KEY) == {"draft": "before"}  # setting the state kept the data
            data = await storage.get_data(KEY)
            data["draft"] = "changed in place"  # a caller's copy: the cache must not follow it
            assert await storage.get_data(KEY) == {"draft": "before"}
            await storage.set_data(KEY, {"draft": "after"})
            assert await storage.get_data(KEY) == {"draft": "after"}
            other = StorageKey(bot_id=1, chat_id=1002, user_id=1002)
            await storage.set_state(other, "Flow:asking")  # never read in this update
            assert await storage.get_state(other) == "Flow:asking"
            assert await storage.get_data(other) == {}
        finally:
            UPDATE_SESSION.reset(token)
        await session.rollback()  # the handler failed: nothing it wrote may stay

    assert await storage.get_state(KEY) is None
    assert await storage.get_data(KEY) == {"draft": "before"}

    async with sessionmaker() as session:
        token = UPDATE_SESSION.set(session)
        try:
            await storage.set_state(KEY, Flow.asking)
            await storage.set_data(KEY, {"draft": "kept"})
        finally:
            UPDATE_SESSION.reset(token)
        await session.commit()

    after_restart = DatabaseStorage(sessionmaker)
    assert await after_restart.get_state(KEY) == Flow.asking.state
    assert await after_restart.get_data(KEY) == {"draft": "kept"}
