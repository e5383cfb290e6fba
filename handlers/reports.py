"""Problem reports for residents (the reporting flow arrives with the reports feature)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.menu import MENU_MY_REPORTS, MENU_REPORT

router = Router(name=__name__)


@router.message(Command("report", "myreports"))
@router.message(F.text == MENU_REPORT)
@router.message(F.text == MENU_MY_REPORTS)
async def cmd_report(message: Message) -> None:
    """/report, /myreports or their menu entries."""
    await message.answer(_("Reporting a problem is not available here yet. Thank you for your patience!"))
