"""Typed callback data shared by several handler modules (prefixes short: 64 bytes in all)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageCallback(CallbackData, prefix="lang"):
    code: str


class ConsentCallback(CallbackData, prefix="cons"):
    accept: bool


class SettingsCallback(CallbackData, prefix="set"):
    action: str
