"""Typed callback data shared by several handler modules (prefixes short: 64 bytes in all).

They live with their keyboards in notices/ and are re-exported here for the modules and tests that
still import them from this place.
"""

from __future__ import annotations

from notices.broadcasts import AudienceCallback, BroadcastCallback
from notices.meetings import MeetingConfirmCallback
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
