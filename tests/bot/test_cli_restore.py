"""Issue 13: restoring an older backup does not send again what went out since, unless --resend."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.bot.test_cli import palabre

pytestmark = pytest.mark.filterwarnings("ignore")

INSERT = text(
    "INSERT INTO outbox_message (chat_id, method, payload, kind, status, attempts, not_before, created_at) "
    "VALUES (:chat, 'sendMessage', '{\"text\": \"Réunion\"}', 'notice', :status, 0, '2026-11-01 08:00:00.000000', :created)"
)


def statuses(database: Path) -> dict[int, str]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT chat_id, status FROM outbox_message")).all())
    engine.dispose()
    return rows


def test_restore_holds_what_was_waiting_unless_resend(tmp_path: Path) -> None:
    assert palabre("db", "upgrade", cwd=tmp_path).returncode == 0
    database = tmp_path / "palabre.db"
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(INSERT, {"chat": 1, "status": "sent", "created": "2026-11-01 08:00:00.000000"})
        connection.execute(INSERT, {"chat": 2, "status": "pending", "created": "2026-11-01 08:00:00.000000"})
        connection.execute(INSERT, {"chat": 3, "status": "sending", "created": "2026-11-01 08:00:00.000000"})
    backup = palabre("db", "backup", str(tmp_path / "backup.db"), cwd=tmp_path)
    assert backup.returncode == 0, backup.stderr
    with engine.begin() as connection:  # after the backup: both went out, and a new one is queued
        connection.execute(text("UPDATE outbox_message SET status = 'sent'"))
        connection.execute(INSERT, {"chat": 4, "status": "pending", "created": "2026-11-02 08:00:00.000000"})
    engine.dispose()

    restored = palabre("db", "restore", str(tmp_path / "backup.db"), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "2 messages waiting in the backup are held, not sent" in restored.stdout
    assert statuses(database) == {1: "sent", 2: "held", 3: "held"}
    assert list(tmp_path.glob("palabre.db.before-restore-*"))  # the replaced database is kept

    again = palabre("db", "restore", str(tmp_path / "backup.db"), "--resend", cwd=tmp_path)
    assert again.returncode == 0 and "2 messages waiting in the backup will be sent again." in again.stdout
    assert statuses(database) == {1: "sent", 2: "pending", 3: "pending"}


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("pas une base")
    result = palabre("db", "restore", str(tmp_path / "notes.txt"), cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip()
        == f"{tmp_path / 'notes.txt'} is not a Palabre backup (a SQLite database made by `palabre db backup`)."
    )
