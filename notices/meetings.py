"""Public meetings as residents receive them: the invitation and the reminder."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from notices.labels import spoken_date
from storage.models import Meeting


def format_when(starts_at: datetime, tz: ZoneInfo, locale: str) -> str:
    return spoken_date(starts_at, tz, locale, weekday=True)


def render_invitation(meeting: Meeting, tz: ZoneInfo, locale: str) -> tuple[str, dict[str, Any]]:
    """The invitation in the current locale, with the "I'll come" / "I can't" buttons."""
    assert meeting.id is not None
    text = _("📅 <b>Public meeting</b>\n\n<b>{title}</b>\n🕒 {when}\n📍 {place}\n\nWill you come?").format(
        title=html.escape(meeting.title), when=format_when(meeting.starts_at, tz, locale), place=html.escape(meeting.place)
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ I'll come"), callback_data=MeetingCallback(id=meeting.id, come=True).pack()),
                InlineKeyboardButton(text=_("❌ I can't"), callback_data=MeetingCallback(id=meeting.id, come=False).pack()),
            ]
        ]
    )
    return "sendMessage", {"text": text, "reply_markup": keyboard.model_dump(exclude_none=True)}


def render_reminder(meeting: Meeting, tz: ZoneInfo, locale: str) -> tuple[str, dict[str, Any]]:
    text = _("⏰ Reminder: the public meeting <b>{title}</b> is tomorrow, {when}, at {place}. See you there!").format(
        title=html.escape(meeting.title), when=format_when(meeting.starts_at, tz, locale), place=html.escape(meeting.place)
    )
    return "sendMessage", {"text": text}


class MeetingCallback(CallbackData, prefix="mt"):
    """A resident's answer to a meeting invitation."""

    id: int
    come: bool
