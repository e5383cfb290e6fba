"""The Telegram command menus, set at start: one per language, and each staff member's own."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n

from config.settings import SUPPORTED_LOCALES
from notices.menu import bot_commands, staff_commands
from participation.roles import Role


async def set_staff_menus(bot: Bot, i18n: I18n, staff: dict[int, frozenset[Role]]) -> None:
    """Each staff member sees their own commands in the menu (a chat scope per person), in the default language."""
    with i18n.context(), i18n.use_locale(i18n.default_locale):
        for telegram_id, roles in staff.items():
            extra = staff_commands(roles)
            if extra:
                commands = bot_commands(i18n.default_locale) + extra
                try:
                    await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id=telegram_id))
                except TelegramBadRequest:  # someone who never opened the bot's chat: their menu waits
                    continue


async def set_command_menus(bot: Bot, i18n: I18n) -> None:
    """One command menu per language, and the default locale's for everyone else."""
    with i18n.context():  # outside an update, the I18n context must be entered by hand
        for locale in SUPPORTED_LOCALES:
            with i18n.use_locale(locale):
                await bot.set_my_commands(bot_commands(locale), scope=BotCommandScopeDefault(), language_code=locale)
        with i18n.use_locale(i18n.default_locale):
            await bot.set_my_commands(bot_commands(i18n.default_locale), scope=BotCommandScopeDefault())
