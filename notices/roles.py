"""Roles as staff read them: role names in plain words, the admins' screens, and the news a new official receives."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from notices.menus import queue_staff_menu, staff_commands
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation import outbox
from participation.roles import GRANTABLE_ROLES, Role, roles_of
from storage.models import Resident, RoleGrant

NEWS_KIND = "role-news"


class RoleAction(CallbackData, prefix="rl"):
    """An admin's tap on the roles screens: g grant · r ask to revoke · y revoke confirmed · n cancel."""

    a: str
    u: int
    r: str = ""


def role_name(role: Role) -> str:
    """A role as a town hall names it, in the current locale."""
    return {
        Role.ADMIN: _("administrator"),
        Role.AGENT: _("town hall agent"),
        Role.OFFICIAL: _("councillor or participation officer"),
    }[role]


def grant_usage() -> str:
    return _(
        "Usage: /grant USER_ID, then choose the role (the person finds their id with /whoami). /roles shows who has which role."
    )


def unknown_role() -> str:
    return _("Unknown role. Choose agent or official.")


def grant_choice(user_id: int) -> Screen:
    """Which role to give `user_id`: one button per role an admin may give."""
    rows = [
        [InlineKeyboardButton(text=role_name(role), callback_data=RoleAction(a="g", u=user_id, r=role.value).pack())]
        for role in GRANTABLE_ROLES
    ]
    rows.append([InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=RoleAction(a="n", u=user_id).pack())])
    return Screen(_("Which role should {user_id} have?").format(user_id=user_id), InlineKeyboardMarkup(inline_keyboard=rows))


def granted(user_id: int, role: Role, reached: bool) -> str:
    text = _("✅ {user_id} is now “{role}”.").format(user_id=user_id, role=role_name(role))
    if reached:
        return text + " " + _("We let them know.")
    return text + " " + _("They will get their commands when they first write to the bot (/start).")


def already_granted(user_id: int, role: Role) -> str:
    return _("{user_id} is already “{role}”: nothing changed.").format(user_id=user_id, role=role_name(role))


def roles_screen(grants: Iterable[RoleGrant], admin_ids: Iterable[int]) -> Screen:
    """Who has which role, with a button to take each given role back (admins come from ADMIN_IDS)."""
    lines = [_("👥 <b>Roles</b>")]
    for admin_id in admin_ids:
        lines.append(_("• {user_id}: {role} (set by ADMIN_IDS)").format(user_id=admin_id, role=role_name(Role.ADMIN)))
    rows = []
    given = list(grants)
    for grant in given:
        role = Role(grant.role)
        lines.append(_("• {user_id}: {role}").format(user_id=grant.telegram_id, role=role_name(role)))
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("➖ Take back: {user_id}, {role}").format(user_id=grant.telegram_id, role=role_name(role)),
                    callback_data=RoleAction(a="r", u=grant.telegram_id, r=role.value).pack(),
                )
            ]
        )
    if not given:
        lines.append(_("No role given yet. Give one with /grant USER_ID."))
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None)


def revoke_question(user_id: int, role: Role) -> Screen:
    return Screen(
        _("Take the role “{role}” back from {user_id}? They will no longer have its commands.").format(
            role=role_name(role), user_id=user_id
        ),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("✅ Take it back"), callback_data=RoleAction(a="y", u=user_id, r=role.value).pack()
                    ),
                    InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=RoleAction(a="n", u=user_id).pack()),
                ]
            ]
        ),
    )


def revoked(user_id: int, role: Role) -> str:
    return _("✅ {user_id} is no longer “{role}”.").format(user_id=user_id, role=role_name(role))


def not_had(user_id: int, role: Role) -> str:
    return _("{user_id} is not “{role}” (any more): nothing changed.").format(user_id=user_id, role=role_name(role))


def nothing_changed() -> str:
    return _("Cancelled: nothing changed.")


def role_news(role: Role, roles: frozenset[Role]) -> str:
    """What someone who was just given `role` reads: the commands they now have, in the current locale."""
    commands = staff_commands(roles)
    if not commands:  # agents work in the agents' group, with buttons rather than commands
        lines = [_("👋 You are now “{role}” on Palabre.").format(role=role_name(role))]
    else:
        lines = [
            _("👋 You are now “{role}” on Palabre. Your commands:").format(role=role_name(role)),
            *[f"/{command.command} — {command.description}" for command in commands],
        ]
    if role == Role.AGENT:
        lines.append(_("New reports arrive in the agents' group, with buttons to change their status."))
    return "\n".join(lines)


async def after_role_change(
    session: AsyncSession, telegram_id: int, admin_ids: Iterable[int], i18n: I18n, *, granted_role: Role | None = None
) -> bool:
    """Queue, after a grant or a revocation, the person's new command menu and (for a grant) the news.

    Call within an I18n context. False when they never wrote to the bot: Telegram would answer
    « chat not found »; /start queues their menu then.
    """
    resident = await session.scalar(select(Resident).where(col(Resident.telegram_id) == telegram_id))
    if resident is None:
        return False
    if granted_role is not None:
        locale = resident.locale if resident.locale in i18n.available_locales else i18n.default_locale
        roles = await roles_of(session, telegram_id, admin_ids)
        with i18n.use_locale(locale):
            text = role_news(granted_role, roles)
        await outbox.enqueue(
            session, chat_id=telegram_id, method="sendMessage", payload={"text": text}, resident_id=resident.id, kind=NEWS_KIND
        )
    return await queue_staff_menu(session, telegram_id, admin_ids, i18n, resident=resident)
