"""A frozen leader (SIGSTOP) is replaced within a bounded time, and stands down when it resumes."""

from __future__ import annotations

import asyncio

from participation import outbox
from storage.db import make_engine, make_sessionmaker
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import BotProcess, PalabreFactory

LEASE = 3.0  # LEADER_LEASE_SECONDS for this story
TAKES_OVER = "now runs the scheduler"
STANDS_DOWN = "stopped the scheduler and the sender"


async def enqueue(database_url: str, label: str, users: list[FakeUser]) -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            for user in users:
                await outbox.enqueue(session, chat_id=user.id, method="sendMessage", payload={"text": f"{label} {user.id}"})
    finally:
        await engine.dispose()


async def wait_all_sent(database_url: str, total: int) -> None:
    """Wait until the outbox has recorded `total` messages as sent (none in flight any more)."""
    engine = make_engine(database_url)
    try:
        for _ in range(300):
            async with make_sessionmaker(engine)() as session:
                if (await outbox.delivery_figures(session)).sent == total:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"the outbox did not record {total} messages as sent")
    finally:
        await engine.dispose()


async def test_a_frozen_leader_is_replaced_and_stands_down_when_it_resumes(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    first = await palabre.process(LEADER_LEASE_SECONDS=LEASE).start_worker()
    second = await palabre.process(LEADER_LEASE_SECONDS=LEASE).start_worker()
    users = [fake.user(6100 + n, f"R{n}") for n in range(5)]
    for user in users:
        user.open_chat()

    await enqueue(palabre.database_url, "avant", users)
    for user in users:
        await user.wait_message(f"avant {user.id}", timeout=20)
    await wait_all_sent(palabre.database_url, len(users))  # nothing in flight when it freezes
    leader, follower = (first, second) if TAKES_OVER in first.logs else (second, first)
    assert TAKES_OVER not in follower.logs

    leader.freeze()
    frozen: BotProcess | None = leader
    try:
        await enqueue(palabre.database_url, "pendant", users)
        # The follower takes over once the lease has expired: at most a lease, plus the third of a
        # lease between two of its attempts, plus slack for a busy machine.
        for user in users:
            await user.wait_message(f"pendant {user.id}", timeout=3 * LEASE + 10)
        await follower.wait_log(TAKES_OVER, timeout=1)

        leader.thaw()
        frozen = None
        await leader.wait_log(STANDS_DOWN, timeout=3 * LEASE + 10)
        await enqueue(palabre.database_url, "après", users)
        for user in users:
            await user.wait_message(f"après {user.id}", timeout=20)
        await wait_all_sent(palabre.database_url, 3 * len(users))
    finally:
        if frozen is not None:
            frozen.thaw()

    for user in users:  # two leaders, one of them frozen then resumed: each message went out once
        texts = [message.get("text") for message in user.messages]
        for label in ("avant", "pendant", "après"):
            assert texts.count(f"{label} {user.id}") == 1, texts
    assert leader.logs.count(TAKES_OVER) == 1  # the resumed process did not take the lease back
