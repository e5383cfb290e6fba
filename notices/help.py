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
        "🌱 <b>My impact</b>: what your answers and reports have changed.\n"
        "💬 <b>Write to the town hall</b>: an idea or a remark about this service (/feedback).\n"
        "🔒 <b>My data</b>: receive everything we keep about you (/mydata) or erase it (/forget).\n"
        "⚙️ <b>Settings</b>: language, neighbourhood, topics and announcements.\n\n"
        "Use the buttons at the bottom of the screen, or the commands: /consultations, /report, "
        "/myreports, /settings, /help.\n\n"
        "🚨 In an emergency, do not write here: call 17 (police), 18 (fire brigade), 15 (ambulance) or 112."
    )
