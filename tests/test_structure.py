"""Structural rules of ARCHITECTURE.md that a reader cannot check at a glance."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["participation", "storage", "config"])
def test_domain_and_storage_never_import_aiogram(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no module found under {package}/"
    offenders = {
        str(path.relative_to(ROOT)): sorted(name for name in imported_modules(path) if name.split(".")[0] == "aiogram")
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# What notices may take from aiogram: texts, keyboard types and the callback data their buttons carry.
NOTICES_MAY_IMPORT = {"aiogram.types", "aiogram.utils.i18n", "aiogram.utils.keyboard", "aiogram.filters.callback_data"}


def test_notices_compose_but_never_dispatch() -> None:
    """import-linter cannot forbid part of an external package, so this rule is checked here."""
    files = sorted((ROOT / "notices").rglob("*.py"))
    assert files, "no module found under notices/"
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] == "aiogram" and name not in NOTICES_MAY_IMPORT
        )
        for path in files
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_every_package_module_says_what_lives_there() -> None:
    missing = []
    for package in ["config", "notices", "bot", "handlers", "participation", "storage", "scheduler", "web"]:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            if ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) is None:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_importing_the_application_does_no_work() -> None:
    """Nothing runs at import time: importing the modules must not read settings or open files."""
    import subprocess
    import sys

    code = (
        "import os; os.environ.pop('BOT_TOKEN', None); os.environ['DATABASE_URL']='not a url';"
        "import bot.app, bot.cli, handlers, web.app, scheduler.core, participation.outbox"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr


def test_every_callback_data_prefix_is_unique() -> None:
    """Two CallbackData classes with one prefix would route a tap to the wrong handler."""
    import importlib
    import pkgutil

    from aiogram.filters.callback_data import CallbackData

    import handlers

    for module in pkgutil.walk_packages(handlers.__path__, "handlers."):
        importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    owners: dict[str, list[str]] = {}
    for cls in subclasses(CallbackData):
        if cls.__module__.startswith(("handlers", "bot", "notices", "web")):
            owners.setdefault(cls.__prefix__, []).append(f"{cls.__module__}.{cls.__qualname__}")
    assert owners, "no CallbackData class found under handlers/"
    assert {prefix: names for prefix, names in owners.items() if len(names) > 1} == {}
