"""Texts given in several languages (names, titles, prompts): the one a reader gets, by one fallback order."""

from __future__ import annotations

from collections.abc import Mapping

# The key of a text written once for every language: "*" in categories, "" in topics and neighbourhoods.
EVERY_LANGUAGE = ("*", "")
# The commune's working language: its texts exist in French even when its default language is another.
FRENCH = "fr"


def in_language(texts: Mapping[str, str] | None, locale: str | None, default_locale: str = FRENCH) -> str:
    """The reader's language, else the text for every language, else the commune's default, else French, else any."""
    if not texts:
        return ""
    for key in (locale, *EVERY_LANGUAGE, default_locale, FRENCH):
        if key is not None and texts.get(key):
            return texts[key]
    return next((text for text in texts.values() if text), "")
