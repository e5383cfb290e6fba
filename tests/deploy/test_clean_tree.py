"""The documented commands leave a clone's `git status` clean: what they write is ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.harness import ROOT


def test_documented_commands_leave_git_status_clean(tmp_path: Path) -> None:
    clone = tmp_path / "palabre"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    (clone / ".env").write_text((clone / ".env.example").read_text(encoding="utf-8") + "BOT_TOKEN=123:abc\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "MEDIA_"))}
    env["PYTHONPATH"] = str(clone)

    def palabre(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", *args], cwd=clone, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, (args, done.stderr[-2000:])

    palabre("db", "upgrade")
    palabre("demo")
    # As docs/guide-elus.md writes them: the reports land where --output says, in the clone here.
    palabre("stats", "--from", "2026-09-01", "--to", "2026-12-01", "--format", "pdf", "--output", "conseil-decembre.pdf")
    palabre("stats", "--format", "png", "--output", "conseil.png")
    palabre("db", "backup", str(tmp_path / "backup.db"))
    (clone / "media").mkdir(exist_ok=True)
    (clone / "media" / "photo.jpg").write_bytes(b"\xff\xd8")
    assert (clone / "palabre.db").exists() and (clone / "conseil-decembre.pdf").exists() and (clone / "conseil.png").exists()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=clone, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
