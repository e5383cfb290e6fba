"""Catch-all handlers, registered last: whatever nothing else understood gets a clear answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from config.settings import Settings
from handlers import onboarding
from handlers.menu import main_menu
from participation.residents import has_current_consent
from storage.models import Resident

router = Router(name=__name__)


@router.message()
async def on_unknown_message(message: Message, state: FSMContext, resident: Resident, settings: Settings) -> None:
    """Text, sticker, photo… that no flow expected."""
    if not has_current_consent(resident):
        # Someone who never finished onboarding: take them there instead of refusing.
        await onboarding.begin(message, state, resident, settings)
        return
    await message.answer(_("Sorry, I did not understand that. Please use the menu below 👇"), reply_markup=main_menu())


@router.callback_query()
async def on_stale_button(query: CallbackQuery) -> None:
    """A button that no longer means anything (old message, forged data)."""
    await query.answer(_("This button is no longer valid."), show_alert=False)
