"""Who may do what, as people read it: their Telegram ids, the back office's sign-in link, and polite refusals."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _

from participation.roles import Role


def refusal(role: Role) -> str:
    """Someone without `role` tried one of its commands or buttons."""
    names = {
        Role.ADMIN: _("Sorry, this command is reserved for administrators."),
        Role.AGENT: _("Sorry, this is reserved for the town hall's agents."),
        Role.OFFICIAL: _("Sorry, this command is reserved for officials."),
    }
    return names[role]


def whoami_text(user_id: int | None, chat_id: int, chat_type: str) -> str:
    """The ids of the person and, in a group, of the group, with what each is for."""
    lines = []
    if chat_type != "private":
        lines.append(_("🆔 This group's id: <code>{chat_id}</code>").format(chat_id=chat_id))
        lines.append(_("To have new reports posted here, put it in the AGENTS_CHAT_ID setting."))
    if user_id is not None:
        lines.append(_("🆔 Your Telegram id: <code>{user_id}</code>").format(user_id=user_id))
        lines.append(_("An administrator uses it in ADMIN_IDS or to grant you a role."))
    return "\n".join(lines)


def web_disabled() -> str:
    return _("The web back office is not enabled for this commune.")


def web_refused() -> str:
    return _("Sorry, the web back office is reserved for the town hall's staff.")


def sign_in_link(url: str, minutes: int) -> str:
    return _("🔐 Your sign-in link to the back office, valid once for {minutes} minutes:\n{url}\nDo not share it.").format(
        minutes=minutes, url=html.escape(url)
    )
