"""Officials type dates in one grammar: the chat and the command line accept the same forms and refuse the same ones."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from bot.cli import main
from storage.db import SessionMaker
from tests.handlers.notifications_helpers import make_official, onboard

PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime.now(PARIS).date()
LAST_SEPTEMBER_FIRST = date(TODAY.year if date(TODAY.year, 9, 1) <= TODAY else TODAY.year - 1, 9, 1)

# (what an official types as the first day of a period, the day it means)
DAYS = [
    ("2026-09-01", date(2026, 9, 1)),
    ("01/09/2026", date(2026, 9, 1)),
    ("1/9/26", date(2026, 9, 1)),
    ("1 septembre 2026", date(2026, 9, 1)),
    ("1er sept. 2026", date(2026, 9, 1)),
    ("September 1st, 2026", date(2026, 9, 1)),
    ("1/09", LAST_SEPTEMBER_FIRST),
    ("1 septembre", LAST_SEPTEMBER_FIRST),
]
# (what is not a day, the start of the chat's French sentence, what the command line's sentence says)
NOT_DAYS = [
    ("demain", "Nous n’avons pas compris cette date.", "is not a date"),
    ("31/02/2026", "Ce jour ou cette heure n’existe pas", "does not exist"),
    ("2026-13-01", "Ce jour ou cette heure n’existe pas", "does not exist"),
    ("1/09 18h30", "Nous n’avons pas compris cette date.", "is not a date"),
]
# A meeting's start, as typed in the chat and as `palabre audit --since` reads it.
MOMENTS = ["12/12/2099 18h30", "12 décembre 2099 à 18h30", "2099-12-12 18:30", "December 12, 2099 at 18:30"]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TIMEZONE", "Europe/Paris")
    return CliRunner()


def test_the_command_line_reads_every_form_as_the_same_day(cli: CliRunner) -> None:
    for typed, day in DAYS:
        result = cli.invoke(main, ["stats", "--from", typed, "--format", "json"])
        assert result.exit_code == 0, (typed, result.output)
        assert json.loads(result.stdout)["start"].startswith(day.isoformat()), typed


def test_the_command_line_refuses_what_is_not_a_day_in_one_sentence(cli: CliRunner) -> None:
    for typed, _french, english in NOT_DAYS:
        result = cli.invoke(main, ["stats", "--from", typed, "--format", "json"])
        assert result.exit_code == 2, typed
        assert result.stdout == "" and result.stderr.count("\n") == 1 and english in result.stderr, result.stderr
        assert repr(typed) in result.stderr
    for typed in MOMENTS:
        assert cli.invoke(main, ["audit", "--since", typed]).exit_code == 0, typed
    assert "is not a date" in cli.invoke(main, ["audit", "--since", "demain soir"]).stderr


async def test_the_chat_reads_every_form_as_the_same_day(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official = resident_factory(6501)
    await onboard(official, "fr")
    await make_official(sessionmaker, 6501)
    for typed, day in DAYS:
        await official.send(f"/stats {day.isoformat()}")
        expected = official.replies()[-1].splitlines()[0]
        await official.send(f"/stats {typed}")
        assert official.replies()[-1].splitlines()[0] == expected, typed
    await official.send("/stats 1 septembre 2026 au 30 novembre 2026")
    assert official.last_reply().startswith("Les chiffres de Palabre, du 1 sept. 2026 au 30 nov. 2026\n")


async def test_the_chat_refuses_what_is_not_a_day_with_the_same_reasons(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official = resident_factory(6502)
    await onboard(official, "fr")
    await make_official(sessionmaker, 6502)
    for typed, french, _english in NOT_DAYS:
        await official.send(f"/stats {typed}")
        assert official.last_reply().startswith(french), (typed, official.last_reply())
        assert official.last_reply().endswith("(ou /stats seul pour les 90 derniers jours).")


async def test_a_meeting_starts_at_any_form_of_a_moment_and_needs_its_time(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official = resident_factory(6503)
    await onboard(official, "fr")
    await make_official(sessionmaker, 6503)
    for typed in MOMENTS:
        await official.send("/meeting")
        await official.send("Budget participatif")
        await official.send(typed)
        assert official.last_reply() == "📍 Où aura-t-elle lieu\u202f?", typed
        await official.send("/annuler")
    await official.send("/meeting")
    await official.send("Budget participatif")
    await official.send("12/12/2099")
    assert official.last_reply() == "Merci d’ajouter l’heure, par exemple\u00a0: «\u202f12/12 18h30\u202f»."
    await official.send("31/12/2099 25h00")
    assert official.last_reply() == "Ce jour ou cette heure n’existe pas\u00a0: vérifiez la date saisie."
