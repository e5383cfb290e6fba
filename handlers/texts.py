"""Longer texts used by several handlers, built in the current locale."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def privacy_notice() -> str:
    return _(
        "🔒 <b>Your data</b>\n\n"
        "Palabre is your town hall's participation channel. To answer you, we keep:\n"
        "• your Telegram id (not your name, not your phone number);\n"
        "• the language you chose and, only if you wish, your neighbourhood and age bracket;\n"
        "• your answers to consultations and your reports (text, photos, place).\n\n"
        "<b>Why:</b> to run consultations, handle your reports and tell you what came of them.\n"
        "<b>Who sees them:</b> the town hall's authorised staff and councillors. Published results are anonymous.\n"
        "<b>How long:</b> as long as you use the service; free texts and the details of reports are "
        "deleted after the retention period set by the town hall.\n"
        "<b>Your rights:</b> /mydata sends you everything we keep about you; /forget erases it.\n\n"
        "You can read this notice again at any time with /privacy."
    )


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
