"""Help."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from handlers.menu import MENU_HELP
from handlers.texts import help_text

router = Router(name=__name__)


@router.message(Command("help", "aide"))
@router.message(F.text == MENU_HELP)
async def cmd_help(message: Message) -> None:
    """/help or the menu entry."""
    await message.answer(help_text())
