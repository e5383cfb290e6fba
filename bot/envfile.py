"""Reading and writing one setting of the operator's `.env` file, keeping every other line as it is."""

from __future__ import annotations

import os
from pathlib import Path


def read_value(path: Path, name: str) -> str | None:
    """The value of `name` in the file (the last line that sets it), or None when it is not there."""
    if not path.is_file():
        return None
    value = None
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, rest = line.partition("=")
        if sep and key.strip() == name:
            value = rest.strip().strip("'\"")
    return value


def write_value(path: Path, name: str, value: str) -> None:
    """Set `name` in the file: its line is replaced, or one is added; a new file is readable by its owner only."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    done = False
    for index, line in enumerate(lines):
        key, sep, _ = line.partition("=")
        if sep and key.strip() == name:
            lines[index] = f"{name}={value}"
            done = True
    if not done:
        lines.append(f"{name}={value}")
    # Written beside and then renamed: a crash never leaves a truncated .env (and its key) behind.
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o600)
    temporary.replace(path)
