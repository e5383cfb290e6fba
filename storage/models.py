"""SQLModel tables. Every schema change also gets an Alembic migration in storage/migrations."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

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
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
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
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
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
    description: str = Field(max_length=2000)
    lat: float | None = None
    lon: float | None = None
    address: str | None = Field(default=None, max_length=300)
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
    note: str | None = Field(default=None, max_length=1000)
    # Telegram id of the agent (or reporter, when they reopen); None from the CLI or Open311.
    author_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    source: str = Field(max_length=16)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
