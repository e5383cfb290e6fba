"""The outbox queue: claiming, deduplication, backoff, blocked residents, delivery figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from participation import outbox
from participation.outbox import Status
from participation.residents import get_or_create_resident
from storage.db import SessionMaker
from storage.models import OutboxMessage, Resident
from storage.types import utcnow


async def enqueue_text(sessionmaker: SessionMaker, chat_id: int, text: str, **kwargs) -> bool:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        return await outbox.enqueue(session, chat_id=chat_id, method="sendMessage", payload={"text": text}, **kwargs)


async def test_claimed_messages_are_not_claimed_again(sessionmaker: SessionMaker) -> None:
    for n in range(5):
        await enqueue_text(sessionmaker, 100 + n, f"m{n}")
    async with sessionmaker.begin() as session:
        first = await outbox.claim_due(session, limit=3)
    async with sessionmaker.begin() as session:
        second = await outbox.claim_due(session, limit=10)
    assert [m.payload["text"] for m in first] == ["m0", "m1", "m2"]
    assert [m.payload["text"] for m in second] == ["m3", "m4"]
    assert all(m.status == Status.SENDING and m.attempts == 1 for m in first + second)


async def test_same_dedupe_key_is_queued_once(sessionmaker: SessionMaker) -> None:
    assert await enqueue_text(sessionmaker, 1, "reminder", dedupe_key="reminder:c1:48h:1") is True
    assert await enqueue_text(sessionmaker, 1, "reminder", dedupe_key="reminder:c1:48h:1") is False
    async with sessionmaker() as session:
        assert len((await session.scalars(select(OutboxMessage))).all()) == 1


async def test_future_messages_wait_and_in_flight_ones_are_released(sessionmaker: SessionMaker) -> None:
    await enqueue_text(sessionmaker, 1, "later", not_before=utcnow() + timedelta(hours=1))
    await enqueue_text(sessionmaker, 2, "now")
    async with sessionmaker.begin() as session:
        claimed = await outbox.claim_due(session, limit=10)
    assert [m.payload["text"] for m in claimed] == ["now"]
    # The process dies here, before recording the delivery: at the next start it is pending again.
    async with sessionmaker.begin() as session:
        assert await outbox.release_in_flight(session) == 1
    async with sessionmaker.begin() as session:
        assert [m.payload["text"] for m in await outbox.claim_due(session, limit=10)] == ["now"]


async def test_errors_back_off_then_give_up(sessionmaker: SessionMaker) -> None:
    await enqueue_text(sessionmaker, 1, "flaky")
    status = None
    for _ in range(outbox.MAX_ATTEMPTS):
        async with sessionmaker.begin() as session:
            await session.execute(OutboxMessage.__table__.update().values(not_before=utcnow() - timedelta(seconds=1)))
            (message,) = await outbox.claim_due(session, limit=1)
            status = await outbox.retry_or_fail(session, message, "TelegramNetworkError")
    assert status == Status.FAILED
    async with sessionmaker() as session:
        figures = await outbox.delivery_figures(session)
    assert (figures.failed, figures.pending) == (1, 0)


async def test_blocked_resident_is_unreachable_and_their_queue_stops(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        resident = await get_or_create_resident(session, 555)
    await enqueue_text(sessionmaker, 555, "one", broadcast_id=9)
    await enqueue_text(sessionmaker, 555, "two", broadcast_id=9)
    await enqueue_text(sessionmaker, 556, "other", broadcast_id=9)
    async with sessionmaker.begin() as session:
        await outbox.mark_unreachable(session, 555, "403 forbidden")
    async with sessionmaker() as session:
        figures = await outbox.delivery_figures(session, broadcast_id=9)
        reloaded = await session.get(Resident, resident.id)
    assert (figures.unreachable, figures.pending, figures.total) == (2, 1, 3)
    assert reloaded is not None and reloaded.unreachable_at is not None
