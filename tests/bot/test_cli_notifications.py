"""`palabre topics import`, `neighbourhoods import`, `broadcast` and `broadcast status`, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.filterwarnings("ignore")

TOPICS = "topics:\n  - code: urbanisme\n    name: {fr: Urbanisme, en: Urban planning}\n"
NEIGHBOURHOODS = "neighbourhoods:\n  - {code: centre, name: Centre-ville}\n"


def palabre(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL", "ADMIN_IDS"}}
    environment["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


def query(tmp_path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with create_engine(f"sqlite:///{tmp_path / 'p.db'}").connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql)).all()]


def add_residents(tmp_path: Path, count: int, **columns: object) -> None:
    extra = "".join(f", {name}" for name in columns)
    values = "".join(f", {value!r}" if not isinstance(value, bool) else f", {int(value)}" for value in columns.values())
    from participation.privacy import NOTICE_VERSION

    with create_engine(f"sqlite:///{tmp_path / 'p.db'}").begin() as connection:
        for n in range(count):
            connection.execute(
                text(
                    "INSERT INTO resident (telegram_id, pseudonym, locale, consent_at, consent_version, notifications_enabled,"
                    f" created_at{extra}) VALUES (:id, :p, 'fr', '2026-11-01 10:00:00', :v, 1, '2026-11-01 10:00:00'{values})"
                ),
                {"id": 7000 + n + 100 * len(columns), "p": f"p{n}-{len(columns)}", "v": NOTICE_VERSION},
            )


def test_topics_and_neighbourhoods_import_and_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "topics.yaml").write_text(TOPICS, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text("topics:\n  - code: Bad Code\n  - {code: ok}\n", encoding="utf-8")
    (tmp_path / "quartiers.yaml").write_text(NEIGHBOURHOODS, encoding="utf-8")
    ok = palabre(tmp_path, "topics", "import", "topics.yaml")
    assert (ok.returncode, ok.stdout.strip()) == (0, "Topics imported: 1 new, 0 updated.")
    bad = palabre(tmp_path, "topics", "import", "bad.yaml")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.splitlines() == [
        "bad.yaml: topics[0].code: expected a code of 1 to 32 lowercase letters, digits, - or _",
        "bad.yaml: topics[0].name: a text or a mapping of language to text is needed",
        "bad.yaml: topics[1].name: a text or a mapping of language to text is needed",
        "Nothing was imported (3 problem(s)).",
    ]
    assert query(tmp_path, "SELECT code FROM topic") == [("urbanisme",)]
    missing = palabre(tmp_path, "neighbourhoods", "import", "nope.yaml")
    assert missing.returncode == 2 and missing.stderr.startswith("Cannot read nope.yaml")
    assert (
        palabre(tmp_path, "neighbourhoods", "import", "quartiers.yaml").stdout.strip()
        == "Neighbourhoods imported: 1 new, 0 updated."
    )


def test_broadcast_counts_asks_to_confirm_and_reports_figures(tmp_path: Path) -> None:
    (tmp_path / "quartiers.yaml").write_text(NEIGHBOURHOODS, encoding="utf-8")
    assert palabre(tmp_path, "neighbourhoods", "import", "quartiers.yaml").returncode == 0
    add_residents(tmp_path, 3)
    add_residents(tmp_path, 2, neighbourhood="centre")
    declined = palabre(tmp_path, "broadcast", "--audience", "neighbourhood:centre", "--text", "Travaux rue Pasteur", stdin="n\n")
    assert declined.returncode == 0
    assert "This message will be sent to 2 residents." in declined.stdout
    assert "Cancelled: nothing was sent." in declined.stdout
    assert query(tmp_path, "SELECT count(*) FROM broadcast") == [(0,)]

    sent = palabre(tmp_path, "broadcast", "--audience", "all", "--text", "Fête de la commune samedi", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert "This message will be sent to 5 residents." in sent.stdout
    ((broadcast_id, status, count),) = query(tmp_path, "SELECT id, status, recipient_count FROM broadcast")
    assert (status, count) == ("confirmed", 5)
    assert f"Broadcast {broadcast_id} confirmed for 5 residents" in sent.stdout
    assert query(tmp_path, "SELECT action, source FROM audit_entry") == [("broadcast.confirm", "cli")]

    status_result = palabre(tmp_path, "broadcast", "status", str(broadcast_id))
    assert status_result.stdout.strip() == (
        f"Broadcast {broadcast_id} (confirmed, 5 recipients): sent 0, pending 5, failed 0, unreachable 0"
    )
    assert palabre(tmp_path, "broadcast", "status", "999").stderr.strip() == "There is no broadcast 999."


def test_broadcast_to_an_age_bracket_counts_only_that_bracket(tmp_path: Path) -> None:
    assert palabre(tmp_path, "db", "upgrade").returncode == 0
    add_residents(tmp_path, 3)
    add_residents(tmp_path, 2, age_bracket="75-plus")
    sent = palabre(tmp_path, "broadcast", "--audience", "age:75-plus", "--text", "Repas des aînés dimanche", "--yes")
    assert sent.returncode == 0, sent.stderr
    assert "This message will be sent to 2 residents." in sent.stdout
    assert query(tmp_path, "SELECT audience_kind, audience_value, recipient_count FROM broadcast") == [("age", "75-plus", 2)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--audience", "everyone", "--text", "x"], "Unknown audience 'everyone'"),
        (["--audience", "topic:velo", "--text", "x"], "There is no topic 'velo'."),
        (
            ["--audience", "age:12-14", "--text", "x"],
            "There is no age bracket '12-14': use one of 15-29, 30-44, 45-59, 60-74, 75-plus.",
        ),
        (["--audience", "consultation:place-du-marche", "--text", "x"], "There is no consultation 'place-du-marche'."),
        (["--audience", "all", "--text", "x" * 3501], "The text must be 1 to 3500 characters long."),
        (["--audience", "all", "--text", "x", "--photo", "missing.jpg"], "missing.jpg is not a photo file"),
        (["--audience", "all"], "Give --audience and --text"),
    ],
)
def test_broadcast_refuses_bad_input_in_one_sentence(tmp_path: Path, args: list[str], message: str) -> None:
    result = palabre(tmp_path, "broadcast", *args, "--yes")
    assert result.returncode != 0
    assert result.stderr.startswith(message) and result.stderr.strip().count("\n") == 0, result.stderr
