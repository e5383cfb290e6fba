"""Typed callback data shared by several handler modules (prefixes short: 64 bytes in all)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    code: str


class ConsentCallback(CallbackData, prefix="cons"):
    accept: bool


class SettingsCallback(CallbackData, prefix="set"):
    action: str


# --- Notifications: subscriptions, broadcasts, public meetings ----------------------------------


class TopicCallback(CallbackData, prefix="tp"):
    """Toggle the subscription to a topic (settings)."""

    code: str


class NeighbourhoodCallback(CallbackData, prefix="nb"):
    """Choose a neighbourhood in settings; code "-" means none."""

    code: str


class AgeBracketCallback(CallbackData, prefix="ab"):
    """Choose an age bracket in settings; code "-" means none."""

    code: str


class AudienceCallback(CallbackData, prefix="au"):
    """An official picks the audience of a broadcast or a meeting: kind a/t/n/g/c and a code."""

    flow: str  # "b" broadcast, "m" meeting
    kind: str
    code: str = ""


class BroadcastCallback(CallbackData, prefix="bc"):
    """Confirm (ok), cancel (no) or see the figures (st) of broadcast `id`."""

    action: str
    id: int


class MeetingConfirmCallback(CallbackData, prefix="mc"):
    ok: bool


class PrivacyMoreCallback(CallbackData, prefix="pm"):
    """« Learn more » under the short privacy notice: the full notice."""

    full: bool = True
