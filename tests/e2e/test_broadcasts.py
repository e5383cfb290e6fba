"""Broadcasts through the real `palabre run` process and the fake Bot API enforcing Telegram's limits.

Residents are written straight into the database (as if they had onboarded earlier) and their
private chats opened on the fake server: these stories are about the outbox, not onboarding.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable

from sqlalchemy import select

from participation.privacy import NOTICE_VERSION
from storage.db import make_engine, make_sessionmaker
from storage.models import Resident
from storage.types import utcnow
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, palabre_cli

FIRST_ID = 500_000


async def seed_residents(database_url: str, ids: Iterable[int], locale: Callable[[int], str] = lambda _: "fr") -> None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            now = utcnow()
            session.add_all(
                Resident(telegram_id=i, locale=locale(i), consent_at=now, consent_version=NOTICE_VERSION) for i in ids
            )
    finally:
        await engine.dispose()


async def unreachable_ids(database_url: str) -> set[int]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return set(await session.scalars(select(Resident.telegram_id).where(Resident.unreachable_at.is_not(None))))
    finally:
        await engine.dispose()


def delivered(fake: FakeTelegram, ids: Iterable[int], marker: str = "mairie") -> dict[int, int]:
    """How many broadcast messages each chat received."""
    return {i: sum(1 for m in fake.sent_to(i) if marker in (m.get("text") or m.get("caption") or "")) for i in ids}


async def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def open_chats(fake: FakeTelegram, ids: Iterable[int]) -> None:
    for i in ids:
        fake.user(i, language_code=None).open_chat()


async def test_broadcast_to_2000_residents_at_the_configured_rate_gets_no_429(
    fake: FakeTelegram, palabre: PalabreFactory
) -> None:
    ids = range(FIRST_ID, FIRST_ID + 2000)
    bot = await palabre.start()  # BROADCAST_RATE left at its default (25/s); the fake allows 30/s
    open_chats(fake, ids)
    await seed_residents(palabre.database_url, ids, locale=lambda i: "en" if i % 4 == 0 else "fr")
    out = await palabre_cli(bot, "broadcast", "--audience", "all", "--text", "Collecte des encombrants lundi 7 décembre", "--yes")
    broadcast_id = int(re.search(r"Broadcast (\d+) confirmed for 2000 residents", out).group(1))  # type: ignore[union-attr]

    # The fake runs in this event loop: the check must stay cheap, or the fake itself would stall.
    await wait_for(lambda: all(delivered(fake, ids, "Collecte des encombrants").values()), 180, "2000 deliveries")
    await fake.wait_idle(quiet=1.0, timeout=30)
    assert fake.count_429 == 0
    counts = delivered(fake, ids, "Collecte des encombrants")
    assert set(counts.values()) == {1}  # everyone once
    english = [i for i in ids if i % 4 == 0]
    assert all(fake.sent_to(i)[-1]["text"].startswith("📢 Message from your town hall") for i in english)
    assert all(fake.sent_to(i)[-1]["text"].startswith("📢 Message de votre mairie") for i in ids if i % 4)
    status = await palabre_cli(bot, "broadcast", "status", str(broadcast_id))
    assert status.strip() == f"Broadcast {broadcast_id} (queued, 2000 recipients): sent 2000, pending 0, failed 0, unreachable 0"
    fake.assert_no_errors()


async def test_throttled_broadcast_still_delivers_and_blocked_residents_become_unreachable(
    fake: FakeTelegram, palabre: PalabreFactory
) -> None:
    ids = list(range(FIRST_ID, FIRST_ID + 150))
    blocked = set(ids[10:15])
    bot = await palabre.start()
    open_chats(fake, ids)
    for chat_id in blocked:
        fake.block(chat_id)
    await seed_residents(palabre.database_url, ids)
    fake.throttle_next(12, retry_after=2)  # the server throttles whatever the rate
    out = await palabre_cli(bot, "broadcast", "--audience", "all", "--text", "Coupure d’eau mardi matin", "--yes")
    broadcast_id = int(re.search(r"Broadcast (\d+) confirmed", out).group(1))  # type: ignore[union-attr]

    reachable = [i for i in ids if i not in blocked]
    await wait_for(lambda: all(delivered(fake, reachable).values()), 120, "every reachable resident")
    await fake.wait_idle(quiet=2.5, timeout=30)
    assert fake.count_429 == 12
    assert set(delivered(fake, reachable).values()) == {1}  # throttled ones arrived, once
    for chat_id in blocked:
        refusals = [e for e in fake.errors_for(chat_id) if e.status == 403]
        assert len(refusals) == 1  # tried once, never again
    assert await unreachable_ids(palabre.database_url) == blocked
    status = await palabre_cli(bot, "broadcast", "status", str(broadcast_id))
    assert status.strip() == f"Broadcast {broadcast_id} (queued, 150 recipients): sent 145, pending 0, failed 0, unreachable 5"

    # A later broadcast leaves the blocked residents out altogether.
    await palabre_cli(bot, "broadcast", "--audience", "all", "--text", "Eau rétablie", "--yes")
    await wait_for(lambda: all(delivered(fake, reachable, "Eau rétablie").values()), 60, "the second broadcast")
    await fake.wait_idle(quiet=1.5, timeout=30)
    assert all(len([e for e in fake.errors_for(chat_id) if e.status == 403]) == 1 for chat_id in blocked)


async def test_sigkill_in_the_middle_of_a_10000_message_broadcast_loses_nothing(
    fake: FakeTelegram, palabre: PalabreFactory
) -> None:
    total = 10_000
    ids = range(FIRST_ID, FIRST_ID + total)
    rate = 500
    fake.global_per_second = 600  # raised with BROADCAST_RATE to keep the test short
    bot = await palabre.start(BROADCAST_RATE=rate)
    open_chats(fake, ids)
    await seed_residents(palabre.database_url, ids)
    await palabre_cli(bot, "broadcast", "--audience", "all", "--text", "Grand débat sur le budget", "--yes")

    def sent_so_far() -> int:
        return len(fake.calls("sendMessage"))

    await wait_for(lambda: sent_so_far() >= total * 0.4, 120, "40% of the broadcast")
    await bot.kill()
    at_kill = sum(delivered(fake, ids).values())
    assert 0 < at_kill < total

    await bot.start()
    await wait_for(lambda: all(delivered(fake, ids).values()), 180, "every message after the restart")
    await fake.wait_idle(quiet=1.5, timeout=30)
    counts = delivered(fake, ids)
    duplicates = sum(counts.values()) - total
    found = re.search(r"outbox: (\d+) messages were in flight", bot.logs)
    released = int(found.group(1)) if found else 0  # the line is logged only when some were
    batch = min(200, rate)  # OutboxSender.batch_size: what one claim takes
    max_in_flight = 64  # OutboxSender.max_in_flight: sent but not yet recorded, at most
    print(f"\nSIGKILL test: delivered before kill={at_kill}, claimed at kill={released}, duplicates={duplicates}")
    assert all(count >= 1 for count in counts.values())  # none lost
    assert released <= batch  # what a restart sends again: the claimed batch...
    assert duplicates <= min(released, max_in_flight)  # ...of which only those in the air can arrive twice
    assert fake.count_429 == 0
