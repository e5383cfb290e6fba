"""Consultations for residents (the answering flow arrives with the consultations feature)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.menu import MENU_CONSULTATIONS

router = Router(name=__name__)


@router.message(Command("consultations"))
@router.message(F.text == MENU_CONSULTATIONS)
async def cmd_consultations(message: Message) -> None:
    """/consultations or the menu entry."""
    await message.answer(_("There is no consultation open here yet. Thank you for your patience!"))
