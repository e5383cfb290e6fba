"""Help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.help import help_text, staff_section
from notices.menu import MENU_HELP, staff_commands
from participation.roles import roles_of

router = Router(name=__name__)


@router.message(Command("help", "aide"))
@router.message(F.text == MENU_HELP)
async def cmd_help(message: Message, session: AsyncSession, settings: Settings) -> None:
    """/help or the menu entry; staff also see the commands of their roles."""
    text = help_text()
    roles = await roles_of(session, message.from_user.id, settings.admin_ids) if message.from_user else frozenset()
    commands = staff_commands(roles)
    if commands:
        text += "\n\n" + staff_section(commands)
    await message.answer(text)
