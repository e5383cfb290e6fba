"""Locales in the bot: aiogram's i18n over the catalogs (notices/catalogs.py), each update's language from the resident."""

from __future__ import annotations

from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from config.settings import SUPPORTED_LOCALES

# Re-exported: the bot, the scripts and the tests compile the catalogs from here.
from notices.catalogs import DOMAIN, LOCALES_DIR, compile_catalogs

__all__ = ["DOMAIN", "LOCALES_DIR", "ResidentI18nMiddleware", "build_i18n", "compile_catalogs", "locale_for"]


def build_i18n(default_locale: str) -> I18n:
    compile_catalogs()
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def locale_for(resident_locale: str | None, user: User | None, default_locale: str) -> str:
    """The resident's chosen language; before they choose, Telegram's hint if we speak it."""
    if resident_locale is not None and resident_locale in SUPPORTED_LOCALES:
        return resident_locale
    hint = (user.language_code or "").split("-")[0] if user else ""
    return hint if hint in SUPPORTED_LOCALES else default_locale


class ResidentI18nMiddleware(I18nMiddleware):
    """Sets the locale of each update from the resident loaded by ResidentMiddleware."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        super().__init__(i18n=i18n)
        self._default_locale = default_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        resident = data.get("resident")
        return locale_for(resident.locale if resident else None, data.get("event_from_user"), self._default_locale)
