#!/usr/bin/env python3
"""Keep the gettext catalogs in step with the code (a developer tool, not used at run time).

    python scripts/i18n.py sync      extract the messages, update locales/*/messages.po, and fill the
                                      English catalog (English is the source language: msgstr = msgid)
    python scripts/i18n.py missing   list the French messages still to translate

Then translate the new entries of locales/fr/LC_MESSAGES/messages.po by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
KEYWORDS = ["-k", "_", "-k", "__", "-k", "lazy_gettext", "-k", "gettext", "-k", "ngettext:1,2"]


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def catalog_path(locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / "messages.po"


def sync() -> None:
    pybabel("extract", "-F", "babel.cfg", *KEYWORDS, "--no-location", "--sort-output", "--omit-header", "-o", str(POT), ".")
    for locale in ("fr", "en"):
        pybabel(
            "update",
            "-i",
            str(POT),
            "-d",
            str(LOCALES),
            "-l",
            locale,
            "-D",
            "messages",
            "-w",
            "100",
            "--ignore-obsolete",
            "--no-fuzzy-matching",
        )
    path = catalog_path("en")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not any(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, no_location=True, sort_output=True, width=100)


def missing() -> int:
    with catalog_path("fr").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    todo = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or "fuzzy" in m.flags)
    ]
    for message_id in todo:
        print(repr(message_id))
    return 1 if todo else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "sync"
    if command == "sync":
        sync()
    elif command == "missing":
        sys.exit(missing())
    else:
        sys.exit(__doc__)
