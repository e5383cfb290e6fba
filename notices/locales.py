"""The one rule for the language a person is spoken to in, when the bot writes to them unprompted."""

from __future__ import annotations

from aiogram.utils.i18n import I18n

from storage.models import Resident


def recipient_locale(who: Resident | str | None, i18n: I18n) -> str:
    """The recipient's own language when the bot has a catalog for it, else the commune's default.

    `who` is a resident, their stored locale, or None (nobody known: the default).
    """
    locale = who.locale if isinstance(who, Resident) else who
    return locale if locale is not None and locale in i18n.available_locales else i18n.default_locale
