"""Results publication ("we asked, you said, we did") and consultation reminders.

Publication: once a consultation is closed, an official records the council's decision; every
participant (submitted) and every subscriber of its topic receives the results and the decision.
Like a broadcast, the publication is expanded into outbox rows chunk by chunk in resident-id
order (bot/publishing.py), each chunk in the transaction that moves its `cursor`; dedupe keys
`pub:<publication>:<resident>:<part>` make a replayed chunk a no-op.

One publication per consultation: a decision is a public statement, and a "correction" sent to
thousands of people would be a second announcement; an official who must correct it sends a
broadcast to the consultation's participants.

Reminders: at each offset of the file before closing, one reminder to residents who started
without finishing and to the subscribers of its audience who have not answered. The reminder is
claimed by inserting its `ConsultationReminder` row, in the transaction that queues it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit, outbox
from participation.broadcasts import CHUNK, Recipient, RecipientQuery, advance_cursor, reachable_residents, recipients_from
from participation.consultation_file import DURATION
from participation.consultations import ResponseStatus, Status, get_by_slug, status_at
from participation.text import clean_text, has_visible
from storage.models import Consultation, ConsultationReminder, ConsultationResponse, Publication, Resident, Subscription
from storage.types import utcnow
from storage.upsert import insert_ignore

MAX_DECISION = 2000


class PublicationStatus(StrEnum):
    QUEUING = "queuing"  # being queued, chunk by chunk
    QUEUED = "queued"  # every recipient has rows in the outbox


class PublishRefusal(StrEnum):
    UNKNOWN = "unknown"  # no such consultation
    NOT_CLOSED = "not_closed"
    ALREADY_PUBLISHED = "already_published"
    EMPTY = "empty"
    TOO_LONG = "too_long"


class PublishRefused(Exception):
    def __init__(self, reason: PublishRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def decision_in(publication: Publication, locale: str) -> str:
    """The decision as a resident of `locale` reads it: its translation when the council gave one."""
    return publication.translations.get(locale) or publication.decision


def check_decision(text: str) -> str:
    text = clean_text(text)
    if not has_visible(text):
        raise PublishRefused(PublishRefusal.EMPTY)
    if len(text) > MAX_DECISION:
        raise PublishRefused(PublishRefusal.TOO_LONG)
    return text


async def publication_of(session: AsyncSession, consultation_id: int) -> Publication | None:
    return await session.scalar(select(Publication).where(col(Publication.consultation_id) == consultation_id))


async def publishable(session: AsyncSession, slug: str, *, now: datetime | None = None) -> Consultation:
    """The consultation `slug` if its outcome may be published now; otherwise PublishRefused."""
    consultation = await get_by_slug(session, slug)
    if consultation is None:
        raise PublishRefused(PublishRefusal.UNKNOWN)
    if status_at(consultation, now) != Status.CLOSED:
        raise PublishRefused(PublishRefusal.NOT_CLOSED)
    assert consultation.id is not None  # read from the table
    if await publication_of(session, consultation.id) is not None:
        raise PublishRefused(PublishRefusal.ALREADY_PUBLISHED)
    return consultation


def recipients_query(consultation: Consultation) -> RecipientQuery:
    """Participants who submitted, and subscribers of its topic: reachable, each once."""
    took_part = select(col(ConsultationResponse.resident_id)).where(
        col(ConsultationResponse.consultation_id) == consultation.id,
        col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
    )
    condition: ColumnElement[bool] = col(Resident.id).in_(took_part)
    if consultation.topic:
        condition = or_(
            condition,
            col(Resident.id).in_(select(col(Subscription.resident_id)).where(col(Subscription.topic_code) == consultation.topic)),
        )
    return reachable_residents().where(condition)


async def count_recipients(session: AsyncSession, consultation: Consultation) -> int:
    query = recipients_query(consultation)
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def publish(
    session: AsyncSession,
    slug: str,
    decision: str,
    *,
    actor_telegram_id: int | None,
    source: audit.Source,
    now: datetime | None = None,
    translations: dict[str, str] | None = None,
) -> Publication:
    """Record the decision and start sending the outcome; refused when not closed or already done.

    Claimed by the unique consultation id: two confirmations at once publish once.
    """
    decision = check_decision(decision)
    translations = {locale: check_decision(text) for locale, text in (translations or {}).items()}
    consultation = await publishable(session, slug, now=now)
    assert consultation.id is not None  # read from the table
    recipients = await count_recipients(session, consultation)
    inserted = await insert_ignore(
        session,
        Publication,
        Publication(
            consultation_id=consultation.id,
            decision=decision,
            translations=translations,
            author_telegram_id=actor_telegram_id,
            source=source.value,
            published_at=now or utcnow(),
            recipient_count=recipients,
        ).model_dump(exclude={"id"}),
        ["consultation_id"],
    )
    if not inserted:
        raise PublishRefused(PublishRefusal.ALREADY_PUBLISHED)
    publication = await publication_of(session, consultation.id)
    assert publication is not None
    await audit.record(
        session,
        actor_telegram_id=actor_telegram_id,
        source=source,
        action="consultation.publish_results",
        subject=consultation.slug,
        detail={"publication": publication.id, "recipients": recipients},
    )
    session.info[outbox.ENQUEUED_FLAG] = True  # wakes the sender, which queues it chunk by chunk
    return publication


async def next_chunk(session: AsyncSession, *, limit: int = CHUNK) -> tuple[Publication, Consultation, list[Recipient]] | None:
    """The next recipients of the oldest publication still being queued; None when none waits."""
    publication = await session.scalar(
        select(Publication).where(col(Publication.status) == PublicationStatus.QUEUING).order_by(col(Publication.id)).limit(1)
    )
    if publication is None:
        return None
    consultation = await session.get(Consultation, publication.consultation_id)
    assert consultation is not None
    rows = await session.execute(
        recipients_query(consultation).where(col(Resident.id) > publication.cursor).order_by(col(Resident.id)).limit(limit)
    )
    return publication, consultation, recipients_from(rows)


async def chunk_done(session: AsyncSession, publication: Publication, recipients: list[Recipient], *, limit: int = CHUNK) -> None:
    """Move the publication's cursor past `recipients`; queued once its audience is exhausted."""
    await advance_cursor(
        session, publication, recipients, expanding=PublicationStatus.QUEUING, done=PublicationStatus.QUEUED, limit=limit
    )


def dedupe_key(publication_id: int, resident_id: int, part: int) -> str:
    return f"pub:{publication_id}:{resident_id}:{part}"


# --- Reminders ----------------------------------------------------------------------------------


class ReminderOutcome(StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"  # its time came when the consultation was no longer open


def parse_offset(offset: str) -> timedelta:
    match = DURATION.fullmatch(offset.strip())
    if match is None:
        raise ValueError(offset)
    amount, unit = int(match.group(1)), match.group(2)
    return {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]


@dataclass(frozen=True)
class PlannedReminder:
    consultation_id: int
    offset: str
    due_at: datetime


async def reminders_to_plan(session: AsyncSession) -> list[PlannedReminder]:
    """Reminders not claimed yet of consultations scheduled or open.

    A reminder whose offset falls before the opening is due at the opening; one whose time passed
    while the bot was down is due at once (and is sent only if the consultation is still open).
    """
    consultations = (
        await session.scalars(select(Consultation).where(col(Consultation.status).in_([Status.SCHEDULED, Status.OPEN])))
    ).all()
    consultations = [c for c in consultations if c.reminders]
    if not consultations:
        return []
    claimed = set(
        (
            await session.execute(
                select(col(ConsultationReminder.consultation_id), col(ConsultationReminder.offset)).where(
                    col(ConsultationReminder.consultation_id).in_([c.id for c in consultations])
                )
            )
        ).all()
    )
    planned = []
    for consultation in consultations:
        for offset in dict.fromkeys(consultation.reminders):
            if (consultation.id, offset) in claimed:
                continue
            due_at = max(consultation.closes_at - parse_offset(offset), consultation.opens_at)
            assert consultation.id is not None  # read from the table
            planned.append(PlannedReminder(consultation.id, offset, due_at))
    return planned


async def claim_reminder(
    session: AsyncSession, consultation_id: int, offset: str, *, now: datetime | None = None
) -> Consultation | None:
    """Claim a reminder (once ever): the consultation when it must be sent now, else None.

    Not yet due: nothing is claimed. Due but the consultation is no longer open: claimed as
    skipped, so it is never planned again.
    """
    now = now or utcnow()
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None or offset not in consultation.reminders:
        return None
    due_at = max(consultation.closes_at - parse_offset(offset), consultation.opens_at)
    if now < due_at:
        return None
    state = status_at(consultation, now)
    if state == Status.SCHEDULED or state == Status.DRAFT:
        return None
    outcome = ReminderOutcome.SENT if state == Status.OPEN else ReminderOutcome.SKIPPED
    inserted = await insert_ignore(
        session,
        ConsultationReminder,
        ConsultationReminder(consultation_id=consultation_id, offset=offset, claimed_at=now, outcome=outcome.value).model_dump(
            exclude={"id"}
        ),
        ["consultation_id", "offset"],
    )
    if not inserted or outcome == ReminderOutcome.SKIPPED:
        return None
    return consultation


async def reminder_recipients(session: AsyncSession, consultation: Consultation) -> list[Recipient]:
    """Who gets a reminder: those who started without finishing, and subscribers of its topic
    (within its neighbourhoods, if it has any) who have not answered; reachable, each once."""
    unfinished = select(col(ConsultationResponse.resident_id)).where(
        col(ConsultationResponse.consultation_id) == consultation.id,
        col(ConsultationResponse.status) == ResponseStatus.IN_PROGRESS,
    )
    condition: ColumnElement[bool] = col(Resident.id).in_(unfinished)
    if consultation.topic:
        answered = select(col(ConsultationResponse.resident_id)).where(
            col(ConsultationResponse.consultation_id) == consultation.id
        )
        subscriber = col(Resident.id).in_(
            select(col(Subscription.resident_id)).where(col(Subscription.topic_code) == consultation.topic)
        )
        invited = subscriber & col(Resident.id).not_in(answered)
        if consultation.neighbourhoods:
            invited = invited & col(Resident.neighbourhood).in_(consultation.neighbourhoods)
        condition = or_(condition, invited)
    query = reachable_residents().where(condition)
    if consultation.neighbourhoods:
        # Someone who moved out of the audience cannot finish anyway: no reminder.
        query = query.where(col(Resident.neighbourhood).in_(consultation.neighbourhoods))
    rows = await session.execute(query.order_by(col(Resident.id)))
    return recipients_from(rows)


async def record_reminder_count(session: AsyncSession, consultation_id: int, offset: str, count: int) -> None:
    await session.execute(
        update(ConsultationReminder)
        .where(col(ConsultationReminder.consultation_id) == consultation_id, col(ConsultationReminder.offset) == offset)
        .values(recipient_count=count)
    )


def reminder_dedupe_key(consultation_id: int, offset: str, resident_id: int) -> str:
    return f"cr:{consultation_id}:{offset}:{resident_id}"


async def announcement_recipients(session: AsyncSession, consultation: Consultation) -> list[Recipient]:
    """Who is told that a consultation opens: its topic's subscribers, else its audience
    (its neighbourhoods, or everyone when it has none); reachable, each once."""
    query = reachable_residents()
    if consultation.topic:
        query = query.where(
            col(Resident.id).in_(select(col(Subscription.resident_id)).where(col(Subscription.topic_code) == consultation.topic))
        )
    if consultation.neighbourhoods:
        query = query.where(col(Resident.neighbourhood).in_(consultation.neighbourhoods))
    rows = await session.execute(query.order_by(col(Resident.id)))
    return recipients_from(rows)


def announcement_dedupe_key(consultation_id: int, resident_id: int) -> str:
    """One announcement per consultation and resident, however often the opening fires."""
    return f"co:{consultation_id}:{resident_id}"
