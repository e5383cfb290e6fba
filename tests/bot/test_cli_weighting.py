"""Issue 18 end to end on the command line: population margins imported, residents with profiles
answer, weighted results, the council's figures against the population, and the reminder to the
under-represented groups."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.bot.test_cli_notifications import palabre, query

pytestmark = pytest.mark.filterwarnings("ignore")

DATA = Path(__file__).resolve().parent.parent / "data"
NEIGHBOURHOODS = "neighbourhoods:\n" + "".join(
    f"  - {{code: {code}, name: {name}}}\n"
    for code, name in (
        ("centre", "Centre-ville"),
        ("gare", "Quartier de la gare"),
        ("bourg", "Le bourg"),
        ("hameaux", "Les hameaux"),
    )
)
POPULATION = """\
source: "Insee, recensement 2022"
neighbourhoods: {centre: 4210, gare: 3120, bourg: 2480, hameaux: 1190}
age_brackets: {15-29: 2130, 30-44: 2450, 45-59: 2780, 60-74: 2350, 75-plus: 1290}
"""


def add(tmp_path: Path, telegram_id: int, hood: str, age: str, answer: str | None, *, submitted: bool = True) -> None:
    """A consenting resident with a profile, and (when `answer`) their response to place-du-marche."""
    from participation.privacy import NOTICE_VERSION

    with create_engine(f"sqlite:///{tmp_path / 'p.db'}").begin() as connection:
        resident_id = connection.execute(
            text(
                "INSERT INTO resident (telegram_id, pseudonym, locale, consent_at, consent_version, notifications_enabled,"
                " created_at, neighbourhood, age_bracket) VALUES (:id, :p, 'fr', '2026-11-01 10:00:00', :v, 1,"
                " '2026-11-01 10:00:00', :hood, :age) RETURNING id"
            ),
            {"id": telegram_id, "p": f"p{telegram_id}", "v": NOTICE_VERSION, "hood": hood, "age": age},
        ).scalar_one()
        if answer is None:
            return
        consultation_id = connection.execute(text("SELECT id FROM consultation WHERE slug = 'place-du-marche'")).scalar_one()
        response_id = connection.execute(
            text(
                "INSERT INTO consultation_response (consultation_id, resident_id, status, cursor, step, draft, started_at,"
                " updated_at, submitted_at) VALUES (:c, :r, :s, NULL, 5, '[]', '2026-11-20 10:00:00', '2026-11-20 10:05:00', :at)"
                " RETURNING id"
            ),
            {
                "c": consultation_id,
                "r": resident_id,
                "s": "submitted" if submitted else "in_progress",
                "at": "2026-11-20 10:05:00" if submitted else None,
            },
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO consultation_answer (response_id, question_id, value, answered_at)"
                " VALUES (:r, 'frequence', :v, '2026-11-20 10:01:00')"
            ),
            {"r": response_id, "v": json.dumps(answer)},
        )


def recipients(tmp_path: Path) -> set[int]:
    """The Telegram ids the running bot would queue for the confirmed broadcast (its audience, chunk by chunk)."""
    from participation.broadcasts import next_chunk
    from storage.db import make_engine, make_sessionmaker

    async def work() -> set[int]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
        try:
            async with make_sessionmaker(engine).begin() as session:
                found = await next_chunk(session)
                assert found is not None
                return {recipient.telegram_id for recipient in found[1]}
        finally:
            await engine.dispose()

    return asyncio.run(work())


def test_population_file_is_validated_line_by_line_and_nothing_is_half_imported(tmp_path: Path) -> None:
    (tmp_path / "quartiers.yaml").write_text(NEIGHBOURHOODS, encoding="utf-8")
    # The example as first written: its age brackets count 9,460 inhabitants, its neighbourhoods 11,000.
    (tmp_path / "uneven.yaml").write_text(
        'source: "Insee, recensement 2022"\nneighbourhoods: {centre: 4210, gare: 3120, bourg: 2480, hameaux: 1190}\n'
        "age_brackets: {15-29: 1830, 30-44: 2110, 45-59: 2390, 60-74: 2020, 75-plus: 1110}\n",
        encoding="utf-8",
    )
    (tmp_path / "broken.yaml").write_text(
        "neighbourhoods: {centre: 4210, gare: -3, plage: 10, bourg: 2480, hameaux: 1190}\n"
        "age_brackets: {15-29: 1830, 30-44: 2110, 45-59: 2390, 60-74: many}\ncolour: blue\n",
        encoding="utf-8",
    )
    assert palabre(tmp_path, "neighbourhoods", "import", "quartiers.yaml").returncode == 0
    uneven = palabre(tmp_path, "population", "import", "uneven.yaml")
    assert uneven.returncode == 1 and "Traceback" not in uneven.stderr
    assert uneven.stderr.splitlines() == [
        "uneven.yaml: neighbourhoods add up to 11000 inhabitants but age_brackets to 9460: "
        "both must count the same inhabitants aged 15 and over",
        "Nothing was imported (1 problem).",
    ]
    broken = palabre(tmp_path, "population", "import", "broken.yaml")
    assert broken.stderr.splitlines() == [
        'broken.yaml: source: where the figures come from is needed, e.g. "Insee, recensement 2022"',
        "broken.yaml: colour: unknown field",
        "broken.yaml: neighbourhoods.gare: a whole number of inhabitants above 0 is needed",
        "broken.yaml: neighbourhoods.plage: unknown code (known: centre, gare, bourg, hameaux)",
        "broken.yaml: age_brackets.60-74: a whole number of inhabitants above 0 is needed",
        "broken.yaml: age_brackets.75-plus: missing (every code needs its number of inhabitants)",
        "Nothing was imported (6 problems).",
    ]
    assert query(tmp_path, "SELECT count(*) FROM population_margins") == [(0,)]
    (tmp_path / "population.yaml").write_text(POPULATION, encoding="utf-8")
    ok = palabre(tmp_path, "population", "import", "population.yaml")
    assert (ok.returncode, ok.stdout.strip()) == (
        0,
        "Population imported: 11000 inhabitants aged 15 and over in 4 neighbourhoods (Insee, recensement 2022).",
    )
    assert query(tmp_path, "SELECT action, source FROM audit_entry") == [("population.import", "cli")]


def test_weighted_results_council_figures_and_the_reminder_to_missing_groups(tmp_path: Path) -> None:
    (tmp_path / "quartiers.yaml").write_text(NEIGHBOURHOODS, encoding="utf-8")
    (tmp_path / "population.yaml").write_text(POPULATION, encoding="utf-8")
    assert palabre(tmp_path, "neighbourhoods", "import", "quartiers.yaml").returncode == 0
    before = palabre(tmp_path, "broadcast", "--audience", "underrepresented:place-du-marche", "--text", "x", "--yes")
    assert before.returncode == 1
    assert before.stderr.strip() == "There is no consultation 'place-du-marche': see `palabre consultation list`."
    assert palabre(tmp_path, "consultation", "import", str(DATA / "consultation_marche.yaml")).returncode == 0
    no_margins = palabre(tmp_path, "broadcast", "--audience", "underrepresented:place-du-marche", "--text", "x", "--yes")
    assert no_margins.stderr.strip() == "The population margins are not known yet: run `palabre population import FILE` first."
    assert palabre(tmp_path, "population", "import", "population.yaml").returncode == 0

    # Participants: the centre and people aged 30 to 44 answer most, the hamlets and the young hardly.
    n = iter(range(1000, 2000))
    for _ in range(20):
        add(tmp_path, next(n), "centre", "30-44", "hebdo")
    for _ in range(10):
        add(tmp_path, next(n), "gare", "45-59", "mois")
    for _ in range(8):
        add(tmp_path, next(n), "bourg", "60-74", "jamais")
    add(tmp_path, 1900, "hameaux", "75-plus", "jamais")
    add(tmp_path, 1901, "centre", "15-29", "hebdo")
    add(tmp_path, 1902, "centre", "15-29", "hebdo")
    # Not answered yet: three in the hamlets (one half-way), two young people, four in the centre aged 30-44.
    add(tmp_path, 2001, "hameaux", "30-44", None)
    add(tmp_path, 2002, "hameaux", "45-59", None)
    add(tmp_path, 2003, "hameaux", "60-74", "hebdo", submitted=False)
    add(tmp_path, 2004, "gare", "15-29", None)
    add(tmp_path, 2005, "bourg", "15-29", None)
    for k in range(4):
        add(tmp_path, 2100 + k, "centre", "30-44", None)

    result = palabre(tmp_path, "results", "place-du-marche", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    weekly = next(o for o in data["questions"][0]["options"] if o["value"] == "hebdo")
    assert weekly["percent"] == pytest.approx(100 * 22 / 41, abs=0.05)
    # Weighted, the over-represented centre counts less: « every week » falls.
    assert weekly["weighted_percent"] < weekly["percent"] - 10
    weighting = data["weighting"]
    assert weighting["source"] == "Insee, recensement 2022"
    assert weighting["weighted"] == 41 and weighting["unweighted"] == 0
    assert 0 < weighting["n_effective"] < 41 and weighting["design_effect"] > 1
    assert weighting["trim"] == [0.2, 5.0]
    assert {(g["dimension"], g["code"]) for g in weighting["small_groups"]} == {
        ("neighbourhood", "hameaux"),
        ("age", "15-29"),
        ("age", "75-plus"),
    }
    assert data["questions"][0]["margin_of_error"] > 100 * 1.96 * (0.25 / 41) ** 0.5  # wider than unweighted
    assert all(r["weight"] is not None and "age_bracket" not in r for r in data["responses"])

    text_result = palabre(tmp_path, "results", "place-du-marche")
    assert "weighted" in text_result.stdout and "Warning: only 1 participant in neighbourhood hameaux" in text_result.stdout
    csv_path = tmp_path / "r.csv"
    assert palabre(tmp_path, "results", "place-du-marche", "--format", "csv", "--output", str(csv_path)).returncode == 0
    header = csv_path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith(",weight")

    xlsx_path = tmp_path / "r.xlsx"
    assert palabre(tmp_path, "results", "place-du-marche", "--format", "xlsx", "--output", str(xlsx_path)).returncode == 0
    from openpyxl import load_workbook

    workbook = load_workbook(xlsx_path)
    summary_rows = [tuple(row) for row in workbook["summary"].iter_rows(values_only=True)]
    assert ("question", "answer", "label", "count", "percent", "weighted_percent") in summary_rows
    assert ("weighting_source", "Insee, recensement 2022") in [row[:2] for row in summary_rows]
    responses_header = next(workbook["responses"].iter_rows(values_only=True))
    assert responses_header[-1] == "weight"

    stats = json.loads(palabre(tmp_path, "stats", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json").stdout)
    groups = {(g["dimension"], g["code"]): g for g in stats["population"]["groups"]}
    assert stats["population"]["participants"] == 41 and stats["population"]["total"] == 11000
    assert groups[("neighbourhood", "centre")]["population_share"] == pytest.approx(4210 / 11000)
    assert groups[("neighbourhood", "centre")]["participant_share"] == pytest.approx(22 / 41)
    assert groups[("neighbourhood", "hameaux")]["participants"] == 1
    text_stats = palabre(tmp_path, "stats", "--from", "2026-11-01", "--to", "2026-11-30").stdout
    assert "Qui a participé sur la période, comparé à la population (Insee, recensement 2022)\u00a0:" in text_stats
    assert "• Les hameaux\u00a0: 2\u00a0% des participants, 11\u00a0% de la population" in text_stats
    (consultation,) = stats["consultations"]
    centre = next(s for s in consultation["by_neighbourhood"] if s["code"] == "centre")
    assert centre["population_share"] == pytest.approx(4210 / 11000)

    sent = palabre(
        tmp_path,
        "broadcast",
        "--audience",
        "underrepresented:place-du-marche",
        "--text",
        "Il reste 3 jours pour donner votre avis",
        "--yes",
    )
    assert sent.returncode == 0, sent.stderr
    assert "Under-represented: neighbourhood hameaux (1 participant, 2 % of participants, 11 % of the population)" in sent.stdout
    assert "This message will be sent to 5 residents." in sent.stdout
    # Only those of the missing groups who have not answered; the one half-way counts as not answered.
    assert recipients(tmp_path) == {2001, 2002, 2003, 2004, 2005}
    assert query(tmp_path, "SELECT action, detail FROM audit_entry WHERE action = 'broadcast.confirm'") == [
        ("broadcast.confirm", '{"audience": "underrepresented:place-du-marche", "recipients": 5}')
    ]


def test_the_documented_example_imports_as_written(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "representativite.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "quartiers.yaml").write_text(NEIGHBOURHOODS, encoding="utf-8")
    (tmp_path / "population.yaml").write_text(example, encoding="utf-8")
    assert palabre(tmp_path, "neighbourhoods", "import", "quartiers.yaml").returncode == 0
    imported = palabre(tmp_path, "population", "import", "population.yaml")
    assert imported.returncode == 0, imported.stderr
    assert query(tmp_path, "SELECT source FROM population_margins") == [("Insee, recensement 2022",)]
