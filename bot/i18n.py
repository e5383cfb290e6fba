"""Locales: compile the gettext catalogs and pick each update's language from the resident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `messages.po` whose `.mo` is missing or older; returns what was compiled.

    The install and test scripts call this too; doing it at start as well means a catalog edited
    on the server is never served stale.
    """
    compiled = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        compiled.append(mo_path)
    return compiled


def build_i18n(default_locale: str) -> I18n:
    compile_catalogs()
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def locale_for(resident_locale: str | None, user: User | None, default_locale: str) -> str:
    """The resident's chosen language; before they choose, Telegram's hint if we speak it."""
    if resident_locale in SUPPORTED_LOCALES:
        return resident_locale  # type: ignore[return-value]
    hint = (user.language_code or "").split("-")[0] if user else ""
    return hint if hint in SUPPORTED_LOCALES else default_locale


class ResidentI18nMiddleware(I18nMiddleware):
    """Sets the locale of each update from the resident loaded by ResidentMiddleware."""

    def __init__(self, i18n: I18n, default_locale: str) -> None:
        super().__init__(i18n=i18n)
        self._default_locale = default_locale

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        resident = data.get("resident")
        return locale_for(
            resident.locale if resident else None, data.get("event_from_user"), self._default_locale
        )
