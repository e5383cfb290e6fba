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
