"""SQLModel tables. Every schema change also gets an Alembic migration in storage/migrations."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from storage.crypto import AnswerValue, EncryptedFloat, EncryptedJSON, EncryptedText, cell_of
from storage.types import UTCDateTime, utcnow


def new_pseudonym() -> str:
    """A random id that stands for a resident in exports; it reveals nothing about them."""
    return secrets.token_hex(8)


class Resident(SQLModel, table=True):
    """Someone who wrote to the bot. Before consent only `telegram_id` is known (needed to reply)."""

    __tablename__ = "resident"

    id: int | None = Field(default=None, primary_key=True)
    # Nullable so that an erased resident (/forget) keeps a row that anonymous answers point to.
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    pseudonym: str = Field(default_factory=new_pseudonym, max_length=32, unique=True)
    locale: str | None = Field(default=None, max_length=8)
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_version: str | None = Field(default=None, max_length=32)
    neighbourhood: str | None = Field(default=None, max_length=64)
    age_bracket: str | None = Field(default=None, max_length=16)
    notifications_enabled: bool = True
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Day of the last update from them (written at most once a day): who counts as active.
    last_active_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """A role given to a Telegram user by an admin or from the command line."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("telegram_id", "role", name="uq_role_grant_user_role"),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=BigInteger, index=True)
    role: str = Field(max_length=16)
    granted_by: int | None = Field(default=None, sa_type=BigInteger)
    granted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """aiogram FSM state and data, kept in the database so that a restart loses no conversation."""

    __tablename__ = "conversation_state"

    key: str = Field(primary_key=True, max_length=200)
    state: str | None = Field(default=None, max_length=200)
    # Encrypted: it holds what a resident is typing (a report's description, address, location).
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class OutboxMessage(SQLModel, table=True):
    """One message waiting to go out (or gone). The sender drains this table; nothing else sends.

    `payload` holds the Bot API parameters already rendered in the recipient's language.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", ondelete="SET NULL")
    method: str = Field(max_length=32)
    # Encrypted: rendered notices carry descriptions, addresses, notes and answers.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    kind: str = Field(default="notice", max_length=32)
    broadcast_id: int | None = Field(default=None, index=True)
    # Unique when set: enqueueing the same logical message twice (a reminder, a status notice)
    # is a no-op, across restarts and double fires.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    # Telegram's id of the message once sent, for the posts that may have to be edited later
    # (the agents' group copy of a report, when its author erases their data).
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)


class AuditEntry(SQLModel, table=True):
    """Who did what and when, for every action of an admin, official or agent."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # None when the action came from the server's command line (the operator).
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    source: str = Field(max_length=16)
    action: str = Field(max_length=64)
    subject: str | None = Field(default=None, max_length=200)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


# --- Consultations (issue 3) -------------------------------------------------------------------


class Consultation(SQLModel, table=True):
    """A consultation, as imported from its YAML file or built step by step in the chat.

    The questions are kept as the validated definition (a JSON list): answers refer to them by
    their `id`, and the definition can be replaced as a whole while nobody has answered yet.
    """

    __tablename__ = "consultation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=60, unique=True, index=True)
    title: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    description: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    topic: str | None = Field(default=None, max_length=64)
    neighbourhoods: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    reminders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # draft (built in the chat, not published) | scheduled | open | closed; the scheduler moves it
    # along, and answering checks the times itself as well.
    status: str = Field(default="scheduled", max_length=16, index=True)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsultationResponse(SQLModel, table=True):
    """One resident's response to one consultation, saved answer by answer."""

    __tablename__ = "consultation_response"
    __table_args__ = (UniqueConstraint("consultation_id", "resident_id", name="uq_response_consultation_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE", index=True)
    status: str = Field(default="in_progress", max_length=16)  # in_progress | submitted
    # Index of the question shown now; None means the summary.
    cursor: int | None = Field(default=0)
    # Bumped at every change: buttons carry it, so an old or doubled tap is recognised and refused.
    step: int = 0
    # Choices ticked (multiple) or ranked so far on the current question, before "validate".
    draft: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsultationAnswer(SQLModel, table=True):
    """The answer to one question; `value` None means the question was skipped.

    On SQLite only, migration 0007 adds ix_consultation_answer_question_value (question_id, value,
    response_id), for the counts of results: PostgreSQL cannot index json and does not need it.
    """

    __tablename__ = "consultation_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_answer_response_question"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="consultation_response.id", ondelete="CASCADE", index=True)
    question_id: str = Field(max_length=64)
    # Choices and numbers in clear (counted in SQL); the answer to a text question sealed (FreeText).
    value: Any = Field(default=None, sa_column=Column(AnswerValue, nullable=True))
    # The free answer given with the "other" choice (encrypted; the domain limits its length).
    other_text: str | None = Field(default=None, sa_type=EncryptedText)
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ConsultationPoll(SQLModel, table=True):
    """A native Telegram poll sent to one resident for a one-question consultation."""

    __tablename__ = "consultation_poll"
    __table_args__ = (UniqueConstraint("consultation_id", "resident_id", name="uq_poll_consultation_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE")
    chat_id: int = Field(sa_type=BigInteger)
    poll_id: str | None = Field(default=None, max_length=64, unique=True)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    status: str = Field(default="queued", max_length=16)  # queued | open | stopped
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Notifications: topics, neighbourhoods, subscriptions, broadcasts, public meetings ---------


class Topic(SQLModel, table=True):
    """A subject residents can subscribe to (the commune's list, imported from YAML)."""

    __tablename__ = "topic"

    code: str = Field(primary_key=True, max_length=64)
    # Locale -> name, e.g. {"fr": "Urbanisme", "en": "Urban planning"}.
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    position: int = 0


class Neighbourhood(SQLModel, table=True):
    """A neighbourhood (quartier) of the commune; `Resident.neighbourhood` holds its code."""

    __tablename__ = "neighbourhood"

    code: str = Field(primary_key=True, max_length=64)
    names: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Optional GeoJSON Polygon/MultiPolygon: a report located inside belongs to this neighbourhood.
    area: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    position: int = 0


class Subscription(SQLModel, table=True):
    """A resident follows a topic: broadcasts and results about it reach them."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("resident_id", "topic_code", name="uq_subscription_resident_topic"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE", index=True)
    topic_code: str = Field(foreign_key="topic.code", ondelete="CASCADE", max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Broadcast(SQLModel, table=True):
    """A message from an official to an audience: draft, then confirmed, then queued in the outbox.

    A confirmed broadcast is expanded into outbox rows chunk by chunk, in order of resident id;
    `cursor` is the last resident id queued, so that expansion resumes where a crash stopped it.
    """

    __tablename__ = "broadcast"

    id: int | None = Field(default=None, primary_key=True)
    # None when it came from the server's command line.
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    audience_kind: str = Field(max_length=16)
    audience_value: str | None = Field(default=None, max_length=64)
    text: str = Field(default="", max_length=4096)
    # A Telegram file_id (sent from the chat) or a local file path (sent from the command line).
    photo_file_id: str | None = Field(default=None, max_length=200)
    photo_path: str | None = Field(default=None, max_length=500)
    # Set when the broadcast is the invitation to a public meeting.
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id", ondelete="CASCADE")
    status: str = Field(default="draft", max_length=16, index=True)
    recipient_count: int = 0
    cursor: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Meeting(SQLModel, table=True):
    """A public meeting (réunion publique) announced by an official."""

    __tablename__ = "meeting"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    place: str = Field(max_length=300)
    audience_kind: str = Field(max_length=16)
    audience_value: str | None = Field(default=None, max_length=64)
    created_by: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Claimed (set) by the reminder job before it queues anything: the reminder goes out once.
    reminder_claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MeetingAnswer(SQLModel, table=True):
    """A resident's answer to a meeting invitation; the last tap wins."""

    __tablename__ = "meeting_answer"
    __table_args__ = (UniqueConstraint("meeting_id", "resident_id", name="uq_meeting_answer_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE", index=True)
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE")
    will_come: bool
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Problem reports (issue 4): categories, reports, photos, followers, status history ---------


class ReportCategory(SQLModel, table=True):
    """A kind of problem residents can report; `code` is its Open311 service_code."""

    __tablename__ = "report_category"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    # Texts as {locale: text}; "*" holds a text given as a plain string (any language).
    group_name: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    name: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    photo_required: bool = False
    location_required: bool = True
    position: int = 0
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """A problem reported by a resident (or through Open311), followed until it is closed."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_nearby", "category_id", "created_at"),
        Index("ix_report_status", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True, index=True)
    category_id: int = Field(foreign_key="report_category.id")
    # None for reports posted through Open311, and after the reporter was erased.
    resident_id: int | None = Field(default=None, foreign_key="resident.id", ondelete="SET NULL", index=True)
    status: str = Field(default="new", max_length=20)
    # Encrypted at rest, like the exact location; lengths are checked by the domain.
    description: str = Field(sa_type=EncryptedText)
    lat: float | None = Field(default=None, sa_type=EncryptedFloat)
    lon: float | None = Field(default=None, sa_type=EncryptedFloat)
    # The coarse cell of the location, in clear, for the search of nearby reports (storage.crypto).
    cell: str | None = Field(default=None, max_length=24, index=True)
    address: str | None = Field(default=None, sa_type=EncryptedText)
    neighbourhood: str | None = Field(default=None, max_length=64)
    media_url: str | None = Field(default=None, max_length=500)
    source: str = Field(default="chat", max_length=16)
    open311_token: str | None = Field(default=None, max_length=64, unique=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="report.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ReportPhoto(SQLModel, table=True):
    """A photo of a report: Telegram's file id (to show it again) and the downloaded copy."""

    __tablename__ = "report_photo"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    file_id: str = Field(max_length=200)
    file_unique_id: str | None = Field(default=None, max_length=100)
    path: str | None = Field(default=None, max_length=400)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportFollower(SQLModel, table=True):
    """A resident who follows someone else's report (e.g. instead of filing a duplicate)."""

    __tablename__ = "report_follower"
    __table_args__ = (UniqueConstraint("report_id", "resident_id", name="uq_report_follower"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReportStatusChange(SQLModel, table=True):
    """One step of a report's history: who changed its status, when, and the public note."""

    __tablename__ = "report_status_change"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    # Encrypted: written about someone's report, it may name them or their place.
    note: str | None = Field(default=None, sa_type=EncryptedText)
    # Telegram id of the agent (or reporter, when they reopen); None from the CLI or Open311.
    author_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    source: str = Field(max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Results publication and consultation reminders (issue 5) ----------------------------------


class Publication(SQLModel, table=True):
    """The outcome of a closed consultation ("we asked, you said, we did"): the council's decision.

    One per consultation. Like a broadcast, it is expanded into outbox rows chunk by chunk in
    resident-id order; `cursor` is the last resident id queued, so a crash resumes after it.
    """

    __tablename__ = "publication"

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", unique=True)
    decision: str = Field(max_length=2000)
    # The decision in other languages residents use (locale -> text); `decision` for the others.
    translations: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    # None when it came from the server's command line.
    author_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    source: str = Field(max_length=16)
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default="queuing", max_length=16, index=True)  # queuing | queued
    recipient_count: int = 0
    cursor: int = 0
    queued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsultationReminder(SQLModel, table=True):
    """A reminder of a consultation (one per offset), claimed by inserting this row: once, ever."""

    __tablename__ = "consultation_reminder"
    __table_args__ = (UniqueConstraint("consultation_id", "offset", name="uq_consultation_reminder_offset"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id", ondelete="CASCADE", index=True)
    offset: str = Field(max_length=16)
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # sent: queued to `recipient_count` residents; skipped: its time came after the closing.
    outcome: str = Field(max_length=16)
    recipient_count: int = 0


# --- Impact, feedback, satisfaction (issue 8) -------------------------------------------------


class Feedback(SQLModel, table=True):
    """An idea or complaint about the channel itself, written by a resident; an official may answer."""

    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    # Deleted with the resident's other texts on /forget.
    resident_id: int = Field(foreign_key="resident.id", ondelete="CASCADE", index=True)
    text: str = Field(sa_type=EncryptedText)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    answer: str | None = Field(default=None, sa_type=EncryptedText)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: int | None = Field(default=None, sa_type=BigInteger)


class SatisfactionRound(SQLModel, table=True):
    """One period's satisfaction question; the row is the claim that it was queued (once)."""

    __tablename__ = "satisfaction_round"

    period: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    queued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    recipients: int = 0


class SatisfactionAnswer(SQLModel, table=True):
    """A resident's answer (1-5) to one period's question; kept anonymously after /forget."""

    __tablename__ = "satisfaction_answer"
    __table_args__ = (UniqueConstraint("period", "resident_id", name="uq_satisfaction_period_resident"),)

    id: int | None = Field(default=None, primary_key=True)
    period: int = Field(index=True)
    resident_id: int | None = Field(default=None, foreign_key="resident.id", ondelete="SET NULL")
    score: int
    comment: str | None = Field(default=None, sa_type=EncryptedText)
    answered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- Officials' web back office (issue 17) -----------------------------------------------------


class WebSignInToken(SQLModel, table=True):
    """A one-time sign-in link asked for with /web; only its SHA-256 is kept, never the token."""

    __tablename__ = "web_sign_in_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    telegram_id: int = Field(sa_type=BigInteger, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds the token, the store its SHA-256."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    telegram_id: int = Field(sa_type=BigInteger, index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # None while the TOTP code is still owed (when the role requires one).
    second_factor_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebTotpSecret(SQLModel, table=True):
    """A staff member's TOTP secret (base32), confirmed once a first code matched."""

    __tablename__ = "web_totp_secret"

    telegram_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    # The shared secret itself: feature/encryption wraps this column to encrypt it at rest.
    totp_secret: str = Field(sa_type=EncryptedText)  # a second factor in clear would be no factor
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The last 30-second step accepted: a code is never accepted twice.
    last_step: int = Field(default=0, sa_type=BigInteger)


class ReportAssignment(SQLModel, table=True):
    """The agent a report is assigned to (one at a time)."""

    __tablename__ = "report_assignment"

    report_id: int = Field(
        foreign_key="report.id", ondelete="CASCADE", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    agent_telegram_id: int = Field(sa_type=BigInteger, index=True)
    # Encrypted: the agent's name as Telegram gave it when they took the report (None from the back office).
    agent_name: str | None = Field(default=None, sa_type=EncryptedText)
    assigned_by: int | None = Field(default=None, sa_type=BigInteger)
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SavedReply(SQLModel, table=True):
    """A response template for agents' public notes, for a category and/or a status (or any)."""

    __tablename__ = "saved_reply"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=100)
    text: str = Field(max_length=1000)
    category_code: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update already handled: the same update delivered again is handled once."""

    __tablename__ = "processed_update"

    update_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class FailedUpdate(SQLModel, table=True):
    """An update given up after its retries: what and why, never what the person wrote."""

    __tablename__ = "failed_update"

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(sa_type=BigInteger, index=True)
    kind: str = Field(max_length=40)
    error: str = Field(max_length=120)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


# --- Leadership (issue 12) ------------------------------------------------------------------------


class LeaderLease(SQLModel, table=True):
    """Which `palabre run` process runs the scheduler and the sender, until when (bot/leader.py)."""

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True, max_length=40)
    # "host:pid:random": tells the processes apart in the logs and in this row, nothing personal.
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


@event.listens_for(Report, "before_insert")
@event.listens_for(Report, "before_update")
def _report_cell(_mapper: Any, _connection: Any, report: Report) -> None:
    """Keep the clear coarse cell in step with the encrypted location, whoever sets it."""
    report.cell = cell_of(report.lat, report.lon)


class AppState(SQLModel, table=True):
    """Small facts about the database itself, e.g. when a backup copy of it was taken."""

    __tablename__ = "app_state"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Population margins (issue 18) --------------------------------------------------------------


class PopulationMargins(SQLModel, table=True):
    """The commune's inhabitants aged 15 and over by neighbourhood and by age bracket (one row).

    Imported with `palabre population import`; a new import replaces the row as a whole.
    """

    __tablename__ = "population_margins"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    source: str = Field(max_length=200)
    neighbourhoods: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    age_brackets: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- The agents' card of a report (issue 15) ---------------------------------------------------


class ReportCard(SQLModel, table=True):
    """A report's one card in the agents' group: the outbox row that posts it, then its Telegram message id.

    Every change of the report edits this card in place; an edit carries the `version` it renders,
    and one older than the card's is skipped, so that the last state wins whatever the order.
    """

    __tablename__ = "report_card"

    report_id: int = Field(
        foreign_key="report.id", ondelete="CASCADE", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    chat_id: int = Field(sa_type=BigInteger)
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id", ondelete="SET NULL")
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    # sendPhoto (edits change the caption) or sendMessage (edits change the text).
    method: str = Field(max_length=32)
    version: int = 0
    # How many times it was posted: a card deleted from the group is posted again.
    posts: int = 1
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
