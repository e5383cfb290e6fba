"""/whoami: the Telegram ids an administrator needs for ADMIN_IDS, roles and AGENTS_CHAT_ID."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)


def whoami_text(user_id: int | None, chat_id: int, chat_type: str) -> str:
    """The ids of the person and, in a group, of the group, with what each is for."""
    lines = []
    if chat_type != "private":
        lines.append(_("🆔 This group's id: <code>{chat_id}</code>").format(chat_id=chat_id))
        lines.append(_("To have new reports posted here, put it in the AGENTS_CHAT_ID setting."))
    if user_id is not None:
        lines.append(_("🆔 Your Telegram id: <code>{user_id}</code>").format(user_id=user_id))
        lines.append(_("An administrator uses it in ADMIN_IDS or to grant you a role."))
    return "\n".join(lines)


@router.message(Command("whoami"))
async def cmd_whoami(message: Message) -> None:
    """/whoami, for anyone, anywhere, before consent too: it only repeats ids Telegram gave."""
    user_id = message.from_user.id if message.from_user is not None and not message.from_user.is_bot else None
    await message.answer(whoami_text(user_id, message.chat.id, message.chat.type))
