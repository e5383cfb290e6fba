"""A report's one card in the agents' group: posted once, then edited in place; notes as replies to it.

The notifier (notices/reports.py) renders the card and hands the Bot API parameters here; this
module queues them in the outbox and, when the sender claims them, points each edit and reply at
the card's Telegram message. An edit queued before the card went out waits for the card's
message id (resolved at claim time), because a row already claimed cannot be rewritten in flight.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import outbox
from storage.models import OutboxMessage, ReportCard, ReportPhoto
from storage.types import utcnow

CARD_EDIT_KIND = "report_card_edit"
# Markers kept in the queued rows, removed before sending: which card (and which version of it).
EDIT_MARKER = "palabre_card"
REPLY_MARKER = "palabre_reply_to_report"
# How long an edit or a reply waits, at a time, for its card to be sent.
CARD_WAIT_SECONDS = 2.0
NOT_MODIFIED = "message is not modified"
EDIT_NOT_FOUND = "message to edit not found"


def content_field(method: str) -> str:
    """The field an edit changes: a photo card has a caption, a text card a text."""
    return "caption" if method == "sendPhoto" else "text"


def _edit_key(report_id: int, version: int) -> str:
    return f"report:{report_id}:card:{version}"


async def card_of(session: AsyncSession, report_id: int) -> ReportCard | None:
    return await session.get(ReportCard, report_id)


async def _outbox_id(session: AsyncSession, dedupe_key: str) -> int | None:
    """The id of the outbox row queued under `dedupe_key`."""
    return await session.scalar(select(col(OutboxMessage.id)).where(col(OutboxMessage.dedupe_key) == dedupe_key))


async def post(session: AsyncSession, report_id: int, chat_id: int, method: str, payload: dict[str, Any]) -> ReportCard:
    """Queue the report's card, once: `method` is sendPhoto or sendMessage, `payload` its parameters."""
    card, _ = await _card_or_post(session, report_id, chat_id, method, payload)
    return card


async def _card_or_post(
    session: AsyncSession, report_id: int, chat_id: int, method: str, payload: dict[str, Any]
) -> tuple[ReportCard, bool]:
    """The report's card, queued now with `payload` if it had none (True then).

    A report posted before cards existed has its post in the outbox already: that post becomes its card.
    """
    card = await card_of(session, report_id)
    if card is not None:
        return card, False
    key = f"report:{report_id}:agents:new"
    queued = await outbox.enqueue(
        session, chat_id=chat_id, method=method, payload=payload, kind=outbox.AGENTS_POST_KIND, dedupe_key=key
    )
    row = await session.scalar(select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == key))
    assert row is not None
    card = ReportCard(
        report_id=report_id, chat_id=row.chat_id, outbox_id=row.id, message_id=row.sent_message_id, method=row.method
    )
    session.add(card)
    await session.flush()
    return card, queued


async def show(session: AsyncSession, report_id: int, chat_id: int, method: str, payload: dict[str, Any]) -> None:
    """The card must now say `payload` (its text or caption, and buttons): queue the edit, after the others.

    A report without a card (filed before cards existed, or when no group was set) gets one now.
    """
    card, queued = await _card_or_post(session, report_id, chat_id, method, payload)
    if queued:
        return  # just queued, with this very content
    card.version += 1
    card.updated_at = utcnow()
    session.add(card)
    # Edits still waiting are outdated by this one: dropped rather than sent and overwritten.
    await session.execute(
        delete(OutboxMessage)
        .where(
            col(OutboxMessage.kind) == CARD_EDIT_KIND,
            col(OutboxMessage.dedupe_key).like(f"report:{report_id}:card:%"),
            col(OutboxMessage.status) == outbox.Status.PENDING,
        )
        .execution_options(synchronize_session=False)
    )
    field = content_field(card.method)
    edit: dict[str, Any] = {
        field: payload.get(field) or payload.get("text") or payload.get("caption") or "",
        EDIT_MARKER: {"report_id": report_id, "version": card.version},
    }
    if "reply_markup" in payload:
        edit["reply_markup"] = payload["reply_markup"]
    await outbox.enqueue(
        session,
        chat_id=card.chat_id,
        method="editMessageCaption" if field == "caption" else "editMessageText",
        payload=edit,
        kind=CARD_EDIT_KIND,
        dedupe_key=_edit_key(report_id, card.version),
    )
    await session.flush()


async def reply(
    session: AsyncSession, report_id: int, chat_id: int, method: str, payload: dict[str, Any], dedupe_key: str
) -> None:
    """Queue a message posted as a reply to the report's card (a note, the reporter's addition)."""
    await outbox.enqueue(
        session,
        chat_id=chat_id,
        method=method,
        payload={**payload, REPLY_MARKER: report_id},
        kind=outbox.AGENTS_POST_KIND,
        dedupe_key=dedupe_key,
    )


async def _card_due(session: AsyncSession, card: ReportCard) -> datetime | None:
    """When the card's post is due, if it is not sent yet but will be (queued or in flight); else None.

    A post held after a restore (db restore) may never go: edits do not wait for it, the card is posted again.
    """
    if card.message_id is not None or card.outbox_id is None:
        return None
    row = (
        await session.execute(
            select(col(OutboxMessage.status), col(OutboxMessage.not_before)).where(col(OutboxMessage.id) == card.outbox_id)
        )
    ).first()
    if row is None or row[0] not in (outbox.Status.PENDING, outbox.Status.SENDING):
        return None
    return max(row[1], utcnow() + timedelta(seconds=CARD_WAIT_SECONDS))


async def _wait_for_card(session: AsyncSession, message_id: int, until: datetime) -> None:
    await outbox.postpone(session, message_id, CARD_WAIT_SECONDS, "waiting for the report's card to be sent", until=until)


def _ready(session: AsyncSession, message: OutboxMessage, payload: dict[str, Any]) -> OutboxMessage:
    """What goes out: the row keeps its markers (a retry resolves it again), the copy sent has none."""
    session.expunge(message)
    message.payload = payload
    return message


async def repost(session: AsyncSession, report_id: int, content: dict[str, Any]) -> None:
    """Post the card again (it was deleted from the group, or never got out) with `content`, and remember it."""
    card = await card_of(session, report_id)
    if card is None:
        return
    field = content_field(card.method)
    payload: dict[str, Any] = {field: content.get(field, "")}
    if "reply_markup" in content:
        payload["reply_markup"] = content["reply_markup"]
    method = card.method
    if method == "sendPhoto":
        photo = await session.scalar(
            select(col(ReportPhoto.file_id)).where(col(ReportPhoto.report_id) == report_id).order_by(col(ReportPhoto.position))
        )
        if photo is None:
            method, payload = "sendMessage", {"text": payload.pop("caption"), **payload}
        else:
            payload["photo"] = photo
    card.posts += 1
    key = f"report:{report_id}:agents:card:{card.posts}"
    await outbox.enqueue(
        session, chat_id=card.chat_id, method=method, payload=payload, kind=outbox.AGENTS_POST_KIND, dedupe_key=key
    )
    card.outbox_id, card.message_id, card.method, card.updated_at = await _outbox_id(session, key), None, method, utcnow()
    session.add(card)
    await session.flush()


async def prepare_edits(session: AsyncSession, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """A sender resolver, in the claim's transaction: each card edit gets the card's message id.

    An edit older than the card's version is skipped (a newer one follows); one whose card is not
    sent yet waits for it; one whose card never got out posts the card again instead.
    """
    ready: list[OutboxMessage] = []
    for message in messages:
        assert message.id is not None
        marker = message.payload.get(EDIT_MARKER)
        card = await card_of(session, int(marker["report_id"])) if isinstance(marker, dict) else None
        if card is None or not isinstance(marker, dict):
            await outbox.skip(session, [message.id], "no card to edit")
        elif int(marker["version"]) < card.version:
            await outbox.skip(session, [message.id], "superseded by a newer state of the card")
        elif card.message_id is not None:
            payload = {k: v for k, v in message.payload.items() if k != EDIT_MARKER}
            ready.append(_ready(session, message, {**payload, "message_id": card.message_id}))
        elif (due := await _card_due(session, card)) is not None:
            await _wait_for_card(session, message.id, due)
        else:
            await repost(session, card.report_id, message.payload)
            await outbox.skip(session, [message.id], "the card never got out: posted again")
    return ready


async def prepare_posts(session: AsyncSession, messages: list[OutboxMessage]) -> list[OutboxMessage]:
    """A sender resolver: replies to a card are pointed at it (or wait for it to be sent)."""
    ready: list[OutboxMessage] = []
    for message in messages:
        assert message.id is not None
        report_id = message.payload.get(REPLY_MARKER)
        if report_id is None:
            ready.append(message)
            continue
        card = await card_of(session, int(report_id))
        payload = {k: v for k, v in message.payload.items() if k != REPLY_MARKER}
        if card is not None and card.message_id is not None:
            # Without its card (deleted meanwhile) the reply still goes out, on its own.
            payload["reply_parameters"] = {"message_id": card.message_id, "allow_sending_without_reply": True}
        elif card is not None and (due := await _card_due(session, card)) is not None:
            await _wait_for_card(session, message.id, due)
            continue
        ready.append(_ready(session, message, payload))
    return ready


async def record_posted(session: AsyncSession, message: OutboxMessage, result: Any) -> None:
    """A sender hook for the agents' posts: remember the Telegram message each became, and the card's."""
    await outbox.record_sent_message_id(session, message, result)
    message_id = getattr(result, "message_id", None)
    if not isinstance(message_id, int) or message.id is None:
        return
    card = await session.scalar(select(ReportCard).where(col(ReportCard.outbox_id) == message.id))
    if card is not None:
        card.message_id = message_id
        session.add(card)
        await session.flush()


async def edit_refused(session: AsyncSession, message: OutboxMessage, reason: str) -> None:
    """A sender hook for refused card edits: a card deleted from the group is posted again."""
    assert message.id is not None
    await outbox.fail(session, message.id, reason)
    if EDIT_NOT_FOUND not in reason:
        return
    stored = await session.scalar(select(col(OutboxMessage.payload)).where(col(OutboxMessage.id) == message.id))
    marker = (stored or {}).get(EDIT_MARKER)
    if not isinstance(marker, dict):
        return
    card = await card_of(session, int(marker["report_id"]))
    # Only the newest state posts it again: an older edit's refusal is followed by the newest's.
    if card is not None and card.version == int(marker["version"]):
        await repost(session, card.report_id, stored or {})
