"""A screen: the text and the inline keyboard of one message, as notices compose them for handlers to send."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup


@dataclass(frozen=True)
class Screen:
    text: str
    reply_markup: InlineKeyboardMarkup | None = None
