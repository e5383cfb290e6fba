"""The steps bench/results.py times, each run alone in a fresh process (imports done before timing)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from bot.cli import main as cli
from participation import results as results_module
from participation.consultations import get_by_slug
from storage.db import make_engine, make_sessionmaker

SLUG = "bench-results"


def _use(db: Path) -> None:
    os.environ.update({"DATABASE_URL": f"sqlite+aiosqlite:///{db}", "BOT_TOKEN": "1:bench", "DEFAULT_LOCALE": "fr"})


def results(db: Path, output: Path) -> dict[str, float]:
    """compute_results without the responses, as /results and `palabre results SLUG` call it."""

    async def work() -> dict[str, float]:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        async with make_sessionmaker(engine)() as session:
            consultation = await get_by_slug(session, SLUG)
            assert consultation is not None
            computed = await results_module.compute_results(session, consultation, locale="fr", with_responses=False)
        await engine.dispose()
        return {"finished": computed.finished}

    return asyncio.run(work())


def csv(db: Path, output: Path) -> dict[str, float]:
    """`palabre results SLUG --format csv --output FILE`."""
    _use(db)
    cli(["results", SLUG, "--format", "csv", "--output", str(output)], standalone_mode=False)
    with output.open("rb") as exported:
        rows = sum(1 for _ in exported) - 1
    return {"rows": rows, "bytes": output.stat().st_size}


def charts(db: Path, output: Path) -> dict[str, float]:
    """`palabre results SLUG --format png --output FILE`: one chart per counted question."""
    _use(db)
    output.mkdir()
    cli(["results", SLUG, "--format", "png", "--output", str(output)], standalone_mode=False)
    return {"charts": len(list(output.iterdir()))}


STEPS: dict[str, Callable[[Path, Path], dict[str, float]]] = {"results": results, "csv": csv, "charts": charts}
