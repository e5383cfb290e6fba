"""Catch-all handlers, registered last: whatever nothing else understood gets a clear answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers import consultations, feedback, onboarding, reports
from notices.menu import MenuPick, not_understood, stale_button
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
    text, keyboard = not_understood()
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(MenuPick.filter())
async def on_menu_pick(
    query: CallbackQuery,
    callback_data: MenuPick,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
) -> None:
    """A button under « I did not understand »: open that menu item, as its menu entry would."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not has_current_consent(resident):  # erased since the buttons were shown
        await onboarding.begin(query.message, state, resident, settings)
    elif callback_data.item == "report":
        await reports.start_report(query.message, state, session, i18n, settings)
    elif callback_data.item == "feedback":
        await feedback.ask_feedback(query.message, state)
    else:
        await consultations.cmd_consultations(query.message, session, resident, state)


@router.callback_query()
async def on_stale_button(query: CallbackQuery) -> None:
    """A button that no longer means anything (old message, forged data)."""
    await query.answer(stale_button(), show_alert=False)
