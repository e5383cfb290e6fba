"""Issue 13: messages that went out leave the outbox after OUTBOX_RETENTION_DAYS; the agents' posts keep only what editing needs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation import outbox, retention
from participation.audit import Source
from storage.models import OutboxMessage
from storage.types import utcnow


async def test_sent_messages_are_purged_after_their_retention(session: AsyncSession) -> None:
    now = utcnow()
    keyboard = {"inline_keyboard": [[{"text": "Prendre en compte", "callback_data": "ag:ack:1:-"}]]}
    rows = {
        "old_notice": OutboxMessage(
            chat_id=11,
            method="sendMessage",
            payload={"text": "Votre signalement rue Haute"},
            status="sent",
            sent_at=now - timedelta(days=31),
        ),
        "old_failed": OutboxMessage(
            chat_id=12,
            method="sendMessage",
            payload={"text": "Réunion salle Victor Hugo"},
            status="failed",
            created_at=now - timedelta(days=40),
        ),
        "recent": OutboxMessage(
            chat_id=13, method="sendMessage", payload={"text": "Hier"}, status="sent", sent_at=now - timedelta(days=29)
        ),
        "pending": OutboxMessage(
            chat_id=14, method="sendMessage", payload={"text": "À venir"}, created_at=now - timedelta(days=60)
        ),
        "agents_post": OutboxMessage(
            chat_id=-100,
            method="sendMessage",
            payload={"text": "Trou devant chez Mme Martin", "reply_markup": keyboard},
            kind=outbox.AGENTS_POST_KIND,
            status="sent",
            sent_at=now - timedelta(days=31),
            sent_message_id=55,
        ),
    }
    session.add_all(rows.values())
    await session.flush()

    dry = await retention.purge(session, free_text_days=365, report_days=365, outbox_days=30, source=Source.CLI, dry_run=True)
    assert dry.counts["outbox_messages"] == 3
    report = await retention.purge(session, free_text_days=365, report_days=365, outbox_days=30, source=Source.CLI)
    assert report.counts["outbox_messages"] == 3
    left = {row.chat_id: row for row in await session.scalars(select(OutboxMessage).execution_options(populate_existing=True))}
    assert sorted(left) == [-100, 13, 14]
    assert left[-100].payload == {"reply_markup": keyboard} and left[-100].sent_message_id == 55
    again = await retention.purge(session, free_text_days=365, report_days=365, outbox_days=30, source=Source.CLI)
    assert again.counts["outbox_messages"] == 0  # idempotent
