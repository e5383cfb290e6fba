"""/whoami: the Telegram ids an administrator needs for ADMIN_IDS, roles and AGENTS_CHAT_ID."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from notices.access import whoami_text

router = Router(name=__name__)


@router.message(Command("whoami"))
async def cmd_whoami(message: Message) -> None:
    """/whoami, for anyone, anywhere, before consent too: it only repeats ids Telegram gave."""
    user_id = message.from_user.id if message.from_user is not None and not message.from_user.is_bot else None
    await message.answer(whoami_text(user_id, message.chat.id, message.chat.type))
