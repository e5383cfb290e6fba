"""`palabre publish SLUG --decision TEXT [--yes]` as an official runs it on the server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from participation.privacy import NOTICE_VERSION
from tests.bot.test_cli_consultations import DATA, palabre, rows  # noqa: F401 - palabre is the fixture


def add_participant(database: Path, telegram_id: int, status: str = "submitted") -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO resident (telegram_id, pseudonym, locale, consent_at, consent_version, notifications_enabled, created_at)"
            " VALUES (?, ?, 'fr', '2026-11-01 10:00:00', ?, 1, '2026-11-01 10:00:00')",
            (telegram_id, f"p{telegram_id}", NOTICE_VERSION),
        )
        connection.execute(
            "INSERT INTO consultation_response (consultation_id, resident_id, status, cursor, step, draft, started_at, updated_at)"
            " VALUES (1, (SELECT id FROM resident WHERE telegram_id = ?), ?, NULL, 1, '[]', '2026-11-01', '2026-11-01')",
            (telegram_id, status),
        )


def close_consultation(database: Path) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE consultation SET status = 'closed', closes_at = '2026-01-02 00:00:00.000000'")


def test_publish_refuses_an_open_consultation_then_publishes_once_after_confirming(palabre) -> None:  # type: ignore[no-untyped-def]  # noqa: F811 - the fixture
    assert palabre("consultation", "import", str(DATA / "consultation_marche.yaml")).exit_code == 0
    add_participant(palabre.database, 11)
    add_participant(palabre.database, 12)
    add_participant(palabre.database, 13, status="in_progress")

    refused = palabre("publish", "place-du-marche", "--decision", "La place devient piétonne.", "--yes")
    assert refused.exit_code == 1
    assert refused.output.strip() == "Consultation place-du-marche is not closed yet: publish its outcome once it closes."
    unknown = palabre("publish", "nulle-part", "--decision", "x", "--yes")
    assert unknown.exit_code == 1 and "No consultation with the slug 'nulle-part'" in unknown.output
    empty = palabre("publish", "place-du-marche", "--decision", "  ")
    assert empty.exit_code == 2 and empty.output.strip() == "The decision is empty."

    close_consultation(palabre.database)
    declined = CliRunner().invoke(main, ["publish", "place-du-marche", "--decision", "La place devient piétonne."], input="n\n")
    assert declined.exit_code == 0 and declined.output.strip().endswith("Cancelled: nothing was published.")
    assert rows(palabre.database, "SELECT count(*) FROM publication") == [(0,)]
    wrong = palabre("publish", "place-du-marche", "--decision", "x", "--translation", "de=Der Platz", "--yes")
    assert wrong.exit_code == 2 and wrong.output.strip().startswith(
        "--translation 'de=Der Platz': give another language residents use"
    )
    published = palabre(
        "publish",
        "place-du-marche",
        "--decision",
        "La place devient piétonne le samedi.",
        "--translation",
        "en=The square becomes car-free on Saturdays.",
        "--yes",
    )
    assert published.exit_code == 0
    assert published.output.splitlines() == [
        "The results of place-du-marche and this decision will be sent to 2 residents, each in their language.",
        "Outcome of place-du-marche published for 2 residents; the running bot sends it.",
    ]
    again = palabre("publish", "place-du-marche", "--decision", "Autre chose", "--yes")
    assert again.exit_code == 1 and again.output.strip().startswith("The outcome of place-du-marche was already published")
    assert rows(
        palabre.database, "SELECT decision, translations, author_telegram_id, source, recipient_count FROM publication"
    ) == [("La place devient piétonne le samedi.", '{"en": "The square becomes car-free on Saturdays."}', None, "cli", 2)]
    assert rows(palabre.database, "SELECT action, subject FROM audit_entry WHERE action = 'consultation.publish_results'") == [
        ("consultation.publish_results", "place-du-marche")
    ]
