"""A screen: the text and the inline keyboard of one message, as notices compose them for handlers to send."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _


@dataclass(frozen=True)
class Screen:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None


def stale_button() -> str:
    """The answer to a button that no longer means anything (an old message, forged data)."""
    return _("This button is no longer valid.")
