"""The main menu (reply keyboard), the Telegram command menu and the texts they share."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from config.settings import SUPPORTED_LOCALES
from handlers.callbacks import LanguageCallback

# Lazy: resolved in the locale of the update being filtered, so `F.text == MENU_HELP` matches the
# resident's own keyboard whatever their language.
MENU_CONSULTATIONS = __("🗳 Consultations")
MENU_REPORT = __("📍 Report a problem")
MENU_MY_REPORTS = __("📋 My reports")
MENU_SETTINGS = __("⚙️ Settings")
MENU_HELP = __("❓ Help")
MENU_IMPACT = __("🌱 My impact")

LANGUAGE_NAMES = {"fr": "🇫🇷 Français", "en": "🇬🇧 English"}


def main_menu() -> ReplyKeyboardMarkup:
    """The resident's main menu, in the current locale."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=str(MENU_CONSULTATIONS)), KeyboardButton(text=str(MENU_REPORT))],
            [KeyboardButton(text=str(MENU_MY_REPORTS)), KeyboardButton(text=str(MENU_SETTINGS))],
            [KeyboardButton(text=str(MENU_HELP)), KeyboardButton(text=str(MENU_IMPACT))],
        ],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Choose from the menu"),
    )


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=LANGUAGE_NAMES[code], callback_data=LanguageCallback(code=code).pack())
                for code in SUPPORTED_LOCALES
            ]
        ]
    )


def bot_commands() -> list[BotCommand]:
    """The command menu in the current locale."""
    return [
        BotCommand(command="consultations", description=_("Consultations open to you")),
        BotCommand(command="report", description=_("Report a problem in the street")),
        BotCommand(command="myreports", description=_("Follow my reports")),
        BotCommand(command="settings", description=_("Language and preferences")),
        BotCommand(command="privacy", description=_("My data and privacy")),
        BotCommand(command="mydata", description=_("Get everything kept about me")),
        BotCommand(command="forget", description=_("Erase my data")),
        BotCommand(command="help", description=_("How Palabre works")),
        BotCommand(command="impact", description=_("What my participation changed")),
        BotCommand(command="feedback", description=_("Tell us what you think of this service")),
    ]


async def set_command_menus(bot: Bot, i18n: I18n) -> None:
    """One command menu per language, and the default locale's for everyone else."""
    with i18n.context():  # outside an update, the I18n context must be entered by hand
        for locale in SUPPORTED_LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(bot_commands(), scope=BotCommandScopeDefault(), language_code=locale)
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(bot_commands(), scope=BotCommandScopeDefault())
