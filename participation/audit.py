"""The audit trail of what admins, officials and agents did."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.models import AuditEntry


class Source(StrEnum):
    CHAT = "chat"
    CLI = "cli"
    HTTP = "http"
    SCHEDULER = "scheduler"
    WEB = "web"  # the officials' back office


async def record(
    session: AsyncSession,
    *,
    actor_telegram_id: int | None,
    source: Source,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_telegram_id=actor_telegram_id,
        source=source.value,
        action=action,
        subject=subject,
        detail=detail or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(session: AsyncSession, *, since: datetime | None = None, limit: int = 1000) -> list[AuditEntry]:
    """The audit trail, oldest first, from `since` on."""
    query = select(AuditEntry).order_by(col(AuditEntry.at), col(AuditEntry.id))
    if since is not None:
        query = query.where(col(AuditEntry.at) >= since)
    return list(await session.scalars(query.limit(limit)))


async def latest(session: AsyncSession, *, limit: int = 300) -> list[AuditEntry]:
    """The most recent entries first, for the admins' page."""
    return list(
        await session.scalars(select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit))
    )
