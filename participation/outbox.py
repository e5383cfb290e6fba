"""The durable outbox: every message that is not the direct reply to an update is queued here.

Callers render the text in the recipient's language and enqueue Bot API parameters; the sender
(bot/sender.py) alone talks to Telegram, respecting its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, Result, String, Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from storage.models import OutboxMessage, Resident
from storage.types import utcnow
from storage.upsert import insert_ignore, insert_many_ignore

# After this many failed tries (network errors, 5xx, 400s) a message is given up, with the reason.
MAX_ATTEMPTS = 6
ENQUEUED_FLAG = "palabre.outbox_enqueued"


class _NotIndexed(FunctionElement[str]):
    """A column SQLite must not search through an index (its unary +), as is everywhere else.

    Without statistics SQLite searched claims through the index on status, reading every pending
    message; by primary key it reads only the claimed ones (bench/RESULTS.md §6).
    """

    type = String()
    inherit_cache = True


@compiles(_NotIndexed)
def _not_indexed(element: _NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_NotIndexed, "sqlite")
def _not_indexed_sqlite(element: _NotIndexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


class Status(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    # Waiting in a restored backup: it may have gone out after the backup was taken (db restore).
    HELD = "held"
    # Not sent because it no longer had a purpose (an edit outdated by a newer one).
    SKIPPED = "skipped"


def _table() -> Table:
    """The outbox's Table, for the inserts that skip duplicates (SQLModel does not type `__table__`)."""
    return OutboxMessage.metadata.tables["outbox_message"]


def _changed(result: Result[Any]) -> int:
    """How many rows an UPDATE changed (an UPDATE's result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount or 0


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    method: str,
    payload: dict[str, Any],
    resident_id: int | None = None,
    kind: str = "notice",
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message; False when `dedupe_key` was already queued (nothing is added)."""
    # Read by the session middleware: after the commit it wakes the sender at once.
    session.info[ENQUEUED_FLAG] = True
    row = OutboxMessage(
        chat_id=chat_id,
        method=method,
        payload=payload,
        resident_id=resident_id,
        kind=kind,
        dedupe_key=dedupe_key,
        broadcast_id=broadcast_id,
        not_before=not_before or utcnow(),
    )
    if dedupe_key is None:
        session.add(row)
        await session.flush()
        return True
    return await insert_ignore(
        session,
        _table(),
        row.model_dump(exclude={"id"}),
        ["dedupe_key"],
    )


async def enqueue_many(session: AsyncSession, messages: list[dict[str, Any]]) -> int:
    """Queue many messages in one statement (a broadcast chunk); rows whose `dedupe_key` exists are skipped.

    Each dict has the keyword arguments of `enqueue`; returns how many rows were added.
    """
    if not messages:
        return 0
    session.info[ENQUEUED_FLAG] = True
    now = utcnow()
    rows = [
        OutboxMessage(
            chat_id=message["chat_id"],
            method=message["method"],
            payload=message["payload"],
            resident_id=message.get("resident_id"),
            kind=message.get("kind", "notice"),
            dedupe_key=message.get("dedupe_key"),
            broadcast_id=message.get("broadcast_id"),
            not_before=message.get("not_before") or now,
            created_at=now,
        ).model_dump(exclude={"id"})
        for message in messages
    ]
    return await insert_many_ignore(session, _table(), rows, ["dedupe_key"])


async def release_in_flight(session: AsyncSession) -> int:
    """Put back messages claimed by a sender that died; returns how many.

    These are the only messages that may reach someone twice after a crash: they may have been
    delivered just before the process stopped, without the delivery being recorded.
    """
    result = await session.execute(
        update(OutboxMessage).where(col(OutboxMessage.status) == Status.SENDING).values(status=Status.PENDING)
    )
    return _changed(result)


async def release(session: AsyncSession, message_ids: list[int]) -> None:
    """Hand back claimed messages that were not sent (the sender stopping): not a try."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.status) == Status.SENDING)
        .values(status=Status.PENDING, attempts=col(OutboxMessage.attempts) - 1)
    )


async def claim_due(session: AsyncSession, *, limit: int, now: datetime | None = None) -> list[OutboxMessage]:
    """Claim up to `limit` due messages, oldest first, so that no other sender takes them."""
    now = now or utcnow()
    ids = list(
        await session.scalars(
            select(col(OutboxMessage.id))
            .where(col(OutboxMessage.status) == Status.PENDING, col(OutboxMessage.not_before) <= now)
            .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
            .limit(limit)
        )
    )
    if not ids:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), _NotIndexed(col(OutboxMessage.status)) == Status.PENDING)
        .values(status=Status.SENDING, attempts=col(OutboxMessage.attempts) + 1)
        # The rows are read again just below: nothing in the session to synchronise.
        .execution_options(synchronize_session=False)
    )
    rows = await session.scalars(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(ids), col(OutboxMessage.status) == Status.SENDING)
        .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def mark_sent_many(session: AsyncSession, message_ids: list[int]) -> None:
    """Record deliveries in one statement: at hundreds of messages per second, one UPDATE per
    message through the ORM was most of the sender's own CPU."""
    if not message_ids:
        return
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids))
        .values(status=Status.SENT, sent_at=utcnow(), last_error=None)
        # No ORM object of these rows is kept in the session: nothing to synchronise.
        .execution_options(synchronize_session=False)
    )


async def postpone(session: AsyncSession, message_id: int, seconds: float, reason: str, *, until: datetime | None = None) -> None:
    """Try again later without counting a failure (rate limits: Telegram's retry_after), or at `until`."""
    # Only while still claimed: a 403 recorded meanwhile stopped it, and must not be undone.
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == Status.SENDING)
        .values(
            status=Status.PENDING,
            attempts=col(OutboxMessage.attempts) - 1,
            not_before=until if until is not None else utcnow() + timedelta(seconds=seconds),
            last_error=reason[:300],
        )
    )


async def retry_or_fail(session: AsyncSession, message: OutboxMessage, reason: str) -> Status:
    """After an error: retry with exponential backoff, or give up after MAX_ATTEMPTS."""
    if message.attempts >= MAX_ATTEMPTS:
        status, not_before = Status.FAILED, message.not_before
    else:
        status = Status.PENDING
        not_before = utcnow() + timedelta(seconds=min(2**message.attempts, 300))
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id, col(OutboxMessage.status) == Status.SENDING)  # see postpone
        .values(status=status, not_before=not_before, last_error=reason[:300])
    )
    return status


async def fail(session: AsyncSession, message_id: int, reason: str) -> None:
    """Give up at once: Telegram refused the message itself (it would refuse it again)."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == Status.SENDING)  # see postpone
        .values(status=Status.FAILED, last_error=reason[:300])
    )


async def skip(session: AsyncSession, message_ids: list[int], reason: str) -> None:
    """Close claimed messages without sending them: they have no purpose any more."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(message_ids), col(OutboxMessage.status) == Status.SENDING)
        .values(status=Status.SKIPPED, last_error=reason[:300])
        .execution_options(synchronize_session=False)
    )


async def mark_unreachable(session: AsyncSession, chat_id: int, reason: str) -> None:
    """The resident blocked the bot: stop every message to them and remember it."""
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == chat_id, col(OutboxMessage.status).in_([Status.PENDING, Status.SENDING]))
        .values(status=Status.UNREACHABLE, last_error=reason[:300])
    )
    await session.execute(
        update(Resident)
        .where(col(Resident.telegram_id) == chat_id, col(Resident.unreachable_at).is_(None))
        .values(unreachable_at=utcnow())
    )


async def mark_reachable(session: AsyncSession, resident: Resident) -> None:
    """A resident who writes again has unblocked the bot."""
    if resident.unreachable_at is not None:
        resident.unreachable_at = None
        session.add(resident)
        await session.flush()


# Kinds whose Telegram message id is kept once sent: they may have to be edited later.
AGENTS_POST_KIND = "report_agents"
ERASED_POST_KIND = "report_erased"


async def record_sent_message_id(session: AsyncSession, message: OutboxMessage, result: Any) -> None:
    """A sender hook: remember which Telegram message a post became (`result` is the sent Message)."""
    message_id = getattr(result, "message_id", None)
    if not isinstance(message_id, int):
        return
    await session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id)
        .values(sent_message_id=message_id)
        .execution_options(synchronize_session=False)
    )
    # Its author erased their data while it was in flight: the text was redacted in the row
    # (not in what went out), so the edit is queued now that the message id is known.
    current = await session.scalar(select(col(OutboxMessage.payload)).where(col(OutboxMessage.id) == message.id))
    field = "caption" if message.method == "sendPhoto" else "text"
    if current is not None and current.get(field) != message.payload.get(field):
        assert message.id is not None
        await enqueue_post_edit(session, message.chat_id, message.id, message_id, field, current)


async def enqueue_post_edit(
    session: AsyncSession, chat_id: int, outbox_id: int, message_id: int, field: str, payload: dict[str, Any]
) -> None:
    """Queue the edit of a sent post so that it says `payload[field]` (its buttons kept)."""
    edit: dict[str, Any] = {"message_id": message_id, field: payload[field]}
    if "reply_markup" in payload:
        edit["reply_markup"] = payload["reply_markup"]
    await enqueue(
        session,
        chat_id=chat_id,
        method="editMessageCaption" if field == "caption" else "editMessageText",
        payload=edit,
        kind=ERASED_POST_KIND,
        dedupe_key=f"outbox:{outbox_id}:erased",
    )


DONE_STATUSES = (Status.SENT, Status.FAILED, Status.UNREACHABLE, Status.SKIPPED)


async def purge_done(session: AsyncSession, older_than: datetime, *, dry_run: bool) -> int:
    """Delete messages that went out (or were given up) before `older_than`; returns how many.

    The agents' posts of reports stay, reduced to what editing them needs (chat, message id,
    buttons): their text goes, and an erasure can still reach the copy in the group.
    """
    done = col(OutboxMessage.status).in_([s.value for s in DONE_STATUSES]) & (
        func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at)) < older_than
    )
    kept = (col(OutboxMessage.kind) == AGENTS_POST_KIND) & col(OutboxMessage.sent_message_id).is_not(None)
    deletable = int(await session.scalar(select(func.count()).select_from(OutboxMessage).where(done, ~kept)) or 0)
    posts = list(await session.scalars(select(OutboxMessage).where(done, kept)))
    reducible = [row for row in posts if set(row.payload) - {"reply_markup"}]
    if not dry_run:
        await session.execute(delete(OutboxMessage).where(done, ~kept).execution_options(synchronize_session=False))
        for row in reducible:
            row.payload = {key: value for key, value in row.payload.items() if key == "reply_markup"}
            session.add(row)
        await session.flush()
    return deletable + len(reducible)


async def after_restore(session: AsyncSession, *, taken_at: datetime | None, resend: bool) -> int:
    """After restoring a backup: hold what was waiting in it (or, with `resend`, queue it again); returns how many.

    Messages claimed or pending when the backup was taken may have been delivered since; sending
    them again would repeat every notice and broadcast of that time.
    """
    waiting: ColumnElement[bool] = col(OutboxMessage.status).in_([Status.PENDING.value, Status.SENDING.value])
    if taken_at is not None:
        waiting = waiting & (col(OutboxMessage.created_at) <= taken_at)
    result = await session.execute(
        update(OutboxMessage)
        .where(waiting)
        .values(status=Status.PENDING if resend else Status.HELD)
        .execution_options(synchronize_session=False)
    )
    return _changed(result)


@dataclass(frozen=True)
class DeliveryFigures:
    sent: int = 0
    pending: int = 0
    failed: int = 0
    unreachable: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.unreachable


async def delivery_figures(session: AsyncSession, *, broadcast_id: int | None = None) -> DeliveryFigures:
    query = select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
    if broadcast_id is not None:
        query = query.where(col(OutboxMessage.broadcast_id) == broadcast_id)
    counts = dict((await session.execute(query)).all())
    return DeliveryFigures(
        sent=counts.get(Status.SENT, 0),
        # In flight counts as pending: it is not known yet whether it arrived.
        pending=counts.get(Status.PENDING, 0) + counts.get(Status.SENDING, 0),
        failed=counts.get(Status.FAILED, 0),
        unreachable=counts.get(Status.UNREACHABLE, 0),
    )


WAKE_SENDER_KEY = "palabre.wake_sender"  # in the update session's info: called after each commit


async def commit_so_far(session: AsyncSession) -> None:
    """Commit what the update decided until now, and wake the sender for what it queued."""
    if session.in_transaction():
        await session.commit()
    if session.info.pop(ENQUEUED_FLAG, False):
        wake = session.info.get(WAKE_SENDER_KEY)
        if wake is not None:
            wake()
