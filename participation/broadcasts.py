"""Broadcasts: an official's message to an audience, counted, confirmed, then queued in chunks.

A confirmed broadcast is turned into outbox rows a chunk at a time, in resident-id order, each
chunk in its own short transaction that also moves the broadcast's `cursor`: 100,000 recipients
never sit in memory or in one transaction, and a crash resumes after the last committed chunk.
Dedupe keys `b:<broadcast>:<resident>` make a replayed chunk a no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Result, Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit, outbox
from participation.consultations import ResponseStatus, status_at
from participation.consultations import Status as ConsultationStatus
from participation.population import under_represented
from participation.privacy import NOTICE_VERSION
from participation.residents import AgeBracket
from participation.text import clean_text, has_visible
from storage.models import (
    Broadcast,
    Consultation,
    ConsultationResponse,
    Neighbourhood,
    Publication,
    Resident,
    Subscription,
    Topic,
)
from storage.types import utcnow
from storage.upsert import affected_rows

MAX_TEXT = 3500  # Telegram allows 4096; room is left for the header added in each language
MAX_CAPTION = 900  # Telegram allows 1024 characters of caption under a photo
CHUNK = 1000


class AudienceKind(StrEnum):
    ALL = "all"
    TOPIC = "topic"
    NEIGHBOURHOOD = "neighbourhood"
    AGE = "age"  # an age bracket
    CONSULTATION = "consultation"
    # Residents of the groups under-represented in an open consultation who have not answered it.
    UNDERREPRESENTED = "underrepresented"


class Status(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"  # being queued, chunk by chunk
    QUEUED = "queued"  # every recipient has a row in the outbox


class UnknownAudience(ValueError):
    """The audience does not exist (no such topic, neighbourhood, age bracket or consultation) or is malformed."""


class AudienceUnavailable(UnknownAudience):
    """An `underrepresented:SLUG` audience that cannot be computed: no population margins, or
    the consultation is not open (reminding people of a closed consultation would mislead them)."""

    def __init__(self, audience: str, reason: str) -> None:
        super().__init__(audience)
        self.reason = reason  # "no_population" | "not_open"


class InvalidMessage(ValueError):
    """The broadcast text is empty or too long."""


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    value: str | None = None

    @classmethod
    def parse(cls, text: str) -> Audience:
        """`all`, `topic:CODE`, `neighbourhood:CODE`, `age:BRACKET`, `consultation:SLUG` or `underrepresented:SLUG`."""
        kind, _, value = text.strip().partition(":")
        try:
            audience_kind = AudienceKind(kind)
        except ValueError as exc:
            raise UnknownAudience(text) from exc
        if (audience_kind == AudienceKind.ALL) != (value == ""):
            raise UnknownAudience(text)
        if value and not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
            raise UnknownAudience(text)
        return cls(audience_kind, value or None)

    def __str__(self) -> str:
        return self.kind.value if self.value is None else f"{self.kind.value}:{self.value}"


@dataclass(frozen=True)
class Recipient:
    resident_id: int
    telegram_id: int
    locale: str | None


# Resident id, Telegram id and locale: who receives a notification, and in which language.
RecipientQuery = Select[int | None, int | None, str | None]


def recipients_from(rows: Result[int | None, int | None, str | None]) -> list[Recipient]:
    """The recipients a RecipientQuery found: stored residents, each with a Telegram id (the query requires one)."""
    recipients: list[Recipient] = []
    for resident_id, telegram_id, locale in rows:
        assert resident_id is not None and telegram_id is not None
        recipients.append(Recipient(resident_id, telegram_id, locale))
    return recipients


def reachable_residents() -> RecipientQuery:
    """Residents a notification may go to: consented, not erased, notifications on, bot not blocked."""
    return select(col(Resident.id), col(Resident.telegram_id), col(Resident.locale)).where(
        col(Resident.telegram_id).is_not(None),
        col(Resident.consent_at).is_not(None),
        col(Resident.consent_version) == NOTICE_VERSION,
        col(Resident.erased_at).is_(None),
        col(Resident.unreachable_at).is_(None),
        col(Resident.notifications_enabled).is_(True),
    )


async def participants_of(session: AsyncSession, slug: str) -> Select[int | None]:
    """Resident ids of those who took part in consultation `slug` (submitted a response)."""
    consultation_id = await session.scalar(select(col(Consultation.id)).where(col(Consultation.slug) == slug))
    if consultation_id is None:
        raise UnknownAudience(f"consultation:{slug}")
    return select(col(ConsultationResponse.resident_id)).where(
        col(ConsultationResponse.consultation_id) == consultation_id,
        col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
    )


async def audience_query(session: AsyncSession, audience: Audience) -> RecipientQuery:
    """The recipients of `audience`, as a query (never loaded all at once)."""
    query = reachable_residents()
    if audience.kind == AudienceKind.TOPIC:
        if await session.get(Topic, audience.value) is None:
            raise UnknownAudience(str(audience))
        query = query.where(
            col(Resident.id).in_(select(col(Subscription.resident_id)).where(col(Subscription.topic_code) == audience.value))
        )
    elif audience.kind == AudienceKind.NEIGHBOURHOOD:
        if await session.get(Neighbourhood, audience.value) is None:
            raise UnknownAudience(str(audience))
        query = query.where(col(Resident.neighbourhood) == audience.value)
    elif audience.kind == AudienceKind.AGE:
        if audience.value is None or not AgeBracket.known(audience.value):
            raise UnknownAudience(str(audience))
        query = query.where(col(Resident.age_bracket) == audience.value)
    elif audience.kind == AudienceKind.CONSULTATION:
        assert audience.value is not None
        query = query.where(col(Resident.id).in_(await participants_of(session, audience.value)))
    elif audience.kind == AudienceKind.UNDERREPRESENTED:
        query = await _under_represented_query(session, query, audience)
    return query


async def _under_represented_query(session: AsyncSession, query: RecipientQuery, audience: Audience) -> RecipientQuery:
    """Residents of the consultation's audience, in an under-represented group, who have not submitted."""
    consultation = await session.scalar(select(Consultation).where(col(Consultation.slug) == audience.value))
    if consultation is None:
        raise UnknownAudience(str(audience))
    if status_at(consultation) != ConsultationStatus.OPEN:
        raise AudienceUnavailable(str(audience), "not_open")
    groups = await under_represented(session, consultation)
    if groups is None:
        raise AudienceUnavailable(str(audience), "no_population")
    hoods = [g.code for g in groups if g.dimension == "neighbourhood"]
    ages = [g.code for g in groups if g.dimension == "age"]
    answered = select(col(ConsultationResponse.resident_id)).where(
        col(ConsultationResponse.consultation_id) == consultation.id,
        col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
    )
    query = query.where(
        col(Resident.id).not_in(answered),
        or_(col(Resident.neighbourhood).in_(hoods), col(Resident.age_bracket).in_(ages)),
    )
    if consultation.neighbourhoods:
        query = query.where(col(Resident.neighbourhood).in_(consultation.neighbourhoods))
    return query


async def count_audience(session: AsyncSession, audience: Audience) -> int:
    query = await audience_query(session, audience)
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def check_text(text: str, *, with_photo: bool) -> str:
    text = clean_text(text)
    limit = MAX_CAPTION if with_photo else MAX_TEXT
    if not has_visible(text) and not with_photo:
        raise InvalidMessage("empty")
    if len(text) > limit:
        raise InvalidMessage(f"longer than {limit}")
    return text


async def create_draft(
    session: AsyncSession,
    *,
    audience: Audience,
    text: str,
    created_by: int | None,
    photo_file_id: str | None = None,
    photo_path: str | None = None,
    meeting_id: int | None = None,
) -> Broadcast:
    """A draft with the number of residents it would reach now; nothing is sent before `confirm`."""
    with_photo = photo_file_id is not None or photo_path is not None
    text = check_text(text, with_photo=with_photo) if meeting_id is None else text
    broadcast = Broadcast(
        created_by=created_by,
        audience_kind=audience.kind.value,
        audience_value=audience.value,
        text=text,
        photo_file_id=photo_file_id,
        photo_path=photo_path,
        meeting_id=meeting_id,
        recipient_count=await count_audience(session, audience),
    )
    session.add(broadcast)
    await session.flush()
    return broadcast


def audience_of(broadcast: Broadcast) -> Audience:
    return Audience(AudienceKind(broadcast.audience_kind), broadcast.audience_value)


async def confirm(
    session: AsyncSession, broadcast_id: int, *, actor_telegram_id: int | None, source: audit.Source
) -> Broadcast | None:
    """Confirm a draft (claimed: a double tap confirms once); None when it is not a draft of `actor`."""
    query = update(Broadcast).where(col(Broadcast.id) == broadcast_id, col(Broadcast.status) == Status.DRAFT)
    if source == audit.Source.CHAT:
        query = query.where(col(Broadcast.created_by) == actor_telegram_id)
    result = await session.execute(query.values(status=Status.CONFIRMED, confirmed_at=utcnow()))
    if not affected_rows(result):
        return None
    broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
    assert broadcast is not None
    broadcast.recipient_count = await count_audience(session, audience_of(broadcast))
    session.add(broadcast)
    await audit.record(
        session,
        actor_telegram_id=actor_telegram_id,
        source=source,
        action="broadcast.confirm",
        subject=f"broadcast:{broadcast_id}",
        detail={"audience": str(audience_of(broadcast)), "recipients": broadcast.recipient_count},
    )
    session.info[outbox.ENQUEUED_FLAG] = True  # wakes the sender, which queues it chunk by chunk
    await session.flush()
    return broadcast


async def cancel(session: AsyncSession, broadcast_id: int, *, actor_telegram_id: int | None) -> bool:
    """Drop a draft of `actor`; False when there is no such draft (already confirmed, not theirs)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status != Status.DRAFT or broadcast.created_by != actor_telegram_id:
        return False
    await session.delete(broadcast)
    await session.flush()
    return True


async def next_chunk(session: AsyncSession, *, limit: int = CHUNK) -> tuple[Broadcast, list[Recipient]] | None:
    """The next recipients of the oldest confirmed broadcast, after its cursor; None when none waits."""
    broadcast = await session.scalar(
        select(Broadcast).where(col(Broadcast.status) == Status.CONFIRMED).order_by(col(Broadcast.id)).limit(1)
    )
    if broadcast is None:
        return None
    try:
        query = await audience_query(session, audience_of(broadcast))
    except UnknownAudience:  # the topic or neighbourhood was removed after confirmation
        query = reachable_residents().where(col(Resident.id).is_(None))
    rows = await session.execute(query.where(col(Resident.id) > broadcast.cursor).order_by(col(Resident.id)).limit(limit))
    return broadcast, recipients_from(rows)


async def advance_cursor(
    session: AsyncSession,
    row: Broadcast | Publication,
    recipients: list[Recipient],
    *,
    expanding: str,
    done: str,
    limit: int = CHUNK,
) -> None:
    """Move a chunked expansion's cursor past `recipients`, in the same transaction as their
    outbox rows; a chunk shorter than `limit` was the last, and the row becomes `done`.

    Broadcasts and results publications expand their audience this way; the update applies only
    while the row is still `expanding`, so a second process finishing the same chunk changes nothing.
    """
    values: dict[str, Any] = {}
    if recipients:
        values["cursor"] = recipients[-1].resident_id
    if len(recipients) < limit:
        values.update(status=done, queued_at=utcnow())
    if values:
        model = type(row)
        await session.execute(update(model).where(col(model.id) == row.id, col(model.status) == expanding).values(**values))


async def chunk_done(session: AsyncSession, broadcast: Broadcast, recipients: list[Recipient], *, limit: int = CHUNK) -> None:
    """Move the broadcast's cursor past `recipients`; queued once its audience is exhausted."""
    await advance_cursor(session, broadcast, recipients, expanding=Status.CONFIRMED, done=Status.QUEUED, limit=limit)


def dedupe_key(broadcast_id: int, resident_id: int) -> str:
    return f"b:{broadcast_id}:{resident_id}"


@dataclass(frozen=True)
class BroadcastFigures:
    status: Status
    recipients: int
    sent: int
    pending: int
    failed: int
    unreachable: int


async def figures(session: AsyncSession, broadcast_id: int) -> BroadcastFigures | None:
    """Delivery figures; recipients not queued yet count as pending."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    delivery = await outbox.delivery_figures(session, broadcast_id=broadcast_id)
    not_queued = max(0, broadcast.recipient_count - delivery.total) if broadcast.status == Status.CONFIRMED else 0
    return BroadcastFigures(
        status=Status(broadcast.status),
        recipients=broadcast.recipient_count if broadcast.status != Status.QUEUED else delivery.total,
        sent=delivery.sent,
        pending=delivery.pending + not_queued,
        failed=delivery.failed,
        unreachable=delivery.unreachable,
    )
