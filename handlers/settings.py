"""Settings: language now; subscriptions and profile join here as they arrive."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import SettingsCallback
from handlers.menu import LANGUAGE_NAMES, MENU_SETTINGS, language_keyboard
from storage.models import Resident

router = Router(name=__name__)


def settings_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("🌐 Language"), callback_data=SettingsCallback(action="lang").pack())],
        ]
    )


@router.message(Command("settings"))
@router.message(F.text == MENU_SETTINGS)
async def cmd_settings(message: Message, resident: Resident) -> None:
    """/settings or the menu entry: what can be changed."""
    language = LANGUAGE_NAMES.get(resident.locale or "", "-")
    await message.answer(
        _("⚙️ <b>Settings</b>\n\nLanguage: {language}").format(language=language),
        reply_markup=settings_keyboard(),
    )


@router.callback_query(SettingsCallback.filter(F.action == "lang"))
async def on_settings_language(query: CallbackQuery) -> None:
    """Offer the languages; the choice itself is handled by onboarding's language handler."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("Which language do you prefer?"), reply_markup=language_keyboard())
