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


# Officials' broadcast and meeting callbacks live with their screens in notices/; named here for older imports.
from notices.broadcasts import AudienceCallback as AudienceCallback  # noqa: E402
from notices.broadcasts import BroadcastCallback as BroadcastCallback  # noqa: E402
from notices.meetings import MeetingConfirmCallback as MeetingConfirmCallback  # noqa: E402


class PrivacyMoreCallback(CallbackData, prefix="pm"):
    """« Learn more » under the short privacy notice: the full notice."""

    full: bool = True
