"""Public meetings as residents receive them (the invitation and the reminder) and as officials announce them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from notices.labels import spoken_date
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation.meetings import AnswerOutcome, MeetingCounts
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


class MeetingConfirmCallback(CallbackData, prefix="mc"):
    ok: bool


# --- What officials read while announcing a meeting -----------------------------------------------


def ask_title() -> str:
    return _("📅 New public meeting. What is its title? /cancel to stop.")


def cancelled() -> str:
    return _("Cancelled: nothing was sent.")


def bad_title(limit: int) -> str:
    return _("A title of at most {limit} characters, please.").format(limit=limit)


def ask_when() -> str:
    return _("🕒 When does it start? For example: 12/12/2026 18:30")


def past_date() -> str:
    return _("This date has passed. Please give a date in the future.")


def ask_place() -> str:
    return _("📍 Where will it take place?")


def bad_place(limit: int) -> str:
    return _("A place of at most {limit} characters, please.").format(limit=limit)


def ask_audience() -> str:
    return _("👥 Who should be invited?")


def text_please() -> str:
    return _("Please answer with a text. /cancel to stop.")


def summary(title: str, starts_at: datetime, place: str, count: int, tz: ZoneInfo, locale: str) -> Screen:
    """The meeting as residents will read it, how many will be invited, and « Announce » / « Cancel »."""
    text = ngettext(
        "<b>{title}</b>\n🕒 {when}\n📍 {place}\n\nThe invitation will be sent to {count} resident. Announce it?",
        "<b>{title}</b>\n🕒 {when}\n📍 {place}\n\nThe invitation will be sent to {count} residents. Announce it?",
        count,
    ).format(title=html.escape(title), when=format_when(starts_at, tz, locale), place=html.escape(place), count=count)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=_("✅ Announce"), callback_data=MeetingConfirmCallback(ok=True).pack()),
                InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=MeetingConfirmCallback(ok=False).pack()),
            ]
        ]
    )
    return Screen(text, keyboard)


def announced(count: int) -> str:
    return ngettext(
        "✅ Meeting announced: the invitation is on its way to {count} resident. See the answers with /meetings.",
        "✅ Meeting announced: the invitation is on its way to {count} residents. See the answers with /meetings.",
        count,
    ).format(count=count)


def upcoming_list(items: Sequence[MeetingCounts], tz: ZoneInfo, locale: str) -> str:
    if not items:
        return _("No public meeting is planned.")
    lines = [_("📅 <b>Upcoming public meetings</b>")]
    for item in items:
        lines.append(
            _("• <b>{title}</b>, {when}: {coming} will come, {not_coming} cannot.").format(
                title=html.escape(item.meeting.title),
                when=format_when(item.meeting.starts_at, tz, locale),
                coming=item.coming,
                not_coming=item.not_coming,
            )
        )
    return "\n".join(lines)


# --- What a resident reads after answering an invitation ------------------------------------------


def answer_toast(outcome: AnswerOutcome, come: bool) -> tuple[str, bool]:
    """The toast after « I'll come » / « I can't », and whether it shows as an alert."""
    if outcome == AnswerOutcome.UNKNOWN:
        return stale_button(), False
    if outcome == AnswerOutcome.PAST:
        return _("This meeting has already taken place."), False
    if come:
        return _("✅ Noted: see you there! You will get a reminder the day before."), True
    return _("Noted. Thank you for letting us know."), True
