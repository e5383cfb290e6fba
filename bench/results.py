"""Results: counts, CSV export and charts of a consultation with 100,000 residents × 10 questions.

The responses (1,000,000 answers) are generated straight into SQLite in bulk, then each step is
timed in its own subprocess, so that its peak memory (ru_maxrss) is its own:

- results: `participation.results.compute_results` (what /results and `palabre results` show);
- CSV: the export written to a file, as `palabre results SLUG --format csv --output FILE` does;
- charts: one PNG per counted question, as `--format png` does.

    .venv/bin/python -m bench.results [--residents 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import use_bench_key

QUESTIONS_YAML = """
slug: bench-results
title: {fr: Résultats en masse, en: Results at scale}
opens_at: 2020-01-01T08:00:00+01:00
closes_at: 2099-12-15T20:00:00+01:00
questions:
  - {id: frequence, type: single, prompt: "Fréquence ?", choices: [{id: hebdo, label: Chaque semaine}, {id: mois, label: Chaque mois}, {id: jamais, label: Jamais}], other: true}
  - {id: priorites, type: multiple, max: 2, prompt: "Priorités ?", choices: [{id: arbres, label: Arbres}, {id: bancs, label: Bancs}, {id: velos, label: Vélos}, {id: jeux, label: Jeux}]}
  - {id: satisfaction, type: scale, min: 1, max: 5, prompt: "Satisfaction ?", labels: {min: Pas du tout, max: Tout à fait}}
  - {id: pietonne, type: yesno, prompt: "Piétonne ?"}
  - {id: classement, type: ranking, prompt: "Classez", choices: [{id: a, label: Ombre}, {id: b, label: Propreté}, {id: c, label: Calme}]}
  - {id: horaires, type: single, prompt: "Horaires ?", choices: [{id: matin, label: Matin}, {id: soir, label: Soir}]}
  - {id: stationnement, type: yesno, prompt: "Stationnement ?"}
  - {id: bruit, type: scale, min: 0, max: 10, prompt: "Bruit ?", labels: {min: Calme, max: Bruyant}}
  - {id: services, type: multiple, prompt: "Services ?", choices: [{id: wifi, label: Wifi}, {id: eau, label: Fontaine}, {id: wc, label: Toilettes}]}
  - {id: idee, type: text, max_length: 200, prompt: "Une idée ?"}
"""
NEIGHBOURHOODS = ["centre", "gare", "plateau", "vieux-bourg", None]


def _value(rng: random.Random, question: str) -> object:
    if question == "frequence":
        return rng.choice(["hebdo", "mois", "jamais", "other"])
    if question == "priorites":
        return rng.sample(["arbres", "bancs", "velos", "jeux"], rng.randint(1, 2))
    if question == "satisfaction":
        return rng.randint(1, 5)
    if question in ("pietonne", "stationnement"):
        return rng.choice(["yes", "no"])
    if question == "classement":
        return rng.sample(["a", "b", "c"], 3)
    if question == "horaires":
        return rng.choice(["matin", "soir", None])  # None: skipped
    if question == "bruit":
        return rng.randint(0, 10)
    if question == "services":
        return rng.sample(["wifi", "eau", "wc"], rng.randint(1, 3))
    return rng.choice([None, "Plus d’arbres près de l’école", "Des bancs à l’ombre, s’il vous plaît", "Rien à ajouter"])


def generate(db: Path, residents: int) -> None:
    """A migrated database with the consultation and `residents` submitted responses (bulk inserts)."""
    from config.settings import Settings
    from participation import audit
    from participation.consultation_file import parse_consultation_file
    from participation.consultations import import_consultation
    from storage import crypto
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade

    async def setup() -> int:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        settings = Settings(bot_token="1:x", _env_file=None)  # type: ignore[call-arg]
        async with make_sessionmaker(engine).begin() as session:
            spec = parse_consultation_file(QUESTIONS_YAML, "fr", settings.tz)
            consultation, _ = await import_consultation(session, spec, actor_telegram_id=None, source=audit.Source.CLI)
            await session.flush()
            consultation_id = consultation.id
        await engine.dispose()
        return consultation_id  # type: ignore[return-value]

    consultation_id = asyncio.run(setup())
    rng = random.Random(7)
    questions = [line.split("id: ")[1].split(",")[0] for line in QUESTIONS_YAML.splitlines() if line.strip().startswith("- {id:")]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA synchronous=OFF")
    stamp = lambda t: t.strftime("%Y-%m-%d %H:%M:%S.%f")  # noqa: E731 - the format UTCDateTime stores
    with connection:
        connection.executemany(
            "INSERT INTO resident (id, telegram_id, pseudonym, locale, neighbourhood, notifications_enabled, created_at) VALUES (?, ?, ?, 'fr', ?, 1, ?)",
            (
                (i, 10_000_000 + i, f"{rng.getrandbits(64):016x}", NEIGHBOURHOODS[i % len(NEIGHBOURHOODS)], stamp(now))
                for i in range(1, residents + 1)
            ),
        )
        connection.executemany(
            "INSERT INTO consultation_response (id, consultation_id, resident_id, status, cursor, step, draft, started_at, updated_at, submitted_at)"
            " VALUES (?, ?, ?, ?, NULL, 11, '[]', ?, ?, ?)",
            (
                (
                    i,
                    consultation_id,
                    i,
                    "submitted" if i % 20 else "in_progress",
                    stamp(now),
                    stamp(now),
                    stamp(now + timedelta(seconds=i)) if i % 20 else None,
                )
                for i in range(1, residents + 1)
            ),
        )

        def answers():  # type: ignore[no-untyped-def]
            # Stored as the bot stores them: typed texts sealed, "other" texts encrypted.
            for i in range(1, residents + 1):
                for question in questions:
                    value = _value(rng, question)
                    other = crypto.encrypt("Le dimanche") if value == "other" else None
                    if question == "idee" and value is not None:
                        value = {crypto.SEALED: crypto.encrypt(value)}  # type: ignore[dict-item]
                    yield (i, question, json.dumps(value), other, stamp(now))

        connection.executemany(
            "INSERT INTO consultation_answer (response_id, question_id, value, other_text, answered_at) VALUES (?, ?, ?, ?, ?)",
            answers(),
        )
    connection.close()


def _peak_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux keeps it across exec, so a
    subprocess would report its parent's peak if that was higher."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def step(db: Path, what: str, output: Path) -> dict[str, float]:
    """One step, in this (fresh) process: its time and the process's peak memory."""
    import bench.results_steps as steps

    before = _peak_mb()
    started = time.perf_counter()
    detail = steps.STEPS[what](db, output)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "peak_mb": _peak_mb(), "start_mb": before, **detail}


def run_step(db: Path, what: str, output: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.results", "--step", what, "--db", str(db), "--output", str(output)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(residents: int, workdir: Path, *, quiet: bool = False) -> dict[str, dict[str, float]]:
    db = workdir / "results.db"
    started = time.perf_counter()
    generate(db, residents)
    generated = time.perf_counter() - started
    figures = {what: run_step(db, what, workdir / f"export-{what}") for what in ("results", "csv", "charts")}
    if not quiet:
        print(f"results: {residents:,} residents × 10 questions ({residents * 10:,} answers) generated in {generated:.1f} s")
        goals = {"results": "goal < 1 s", "csv": "goal < 5 s and < 200 MB", "charts": "(reported)"}
        for what, f in figures.items():
            extra = f", {f['rows']:,.0f} rows" if "rows" in f else ""
            print(
                f"  {what:<8} {f['seconds']:>6.2f} s   peak memory {f['peak_mb']:>6.0f} MB (after imports {f['start_mb']:.0f} MB){extra}   {goals[what]}"
            )
    return figures


def main(argv: list[str] | None = None) -> None:
    use_bench_key()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--step", choices=["results", "csv", "charts"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        print(json.dumps(step(args.db, args.step, args.output)))
        return
    with tempfile.TemporaryDirectory() as workdir:
        run(args.residents, Path(workdir))


if __name__ == "__main__":
    main()
