"""Residents: created on first contact, then language, consent and profile."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.privacy import NOTICE_VERSION
from storage.models import Resident
from storage.types import utcnow
from storage.upsert import insert_ignore


async def get_or_create_resident(session: AsyncSession, telegram_id: int) -> Resident:
    """The resident behind a Telegram user; only the id is stored until they consent."""
    resident = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    if resident is not None:
        return resident
    # Insert-or-ignore: two workers seeing the same new user at once must not fail.
    await insert_ignore(
        session,
        Resident.__table__,  # type: ignore[arg-type]
        Resident(telegram_id=telegram_id).model_dump(exclude={"id"}),
        ["telegram_id"],
    )
    resident = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    assert resident is not None
    return resident


async def find_resident(session: AsyncSession, telegram_id: int) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))


def has_current_consent(resident: Resident) -> bool:
    """True when the resident accepted the notice in force (a new version asks again)."""
    return resident.consent_at is not None and resident.consent_version == NOTICE_VERSION


async def set_locale(session: AsyncSession, resident: Resident, locale: str) -> None:
    resident.locale = locale
    session.add(resident)
    await session.flush()


async def record_consent(session: AsyncSession, resident: Resident) -> None:
    resident.consent_at = utcnow()
    resident.consent_version = NOTICE_VERSION
    session.add(resident)
    await session.flush()
