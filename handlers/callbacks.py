"""Typed callback data of the officials' flows shared by several handler modules (prefixes short: 64 bytes in all).

The residents' callback data live with their keyboards in notices/ and are re-exported here for
the modules and tests that still import them from this place.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from notices.menu import LanguageCallback
from notices.onboarding import ConsentCallback, PrivacyMoreCallback
from notices.settings import AgeBracketCallback, NeighbourhoodCallback, SettingsCallback, TopicCallback

__all__ = [
    "AgeBracketCallback",
    "AudienceCallback",
    "BroadcastCallback",
    "ConsentCallback",
    "LanguageCallback",
    "MeetingConfirmCallback",
    "NeighbourhoodCallback",
    "PrivacyMoreCallback",
    "SettingsCallback",
    "TopicCallback",
]


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
