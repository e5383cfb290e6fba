"""Help as people read it: what the service does, and the commands of staff."""

from __future__ import annotations

from aiogram.types import BotCommand
from aiogram.utils.i18n import gettext as _


def staff_section(commands: list[BotCommand]) -> str:
    """The commands of a staff member's roles, after the residents' help."""
    lines = [_("<b>Your commands as town hall staff</b>")] + [f"/{c.command} — {c.description}" for c in commands]
    return "\n".join(lines)


def help_text() -> str:
    return _(
        "ℹ️ <b>How Palabre works</b>\n\n"
        "🗳 <b>Consultations</b>: give your opinion on the town's projects in a few taps.\n"
        "📍 <b>Report a problem</b>: a pothole, a broken street light, litter… with a photo and the place.\n"
        "📋 <b>My reports</b>: follow what happens to them.\n"
        "⚙️ <b>Settings</b>: language and preferences.\n\n"
        "Use the menu at the bottom of the screen, or the commands: /consultations, /report, "
        "/myreports, /settings, /privacy, /help."
    )
