"""Deep links (`t.me/<bot>?start=<payload>`): parsed on /start, acted on once onboarding is done."""

from __future__ import annotations

import re

from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.consultations import open_consultation
from handlers.reports import start_report
from notices.onboarding import unknown_consultation
from participation.consultations import get_by_slug
from storage.models import Resident

# Telegram allows up to 64 characters of A-Za-z0-9_- in a start payload; anything else is forged.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONSULTATION = re.compile(r"^c_([a-z0-9-]{1,60})$")


def parse_payload(raw: str | None) -> str | None:
    """The payload if it is one Telegram could have sent, else None (ignored, not an error)."""
    if raw and _PAYLOAD.fullmatch(raw):
        return raw
    return None


async def open_payload(
    message: Message, payload: str, *, session: AsyncSession, resident: Resident, state: FSMContext, settings: Settings
) -> None:
    """Act on a deep link for a resident who has finished onboarding."""
    consultation = _CONSULTATION.fullmatch(payload)
    if consultation:
        found = await get_by_slug(session, consultation.group(1))
        if found is None or found.status == "draft":
            await message.answer(unknown_consultation(consultation.group(1)))
            return
        await open_consultation(message, found, session=session, resident=resident, state=state, settings=settings)
    elif payload == "r":
        # The locale of this update is already set: the I18n in context is the application's.
        await start_report(message, state, session, I18n.get_current(no_error=False), settings)
    # Any other well-formed payload (an old poster, a typo) just lands on the main menu.
