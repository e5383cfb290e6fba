"""/web: a one-time link to the officials' web back office, for staff only."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import access as say
from participation.web_access import LINK_TTL, issue_sign_in_link

router = Router(name=__name__)


def sign_in_url(settings: Settings, token: str) -> str:
    return f"{(settings.web_base_url or '').rstrip('/')}/backoffice/signin/{token}"


@router.message(Command("web"))
async def cmd_web(message: Message, session: AsyncSession, settings: Settings) -> None:
    """/web: staff get a sign-in link valid once for a few minutes; residents a polite refusal."""
    assert message.from_user is not None
    if not settings.web_enabled:
        await message.answer(say.web_disabled())
        return
    token = await issue_sign_in_link(session, message.from_user.id, settings.admin_ids)
    if token is None:
        await message.answer(say.web_refused())
        return
    minutes = int(LINK_TTL.total_seconds() // 60)
    await message.answer(say.sign_in_link(sign_in_url(settings, token), minutes))
