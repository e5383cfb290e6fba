"""The gettext catalogs: compiled from the `.po` files, and read without aiogram for one-shot commands.

Importing aiogram builds every Telegram type (about 3 s and 130 MB): a command that only needs a
few words in the commune's language, like `palabre results`, reads the catalog with the standard
library instead. The bot itself reads the same catalogs through aiogram (bot/i18n.py).
"""

from __future__ import annotations

import gettext
from pathlib import Path

_SOURCE_LOCALES = Path(__file__).resolve().parent.parent / "locales"
# A checkout compiles its own catalogs; an installed package (pip install ., the container image)
# has them compiled at build time under notices/locales (setup.py).
LOCALES_DIR = (
    _SOURCE_LOCALES
    if (_SOURCE_LOCALES / "fr" / "LC_MESSAGES" / "messages.po").is_file()
    else Path(__file__).resolve().parent / "locales"
)
DOMAIN = "messages"


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `messages.po` whose `.mo` is missing or older; returns what was compiled.

    The install and test scripts call this too; doing it at start as well means a catalog edited
    on the server is never served stale.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

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


def translation(locale: str) -> gettext.NullTranslations:
    """The catalog of `locale`; the English source texts when there is none (as aiogram does)."""
    compile_catalogs()
    return gettext.translation(DOMAIN, LOCALES_DIR, languages=[locale], fallback=True)
