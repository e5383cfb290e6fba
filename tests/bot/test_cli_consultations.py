"""`palabre consultation import|list`, `results`, `qr` and `demo` as an official runs them on the server."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from storage.crypto import decrypt

DATA = Path(__file__).resolve().parent.parent / "data"
MALFORMED = [
    "consultation_broken_choices.yaml",
    "consultation_broken_types.yaml",
    "consultation_broken_when.yaml",
    "consultation_broken_yaml.yaml",
]


@pytest.fixture
def palabre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    database = tmp_path / "palabre.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("DEFAULT_LOCALE", "fr")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.database = database  # type: ignore[attr-defined]
    return run


def rows(database: Path, query: str) -> list[tuple]:  # type: ignore[type-arg]
    with sqlite3.connect(database) as connection:
        return connection.execute(query).fetchall()


@pytest.mark.parametrize("name", MALFORMED)
def test_a_malformed_file_lists_its_problems_and_imports_nothing(palabre, name: str) -> None:  # type: ignore[no-untyped-def]
    assert palabre("consultation", "import", str(DATA / "consultation_marche.yaml")).exit_code == 0
    before = rows(palabre.database, "SELECT slug, title, questions FROM consultation") + rows(
        palabre.database, "SELECT action FROM audit_entry"
    )
    result = palabre("consultation", "import", str(DATA / name))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].endswith("problem(s): nothing was imported.")
    assert len(lines) >= 2 and all(line.startswith(f"{DATA / name}: ") for line in lines[:-1])
    after = rows(palabre.database, "SELECT slug, title, questions FROM consultation") + rows(
        palabre.database, "SELECT action FROM audit_entry"
    )
    assert after == before


def test_the_same_slug_updates_until_answered_then_is_refused(palabre) -> None:  # type: ignore[no-untyped-def]
    path = str(DATA / "consultation_marche.yaml")
    assert "place-du-marche created (5 questions)" in palabre("consultation", "import", path).output
    assert "place-du-marche updated (5 questions)" in palabre("consultation", "import", path).output
    with sqlite3.connect(palabre.database) as connection:
        connection.execute(
            "INSERT INTO resident (pseudonym, notifications_enabled, created_at, telegram_id) VALUES ('abc', 1, '2026-01-01', 5)"
        )
        connection.execute(
            "INSERT INTO consultation_response (consultation_id, resident_id, status, cursor, step, draft, started_at, updated_at) "
            "VALUES (1, 1, 'in_progress', 1, 1, '[]', '2026-01-01', '2026-01-01')"
        )
    refused = palabre("consultation", "import", path)
    assert refused.exit_code == 1
    assert refused.output.strip() == (
        "Consultation place-du-marche already has 1 response(s): it cannot be replaced any more "
        "(import it under a new slug instead)."
    )
    listing = palabre("consultation", "list").output.splitlines()
    assert listing[1].split()[:2] == ["place-du-marche", "open"] and "Réaménagement de la place du marché" in listing[1]
    assert listing[1].split()[6:8] == ["1", "0"]  # started, finished


def test_results_exports_and_poster(palabre, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    palabre("consultation", "import", str(DATA / "consultation_marche.yaml"))
    text = palabre("results", "place-du-marche").output
    assert "Participation: 0 started, 0 finished." in text and "   Oui: 0 (0 %)" in text
    csv_path, png_base = tmp_path / "r.csv", tmp_path / "r.png"
    palabre("results", "place-du-marche", "--format", "csv", "--output", str(csv_path))
    assert next(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))[:4] == [
        "resident",
        "neighbourhood",
        "submitted_at",
        "frequence",
    ]
    palabre("results", "place-du-marche", "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"))
    assert (tmp_path / "r.xlsx").read_bytes().startswith(b"PK")
    palabre("results", "place-du-marche", "--format", "png", "--output", str(png_base))
    assert sorted(p.name for p in tmp_path.glob("r-*.png")) == [
        "r-frequence.png",
        "r-pietonne.png",
        "r-priorites.png",
        "r-satisfaction.png",
    ]
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml"), (".pdf", b"%PDF")):
        poster = tmp_path / f"affiche{suffix}"
        out = palabre("qr", "place-du-marche", "--output", str(poster), "--bot", "palabre_bot").output
        assert "https://t.me/palabre_bot?start=c_place-du-marche" in out and poster.read_bytes().startswith(magic)
    unknown = palabre("results", "nulle-part")
    assert (
        unknown.exit_code == 1
        and unknown.output.strip() == "No consultation with the slug 'nulle-part': see `palabre consultation list`."
    )
    assert palabre("qr", "place-du-marche", "--output", str(tmp_path / "affiche.gif"), "--bot", "b").exit_code == 2


def test_the_poster_says_who_asks_until_when_and_how_to_answer_without_telegram(
    palabre, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COMMUNE_NAME", "Saint-Martin")
    monkeypatch.setenv("COMMUNE_PHONE", "04 73 00 00 00")
    monkeypatch.setenv("COMMUNE_ADDRESS", "1 place de la Mairie")
    palabre("consultation", "import", str(DATA / "consultation_marche.yaml"))
    poster = tmp_path / "affiche.svg"
    assert palabre("qr", "place-du-marche", "--output", str(poster), "--bot", "palabre_bot").exit_code == 0
    # The poster's lines, joined as a person reads them (long lines are wrapped on the page).
    svg = " ".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", poster.read_text(encoding="utf-8"), re.S))
    for expected in (
        "La mairie de Saint-Martin",
        "Réaménagement de la place du marché",
        "Donnez votre avis sur la place.",
        "Répondez jusqu’au 15\u00a0décembre 2099 à 20\u00a0h",
        "https://t.me/palabre_bot?start=c_place-du-marche",
        "Sans Telegram\u202f? Appelez le 04 73 00 00 00 ou venez à la mairie, 1 place de la Mairie.",
    ):
        assert expected in svg, expected


def test_demo_imports_a_bilingual_sample(palabre) -> None:  # type: ignore[no-untyped-def]
    assert "demo-place-du-marche imported" in palabre("demo").output
    import json

    (title,) = rows(palabre.database, "SELECT title FROM consultation")[0]
    assert json.loads(title) == {"fr": "Réaménagement de la place du marché", "en": "Redesign of the market square"}
    assert "open" in palabre("consultation", "list").output


def test_poll_from_the_command_line_queues_one_poll_per_resident(palabre, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    palabre("consultation", "import", str(DATA / "consultation_marche.yaml"))
    refused = palabre("poll", "place-du-marche")
    assert refused.exit_code == 1 and "exactly one question" in refused.output
    text = (DATA / "consultation_marche.yaml").read_text(encoding="utf-8").replace("slug: place-du-marche", "slug: sondage")
    single = tmp_path / "sondage.yaml"
    single.write_text(text[: text.index("  - id: priorites")], encoding="utf-8")
    assert palabre("consultation", "import", str(single)).exit_code == 0
    with sqlite3.connect(palabre.database) as connection:
        for telegram_id, locale in ((7, "fr"), (8, "en")):
            connection.execute(
                "INSERT INTO resident (telegram_id, pseudonym, locale, consent_at, consent_version, notifications_enabled, created_at) "
                "VALUES (?, ?, ?, '2026-01-01', '1', 1, '2026-01-01')",
                (telegram_id, f"p{telegram_id}", locale),
            )
    assert "queued for 2 residents" in palabre("poll", "sondage").output
    assert "queued for 0 residents" in palabre("poll", "sondage").output  # nobody gets it twice
    # Payloads are encrypted at rest (storage.crypto): read them as the sender does.
    payloads = [
        (chat, decrypt(payload))
        for chat, payload in rows(
            palabre.database, "SELECT chat_id, payload FROM outbox_message WHERE method = 'sendPoll' ORDER BY chat_id"
        )
    ]
    assert [(chat, json.loads(payload)["is_anonymous"]) for chat, payload in payloads] == [(7, False), (8, False)]
    assert "Every week" in payloads[1][1] and "Chaque semaine" in payloads[0][1]
