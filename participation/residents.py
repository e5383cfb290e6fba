"""Residents: created on first contact, then language, consent and profile."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.privacy import NOTICE_VERSION
from storage.models import Resident
from storage.types import utcnow
from storage.upsert import insert_ignore


class AgeBracket(StrEnum):
    """The optional age brackets of a profile, youngest first.

    INSEE-like bands. None below 15: in France one consents alone to the processing of one's data
    by an online service from 15 (loi Informatique et Libertés, art. 45), and the bot has no way
    to collect a parent's consent. The values are stored (resident rows, broadcast audiences)
    and travel in callback data: never change one, only add.
    """

    FROM_15_TO_29 = "15-29"
    FROM_30_TO_44 = "30-44"
    FROM_45_TO_59 = "45-59"
    FROM_60_TO_74 = "60-74"
    FROM_75 = "75-plus"

    @classmethod
    def known(cls, code: str) -> bool:
        """Whether `code` is one of the brackets (callback data and the command line can carry anything)."""
        return code in cls._value2member_map_


async def get_or_create_resident(session: AsyncSession, telegram_id: int) -> Resident:
    """The resident behind a Telegram user; only the id is stored until they consent."""
    resident = await session.scalar(select(Resident).where(col(Resident.telegram_id) == telegram_id))
    if resident is not None:
        return resident
    # Insert-or-ignore: two workers seeing the same new user at once must not fail.
    await insert_ignore(
        session,
        Resident,
        Resident(telegram_id=telegram_id).model_dump(exclude={"id"}),
        ["telegram_id"],
    )
    resident = await session.scalar(select(Resident).where(col(Resident.telegram_id) == telegram_id))
    assert resident is not None
    return resident


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


async def set_age_bracket(session: AsyncSession, resident: Resident, code: str | None) -> bool:
    """Give an age bracket (None: rather not say); False, and nothing changed, for an unknown code."""
    if code is not None and not AgeBracket.known(code):
        return False
    resident.age_bracket = code
    session.add(resident)
    await session.flush()
    return True


async def note_activity(session: AsyncSession, resident: Resident, *, now: datetime | None = None) -> bool:
    """Remember that the resident used the bot today; writes at most once a day per resident."""
    at = now or utcnow()
    if resident.last_active_at is not None and resident.last_active_at.date() == at.date():
        return False
    resident.last_active_at = at
    session.add(resident)
    await session.flush()
    return True
