"""The text in a language: one fallback order for names, titles and prompts, wherever they are shown."""

from __future__ import annotations

from participation.languages import in_language

TEXTS = {"en": "Road works", "*": "Travaux", "fr": "Travaux de voirie", "de": "Straßenbau"}


def test_the_readers_language_comes_first() -> None:
    assert in_language(TEXTS, "en", "fr") == "Road works"


def test_then_the_text_written_for_every_language() -> None:
    assert in_language(TEXTS, "es", "fr") == "Travaux"
    # Topics and neighbourhoods store it under "" rather than "*".
    assert in_language({"": "Centre-bourg", "fr": "Le centre-bourg"}, "en", "fr") == "Centre-bourg"


def test_then_the_communes_default_language() -> None:
    assert in_language({"fr": "Fête du village", "de": "Dorffest"}, "en", "de") == "Dorffest"


def test_then_french_when_the_default_language_is_missing_too() -> None:
    assert in_language({"de": "Dorffest", "fr": "Fête du village"}, "en", "br") == "Fête du village"


def test_then_the_first_text_there_is() -> None:
    assert in_language({"de": "Dorffest", "it": "Festa"}, "en", "br") == "Dorffest"


def test_an_empty_text_counts_as_missing() -> None:
    assert in_language({"en": "", "fr": "Marché"}, "en", "fr") == "Marché"
    assert in_language({"en": "", "de": "Markt"}, "en", "fr") == "Markt"


def test_nothing_to_show_gives_an_empty_text() -> None:
    assert in_language(None, "fr", "fr") == ""
    assert in_language({}, "fr", "fr") == ""
    assert in_language({"fr": ""}, "fr", "fr") == ""
    assert in_language({"fr": "Marché"}, None, "fr") == "Marché"
