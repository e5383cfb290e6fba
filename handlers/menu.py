"""The Telegram command menus set at start, one per language (each staff member's own goes through the outbox: notices/menus.py)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from config.settings import SUPPORTED_LOCALES
from notices.menu import bot_commands


async def set_command_menus(bot: Bot, i18n: I18n) -> None:
    """One command menu per language, and the default locale's for everyone else."""
    with i18n.context():  # outside an update, the I18n context must be entered by hand
        for locale in SUPPORTED_LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(bot_commands(locale), scope=BotCommandScopeDefault(), language_code=locale)
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(bot_commands(i18n.default_locale), scope=BotCommandScopeDefault())
