"""Structural rules of ARCHITECTURE.md that a reader cannot check at a glance."""

from __future__ import annotations

import ast
import subprocess
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
        "import bot.app, bot.cli, handlers, web.app, scheduler.core, participation.outbox, notices.reports, config.settings"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr


def test_the_command_line_starts_without_aiogram() -> None:
    """Importing aiogram costs seconds and 130 MB: one-shot commands (results, exports) must not pay it."""
    import sys

    code = "import sys, bot.cli; print(sorted(name for name in sys.modules if name.split('.')[0] == 'aiogram')[:3])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


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


PACKAGES = ["config", "storage", "participation", "notices", "handlers", "web", "scheduler", "bot"]


def run_tool(name: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    tool = Path(sys.executable).parent / name
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    arguments = {"lint-imports": [], "ruff": ["check", "."], "ruff-format": ["format", "--check", "."], "mypy": []}[name]
    tool = tool.with_name(name.split("-")[0] if name.startswith("ruff") else name)
    return subprocess.run([str(tool), *arguments], capture_output=True, text=True, cwd=cwd, env=env)


def test_ci_checks_the_layers_and_the_lint_before_the_tests() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.index(".venv/bin/lint-imports") < ci.index("scripts/test")
    assert ci.index(".venv/bin/ruff check .") < ci.index("scripts/test")
    assert ci.index(".venv/bin/ruff format --check .") < ci.index("scripts/test")
    assert ci.index(".venv/bin/mypy") < ci.index("scripts/test")
    for tool in ("lint-imports", "ruff", "ruff-format", "mypy"):
        result = run_tool(tool, ROOT)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("where", "line", "contract"),
    [
        ("scheduler/broken.py", "import handlers.reports\n", "The scheduler and the web side never import handlers"),
        ("participation/broken.py", "import notices.reports\n", "Each layer imports only the layers below it"),
        ("storage/broken.py", "from aiogram import Bot\n", "The domain and the store never import aiogram"),
        ("bot/cli_broken.py", "", "The command line and the feeders of the outbox never import handlers themselves"),
    ],
)
def test_a_broken_layer_fails_the_import_contracts(tmp_path: Path, where: str, line: str, contract: str) -> None:
    import shutil

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    if where == "bot/cli_broken.py":  # the command line importing a handler itself
        cli = tmp_path / "bot" / "cli" / "roles.py"
        cli.write_text(cli.read_text(encoding="utf-8") + "\nfrom handlers.reports import router as _router\n", encoding="utf-8")
    else:
        (tmp_path / where).write_text('"""A module that breaks a layer."""\n\n' + line, encoding="utf-8")
    result = run_tool("lint-imports", tmp_path)
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout, result.stdout


def test_a_type_error_fails_the_type_check(tmp_path: Path) -> None:
    import shutil

    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static", "templates"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "participation" / "broken_types.py").write_text(
        '"""A module whose types do not add up."""\n\n\ndef count() -> int:\n    return "three"\n', encoding="utf-8"
    )
    result = run_tool("mypy", tmp_path)
    assert result.returncode != 0
    assert "participation/broken_types.py:5: error" in result.stdout, result.stdout


GETTEXT_NAMES = {"_", "__", "gettext", "ngettext", "lazy_gettext", "lazy_ngettext", "pgettext"}


def gettext_calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = (
                node.func.id
                if isinstance(node.func, ast.Name)
                else node.func.attr
                if isinstance(node.func, ast.Attribute)
                else ""
            )
            if name in GETTEXT_NAMES:
                lines.append(node.lineno)
    return lines


def test_handlers_compose_no_text() -> None:
    """Handlers route, call the domain and answer: what a person reads is composed in notices/."""
    files = sorted((ROOT / "handlers").rglob("*.py"))
    assert files, "no module found under handlers/"
    offenders = {str(path.relative_to(ROOT)): gettext_calls(path) for path in files}
    assert {path: lines for path, lines in offenders.items() if lines} == {}


def test_the_check_for_text_in_handlers_finds_a_gettext_call(tmp_path: Path) -> None:
    module = tmp_path / "handler.py"
    module.write_text(
        'from aiogram.utils.i18n import gettext as _\n\n\ndef reply() -> str:\n    return _("Hello")\n', encoding="utf-8"
    )
    assert gettext_calls(module) == [5]


PRODUCTION_PACKAGES = [ROOT / package for package in PACKAGES]


def test_every_module_is_type_checked() -> None:
    """No module may leave mypy's check (`ignore_errors`): CI's type check covers the whole product."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "ignore_errors" not in pyproject
    assert "disable_error_code" not in pyproject


def test_each_type_ignore_names_its_error_and_its_reason() -> None:
    """An ignore is allowed only where a library's types force it, and says which error and why."""
    import re

    bare = []
    for package in PRODUCTION_PACKAGES:
        for path in sorted(package.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if "type: ignore" in line and not re.search(r"type: ignore\[[a-z-]+(, ?[a-z-]+)*\]  # \S", line):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []


@pytest.mark.parametrize(
    ("tool", "source", "expected"),
    [
        ("ruff", "import os\n", "F401"),  # an unused import
        ("ruff-format", "x = {  'a':1 }\n", "would be reformatted"),
    ],
)
def test_a_lint_or_format_fault_fails_ruff(tmp_path: Path, tool: str, source: str, expected: str) -> None:
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "participation").mkdir()
    (tmp_path / "participation" / "faulty.py").write_text('"""A module with a fault."""\n\n' + source, encoding="utf-8")
    result = run_tool(tool, tmp_path)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr
