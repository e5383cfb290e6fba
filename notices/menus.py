"""Each staff member's own command menu (the lists are in notices/menu.py), queued through the outbox when roles change."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notices.menu import bot_commands, staff_commands
from participation import outbox
from participation.roles import Role, roles_of
from storage.models import Resident

MENU_KIND = "staff-menu"


def staff_menu(roles: frozenset[Role], locale: str) -> list[BotCommand]:
    """A staff member's whole menu in the current locale: the residents' commands then theirs; empty for a resident."""
    extra = staff_commands(roles)
    return bot_commands(locale) + extra if extra else []


async def queue_staff_menu(
    session: AsyncSession, telegram_id: int, admin_ids: Iterable[int], i18n: I18n, *, resident: Resident | None = None
) -> bool:
    """Queue the menu of `telegram_id`'s current roles (or its removal); False when they never opened the chat.

    Through the outbox, so Telegram is called after the commit; a per-chat scope exists only for
    someone who wrote to the bot (Telegram answers « chat not found » otherwise): they get it at /start.
    """
    if resident is None:
        resident = await session.scalar(select(Resident).where(col(Resident.telegram_id) == telegram_id))
    if resident is None:
        return False
    roles = await roles_of(session, telegram_id, admin_ids)
    locale = resident.locale if resident.locale in i18n.available_locales else i18n.default_locale
    scope = BotCommandScopeChat(chat_id=telegram_id).model_dump(exclude_none=True)
    with i18n.use_locale(locale):
        commands = staff_menu(roles, locale)
    if commands:
        method = "setMyCommands"
        payload = {"commands": [c.model_dump(exclude_none=True) for c in commands], "scope": scope}
    else:
        method, payload = "deleteMyCommands", {"scope": scope}
    await outbox.enqueue(session, chat_id=telegram_id, method=method, payload=payload, resident_id=resident.id, kind=MENU_KIND)
    return True


async def queue_menu_if_staff(session: AsyncSession, resident: Resident, admin_ids: Iterable[int], i18n: I18n) -> bool:
    """On a staff member's contact (/start), queue their own menu: Telegram refused it before they wrote to the bot."""
    if resident.telegram_id is None or not await roles_of(session, resident.telegram_id, admin_ids):
        return False
    return await queue_staff_menu(session, resident.telegram_id, admin_ids, i18n, resident=resident)
