"""The Telegram command menus: the residents' per language, and each staff member's own, queued when roles change."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import BotCommand, BotCommandScopeChat
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import outbox
from participation.roles import Role, allows, roles_of
from storage.models import Resident

# French residents see French commands; the English ones keep working for everyone.
FRENCH_COMMANDS = {
    "report": "signaler",
    "myreports": "messignalements",
    "settings": "parametres",
    "mydata": "mesdonnees",
    "forget": "oublier",
    "help": "aide",
}
MENU_KIND = "staff-menu"


def bot_commands(locale: str = "en") -> list[BotCommand]:
    """The command menu in the current locale (French command names for `fr`)."""
    commands = [
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
        BotCommand(command="whoami", description=_("My Telegram id (and a group's)")),
    ]
    if locale == "fr":
        return [BotCommand(command=FRENCH_COMMANDS.get(c.command, c.command), description=c.description) for c in commands]
    return commands


def staff_commands(roles: frozenset[Role]) -> list[BotCommand]:
    """The commands of a staff member's roles, in the current locale (admins have them all)."""
    commands: list[BotCommand] = []
    if allows(roles, Role.OFFICIAL):
        commands += [
            BotCommand(command="newconsultation", description=_("Create a consultation step by step")),
            BotCommand(command="consultations_admin", description=_("All consultations and their state")),
            BotCommand(command="results", description=_("Results of a consultation")),
            BotCommand(command="poll", description=_("Send a one-question consultation as a poll")),
            BotCommand(command="publish", description=_("Publish the outcome of a consultation")),
            BotCommand(command="broadcast", description=_("Send a message to residents")),
            BotCommand(command="meeting", description=_("Invite residents to a public meeting")),
            BotCommand(command="meetings", description=_("Public meetings and who is coming")),
            BotCommand(command="feedbacks", description=_("Residents' messages about the service")),
            BotCommand(command="stats", description=_("Figures for the council")),
        ]
    if Role.ADMIN in roles:
        commands.append(BotCommand(command="grant", description=_("Give a role to an official or an agent")))
        commands.append(BotCommand(command="roles", description=_("Who has which role; take a role back")))
    return commands


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
