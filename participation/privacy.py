"""Privacy: the notice version, what is kept about a resident (/mydata), and erasure (/forget).

Changing what the notice says (handlers/texts.py: privacy_notice) means raising NOTICE_VERSION,
so that every resident is asked for consent again at their next visit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit, consultations, outbox, report_cards
from participation import feedback as feedback_module
from participation import satisfaction as satisfaction_module
from participation.reports import reports_personal_data, unlink_resident
from storage.models import (
    AuditEntry,
    ConversationState,
    Feedback,
    Meeting,
    MeetingAnswer,
    OutboxMessage,
    Report,
    Resident,
    RoleGrant,
    Subscription,
)
from storage.types import utcnow

# 2026-11-28: the notice names the controller, the DPO, the CNIL, and who sees reports (issue 13).
NOTICE_VERSION = "2026-11-28"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _conversation_key_pattern(telegram_id: int) -> str:
    # bot/fsm_storage.py keys a private conversation as fsm:<bot>:<chat>:<user>:<destiny>, and in a
    # private chat the chat id is the user id.
    return f"%:{telegram_id}:{telegram_id}:%"


async def personal_data(session: AsyncSession, resident: Resident) -> dict[str, Any]:
    """Everything stored about `resident`, as plain JSON-ready data (the /mydata file)."""
    assert resident.telegram_id is not None
    telegram_id = resident.telegram_id
    roles = list(await session.scalars(select(col(RoleGrant.role)).where(col(RoleGrant.telegram_id) == telegram_id)))
    conversations = [
        {"state": row.state, "data": row.data, "updated_at": _iso(row.updated_at)}
        for row in await session.scalars(
            select(ConversationState).where(col(ConversationState.key).like(_conversation_key_pattern(telegram_id)))
        )
    ]
    messages = [
        {
            "created_at": _iso(row.created_at),
            "kind": row.kind,
            "status": row.status,
            "sent_at": _iso(row.sent_at),
            "text": row.payload.get("text") or row.payload.get("caption") or row.payload.get("question"),
        }
        for row in await session.scalars(
            select(OutboxMessage).where(col(OutboxMessage.chat_id) == telegram_id).order_by(col(OutboxMessage.id))
        )
    ]
    return {
        "generated_at": utcnow().isoformat(),
        "resident": {
            "telegram_id": telegram_id,
            "pseudonym": resident.pseudonym,
            "language": resident.locale,
            "consent_at": _iso(resident.consent_at),
            "consent_notice_version": resident.consent_version,
            "neighbourhood": resident.neighbourhood,
            "age_bracket": resident.age_bracket,
            "notifications_enabled": resident.notifications_enabled,
            "first_contact_at": _iso(resident.created_at),
        },
        "roles": roles,
        "conversation_in_progress": conversations,
        "messages_sent_to_you": messages,
        "consultation_responses": await consultations.personal_data(session, resident),
        **await reports_personal_data(session, resident),
        "subscribed_topics": list(
            await session.scalars(
                select(col(Subscription.topic_code))
                .where(col(Subscription.resident_id) == resident.id)
                .order_by(col(Subscription.topic_code))
            )
        ),
        "meeting_answers": [
            {"meeting": title, "starts_at": _iso(starts_at), "will_come": will_come, "answered_at": _iso(answered_at)}
            for title, starts_at, will_come, answered_at in (
                await session.execute(
                    select(
                        col(Meeting.title),
                        col(Meeting.starts_at),
                        col(MeetingAnswer.will_come),
                        col(MeetingAnswer.answered_at),
                    )
                    .join(Meeting, col(Meeting.id) == col(MeetingAnswer.meeting_id))
                    .where(col(MeetingAnswer.resident_id) == resident.id)
                    .order_by(col(Meeting.starts_at))
                )
            ).all()
        ],
        "feedback": await feedback_module.personal_data(session, resident),
        "satisfaction_answers": await satisfaction_module.personal_data(session, resident),
    }


async def redact_agents_posts(session: AsyncSession, reports: list[tuple[int, str]], notice: Callable[[str], str]) -> int:
    """The agents' group copies of these reports lose what their author typed; returns how many.

    Every queued copy (sent or not) gets `notice(ref)` instead of its text; each copy already in
    the group is edited, through the outbox, to say the same. The buttons stay: the report does.
    A failed post (never shown) has no message id and needs no edit.
    """
    edits = 0
    for report_id, ref in reports:
        rows = await session.scalars(
            select(OutboxMessage).where(
                col(OutboxMessage.kind) == outbox.AGENTS_POST_KIND,
                col(OutboxMessage.dedupe_key).like(f"report:{report_id}:agents:%"),
            )
        )
        for row in rows:
            field = "caption" if row.method == "sendPhoto" else "text"
            kept = {
                key: value for key, value in row.payload.items() if key in ("photo", "reply_markup", report_cards.REPLY_MARKER)
            }
            row.payload = {**kept, field: notice(ref)}
            session.add(row)
            # A post still in flight gets its edit from the sender's hook, once its message id is known.
            if row.sent_message_id is not None:
                assert row.id is not None  # read from the table
                await outbox.enqueue_post_edit(session, row.chat_id, row.id, row.sent_message_id, field, row.payload)
                edits += 1
        # Edits of the card not sent yet carry the old text: they say the notice too (the card gets it anyway).
        waiting = await session.scalars(
            select(OutboxMessage).where(
                col(OutboxMessage.kind) == report_cards.CARD_EDIT_KIND,
                col(OutboxMessage.dedupe_key).like(f"report:{report_id}:card:%"),
                col(OutboxMessage.status).in_([outbox.Status.PENDING, outbox.Status.SENDING, outbox.Status.HELD]),
            )
        )
        for row in waiting:
            field = "caption" if row.method == "editMessageCaption" else "text"
            row.payload = {**row.payload, field: notice(ref)}
            session.add(row)
    await session.flush()
    return edits


async def erase_resident(session: AsyncSession, resident: Resident, *, agents_notice: Callable[[str], str] | None = None) -> None:
    """Erase a resident: nothing left points to their Telegram account or holds what they typed.

    The resident row stays, stripped to its random pseudonym, so that their answers still count
    in results (anonymously) without anything linking them to a person. `agents_notice(ref)` is
    what the agents' group copies of their reports say instead (the caller renders it).
    """
    assert resident.telegram_id is not None
    telegram_id = resident.telegram_id
    pseudonym = f"erased:{resident.pseudonym}"
    reports: list[tuple[int, str]] = []
    for report_id, ref in (
        await session.execute(select(col(Report.id), col(Report.ref)).where(col(Report.resident_id) == resident.id))
    ).all():
        assert report_id is not None  # read from the table
        reports.append((report_id, ref))
    await redact_agents_posts(session, reports, agents_notice or (lambda ref: ref))
    await unlink_resident(session, resident)
    await session.execute(
        delete(ConversationState).where(col(ConversationState.key).like(_conversation_key_pattern(telegram_id)))
    )
    await session.execute(delete(OutboxMessage).where(col(OutboxMessage.chat_id) == telegram_id))
    await session.execute(delete(RoleGrant).where(col(RoleGrant.telegram_id) == telegram_id))
    await session.execute(delete(Subscription).where(col(Subscription.resident_id) == resident.id))
    # Meeting answers stay, tied only to the bare pseudonym: the count of who comes is unchanged.
    await consultations.erase_personal_data(session, resident)
    await session.execute(delete(Feedback).where(col(Feedback.resident_id) == resident.id))
    await satisfaction_module.erase_personal_data(session, resident)
    # The audit trail stays (accountability) but no longer names the person.
    await session.execute(
        update(AuditEntry).where(col(AuditEntry.actor_telegram_id) == telegram_id).values(actor_telegram_id=None)
    )
    await session.execute(update(AuditEntry).where(col(AuditEntry.subject) == str(telegram_id)).values(subject=pseudonym))
    resident.telegram_id = None
    resident.locale = None
    resident.consent_at = None
    resident.consent_version = None
    resident.neighbourhood = None
    resident.age_bracket = None
    resident.notifications_enabled = False
    resident.unreachable_at = None
    resident.last_active_at = None
    resident.erased_at = utcnow()
    session.add(resident)
    await session.flush()
    await audit.record(session, actor_telegram_id=None, source=audit.Source.CHAT, action="resident.erase", subject=pseudonym)
