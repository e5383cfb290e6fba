"""The benchmarks still run, at a trivial size. Nothing here is about time: only that each one
does the work it claims to measure (answers saved, messages delivered, rows exported)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bench import answers, broadcast, results, results_steps, weighting


async def test_answers_bench_saves_every_answer_through_the_dispatcher(tmp_path: Path) -> None:
    out = await answers.run(4, 3, [1, 2], tmp_path, quiet=True)  # raises when a tap was refused
    assert [(level, palabre.answers, bare.answers) for level, (palabre, bare) in out.items()] == [(1, 12, 12), (2, 12, 12)]


def test_broadcast_bench_delivers_every_message_without_429(tmp_path: Path) -> None:
    figures = broadcast.scenario(200, 30, tmp_path)
    assert (figures["sent"], figures["accepted"], figures["count_429"]) == (30, 30, 0)


def test_results_bench_counts_and_exports_every_submitted_response(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "results.db"
    # The CLI steps set these; through monkeypatch they are restored after the test.
    for name, value in {"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "BOT_TOKEN": "1:bench", "DEFAULT_LOCALE": "fr"}.items():
        monkeypatch.setenv(name, value)
    results.generate(db, 40)  # every 20th response is left unfinished
    assert results_steps.results(db, tmp_path / "unused") == {"finished": 38}
    exported = results_steps.csv(db, tmp_path / "export.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "export.csv").read_bytes().decode("utf-8-sig"))))
    assert (
        exported["rows"] == 38 and len(rows) == 39 and rows[0][:4] == ["resident", "neighbourhood", "submitted_at", "frequence"]
    )


def test_weighting_bench_weights_every_respondent_within_the_trimming_bound() -> None:
    figures = weighting.run(500, quiet=True)
    assert figures["respondents"] == 500 and figures["design_effect"] > 1 and figures["max_weight_ratio"] <= 5 + 1e-9
