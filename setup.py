"""Build hook: the wheel ships the translation catalogs compiled, since `.mo` files are not kept in git."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithCatalogs(build_py):
    """Compiles locales/*/LC_MESSAGES/messages.po into notices/locales of the built package (beside notices/catalogs.py, which reads them)."""

    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po_path in sorted((ROOT / "locales").glob("*/LC_MESSAGES/messages.po")):
            locale = po_path.parent.parent.name
            target = Path(self.build_lib) / "notices" / "locales" / locale / "LC_MESSAGES" / "messages.mo"
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalog = read_po(po_file, locale=locale)
            with target.open("wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogs})
