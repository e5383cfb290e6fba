"""Every message a person reads exists in every locale, with the same placeholders and markup."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from config.settings import SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:![rsa])?(?::[^{}]*)?\}")
TAG = re.compile(r"</?[a-z-]+")


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with (ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def source_message_ids(tmp_path: Path) -> set[str]:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "__",
            "-k",
            "lazy_gettext",
            "-k",
            "gettext",
            "-k",
            "ngettext:1,2",
            "--omit-header",
            "-o",
            str(pot),
            ".",
        ],
        check=True,
        cwd=ROOT,
    )
    with pot.open("rb") as handle:
        template = read_po(handle)
    return {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}


def strings(message) -> list[str]:  # type: ignore[no-untyped-def]
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalog_has_every_message_of_the_code(locale: str, tmp_path: Path) -> None:
    in_code = source_message_ids(tmp_path)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog(locale) if m.id}
    assert sorted(in_code - ids) == [], "run `python scripts/i18n.py sync` and translate"


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_is_translated_with_the_same_placeholders(locale: str) -> None:
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for translated in strings(message):
            if not translated or "fuzzy" in message.flags:
                problems.append(f"untranslated: {source!r}")
            elif sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                problems.append(f"placeholders differ: {source!r} -> {translated!r}")
            elif sorted(TAG.findall(source)) != sorted(TAG.findall(translated)):
                problems.append(f"markup differs: {source!r} -> {translated!r}")
    assert problems == []


def test_french_uses_typographic_apostrophes_and_spaces() -> None:
    problems = []
    for message in catalog("fr"):
        for translated in strings(message) if message.id else []:
            if re.search(r"\w'\w", translated):
                problems.append(f"straight apostrophe: {translated!r}")
            if re.search(r"\w[!?;»]|«\w", re.sub(r"<[^>]+>|https?://\S+|\{[^}]*\}", "", translated)):
                problems.append(f"missing space before/after French punctuation: {translated!r}")
    assert problems == []


# « consultation(s) », « prévenu(e) », « réparé(es) »: a mairie writes real plurals (ngettext) or rephrases.
PARENTHESISED_FORM = re.compile(r"\w\((?:s|e|es|x)\)", re.IGNORECASE)


@pytest.mark.parametrize("locale", ["fr", "en"])
def test_no_parenthesised_plural_or_gender_forms(locale: str) -> None:
    problems = [
        translated
        for message in catalog(locale)
        for translated in (strings(message) if message.id else [])
        if PARENTHESISED_FORM.search(translated)
    ]
    assert problems == []


def test_the_parenthesised_form_check_can_fail() -> None:
    assert PARENTHESISED_FORM.search("Vous serez prévenu(e) de 2 signalement(s)")
    assert not PARENTHESISED_FORM.search("Votre vote (pas celui des autres) est visible")
