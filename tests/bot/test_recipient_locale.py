"""The one rule for the language a resident is written to in, unprompted."""

from __future__ import annotations

import pytest

from bot.i18n import build_i18n
from notices.locales import recipient_locale
from storage.models import Resident


@pytest.mark.parametrize("default", ["fr", "en"])
def test_a_resident_is_written_to_in_their_language_when_the_bot_speaks_it(default: str) -> None:
    i18n = build_i18n(default)
    assert recipient_locale(Resident(telegram_id=1, locale="en"), i18n) == "en"
    assert recipient_locale(Resident(telegram_id=1, locale="fr"), i18n) == "fr"
    assert recipient_locale("en", i18n) == "en"


@pytest.mark.parametrize("default", ["fr", "en"])
def test_an_unknown_or_missing_language_falls_back_to_the_communes(default: str) -> None:
    i18n = build_i18n(default)
    assert recipient_locale(Resident(telegram_id=1, locale=None), i18n) == default
    assert recipient_locale(Resident(telegram_id=1, locale="de"), i18n) == default
    assert recipient_locale(None, i18n) == default
    assert recipient_locale("xx", i18n) == default
