"""The `palabre` command line, run as an operator would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.filterwarnings("ignore")


def palabre(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "ADMIN_IDS"}}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def test_run_without_token_says_what_to_set(tmp_path: Path) -> None:
    result = palabre("run", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one sentence, no traceback
    assert "BOT_TOKEN" in result.stderr and "@BotFather" in result.stderr
    assert not (tmp_path / "palabre.db").exists()


def test_run_with_a_malformed_token_is_one_sentence(tmp_path: Path) -> None:
    result = palabre("run", cwd=tmp_path, env={"BOT_TOKEN": "not-a-token"})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "BOT_TOKEN is not a valid token" in result.stderr


def test_token_from_dotenv_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_TOKEN=not-a-token\n")
    result = palabre("run", cwd=tmp_path)
    assert "is not a valid token" in result.stderr  # it got past "not set": .env was read


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = palabre("db", "upgrade", cwd=tmp_path, env={"BROADCAST_RATE": "-3"})
    assert result.returncode == 2
    assert result.stderr.strip() == "Invalid setting BROADCAST_RATE: must be a positive number of messages per second."


def test_db_upgrade_and_role_grant(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    assert palabre("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": url}).returncode == 0
    first = palabre("role", "grant", "4242", "official", cwd=tmp_path, env={"DATABASE_URL": url})
    again = palabre("role", "grant", "4242", "official", cwd=tmp_path, env={"DATABASE_URL": url})
    wrong = palabre("role", "grant", "4242", "admin", cwd=tmp_path, env={"DATABASE_URL": url})
    assert (first.returncode, first.stdout.strip()) == (0, "4242 now has the role official.")
    assert again.stdout.strip() == "4242 already had the role official."
    assert wrong.returncode == 2 and "choose agent or official" in wrong.stderr
    with create_engine(f"sqlite:///{tmp_path / 'p.db'}").connect() as connection:
        rows = connection.execute(text("SELECT telegram_id, role FROM role_grant")).all()
        audit = connection.execute(text("SELECT source, action, subject FROM audit_entry")).all()
    assert rows == [(4242, "official")]
    assert audit == [("cli", "role.grant", "4242")]


def test_roles_are_listed_and_revoked_with_an_audit_trail(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    env = {"DATABASE_URL": url, "ADMIN_IDS": "1"}
    palabre("role", "grant", "4242", "official", cwd=tmp_path, env=env)
    palabre("role", "grant", "77", "agent", cwd=tmp_path, env=env)
    listed = palabre("role", "list", cwd=tmp_path, env=env).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["1", "admin"], ["77", "agent"], ["4242", "official"]]
    revoked = palabre("role", "revoke", "4242", "official", cwd=tmp_path, env=env)
    again = palabre("role", "revoke", "4242", "official", cwd=tmp_path, env=env)
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "4242 no longer has the role official.")
    assert again.stdout.strip() == "4242 did not have the role official."
    assert [line.split("\t")[:2] for line in palabre("role", "list", cwd=tmp_path, env=env).stdout.splitlines()] == [
        ["1", "admin"],
        ["77", "agent"],
    ]
    with create_engine(f"sqlite:///{tmp_path / 'p.db'}").connect() as connection:
        audit = connection.execute(text("SELECT source, action, subject FROM audit_entry WHERE action = 'role.revoke'")).all()
    assert audit == [("cli", "role.revoke", "4242")]


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (["--help"], ["run", "--help"], ["db", "upgrade", "--help"], ["role", "grant", "--help"]):
        result = palabre(*args, cwd=tmp_path)
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_db_backup_copies_a_consistent_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    palabre("role", "grant", "77", "agent", cwd=tmp_path, env={"DATABASE_URL": url})
    result = palabre("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    with create_engine(f"sqlite:///{tmp_path / 'copy.db'}").connect() as connection:
        assert connection.execute(text("SELECT telegram_id FROM role_grant")).all() == [(77,)]
    again = palabre("db", "backup", str(tmp_path / "copy.db"), cwd=tmp_path, env={"DATABASE_URL": url})
    assert again.returncode == 2 and "already exists" in again.stderr


def test_audit_lists_who_did_what(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", "TIMEZONE": "Europe/Paris"}
    palabre("role", "grant", "77", "agent", cwd=tmp_path, env=env)
    palabre("role", "grant", "78", "official", cwd=tmp_path, env=env)
    lines = palabre("audit", cwd=tmp_path, env=env).stdout.splitlines()
    assert len(lines) == 2
    assert "operator (command line)" in lines[0] and "role.grant" in lines[0] and '"role": "agent"' in lines[0]
    assert palabre("audit", "--since", "2999-01-01", cwd=tmp_path, env=env).stdout == ""
    wrong = palabre("audit", "--since", "yesterday", cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "is not a date" in wrong.stderr


def test_privacy_purge_dry_run_changes_nothing(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    dry = palabre("privacy", "purge", "--dry-run", cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "Would purge 0 free-text answers." in dry.stdout
    assert palabre("audit", cwd=tmp_path, env=env).stdout == ""  # a dry run leaves no trace
    done = palabre("privacy", "purge", cwd=tmp_path, env=env)
    assert "Purged 0 free-text answers." in done.stdout
    assert "privacy.purge" in palabre("audit", cwd=tmp_path, env=env).stdout


def test_an_export_to_an_unwritable_place_is_one_sentence(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"}
    result = palabre(
        "reports", "export", "--format", "csv", "--output", str(tmp_path / "missing" / "r.csv"), cwd=tmp_path, env=env
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"Could not write {tmp_path / 'missing' / 'r.csv'}: No such file or directory."
