"""Consultations opened and closed when their time comes (the scheduler only wakes this up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.consultations.catalog import Status
from participation.consultations.polls import stop_polls
from storage.models import (
    Consultation,
)
from storage.types import utcnow


async def open_if_due(session: AsyncSession, consultation_id: int, now: datetime | None = None) -> bool:
    """Mark a scheduled consultation open once its time has come; False when already done."""
    now = now or utcnow()
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Consultation)
            .where(
                col(Consultation.id) == consultation_id,
                col(Consultation.status) == Status.SCHEDULED,
                col(Consultation.opens_at) <= now,
            )
            .values(status=Status.OPEN, updated_at=now)
        ),
    )
    return bool(result.rowcount)


async def close_if_due(session: AsyncSession, consultation_id: int, now: datetime | None = None) -> bool:
    """Close a consultation whose time is over and stop its native polls; False when already done."""
    now = now or utcnow()
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(Consultation)
            .where(
                col(Consultation.id) == consultation_id,
                col(Consultation.status).in_([Status.SCHEDULED, Status.OPEN]),
                col(Consultation.closes_at) <= now,
            )
            .values(status=Status.CLOSED, updated_at=now)
        ),
    )
    if not result.rowcount:
        return False
    await stop_polls(session, consultation_id)
    return True


async def due_transitions(session: AsyncSession) -> list[tuple[int, str, datetime]]:
    """(consultation id, "open" or "close", when) for every transition still to make."""
    planned: list[tuple[int, str, datetime]] = []
    for consultation in await session.scalars(
        select(Consultation).where(col(Consultation.status).in_([Status.SCHEDULED, Status.OPEN]))
    ):
        assert consultation.id is not None  # loaded from the database
        if consultation.status == Status.SCHEDULED:
            planned.append((consultation.id, "open", consultation.opens_at))
        planned.append((consultation.id, "close", consultation.closes_at))
    return planned
