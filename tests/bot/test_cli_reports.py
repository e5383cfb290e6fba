"""`palabre categories import`, `palabre report status` and `palabre reports export`, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.i18n import build_i18n
from config.settings import Settings
from notices.reports import ReportNotices
from participation.audit import Source
from participation.categories import category_by_code
from participation.reports import create_report, follow
from participation.residents import get_or_create_resident, set_locale
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import OutboxMessage, ReportCategory, ReportStatusChange, Resident
from tests.participation.reports_support import CATEGORIES_YAML


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("AGENTS_CHAT_ID", "-100555")
    return url


def run_db(url: str, work):  # type: ignore[no-untyped-def]
    async def main_() -> object:
        engine = make_engine(url)
        await upgrade(engine)
        try:
            async with make_sessionmaker(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main_())


def import_categories(tmp_path: Path) -> None:
    path = tmp_path / "categories.yaml"
    path.write_text(CATEGORIES_YAML, encoding="utf-8")
    result = CliRunner().invoke(main, ["categories", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output == "Imported 3 categories (3 new, 0 updated).\n"


def file_report(url: str) -> str:
    async def work(session) -> str:  # type: ignore[no-untyped-def]
        settings = Settings(agents_chat_id=-100555, _env_file=None)  # type: ignore[call-arg]
        camille = await get_or_create_resident(session, 9101)
        alex = await get_or_create_resident(session, 9102)
        await set_locale(session, camille, "fr")
        await set_locale(session, alex, "en")
        category = await category_by_code(session, "voirie-chaussee")
        report = await create_report(
            session,
            category=category,
            description="Trou rue Blatin",
            photos=[],
            lat=45.7772,
            lon=3.087,  # type: ignore[arg-type]
            address=None,
            resident=camille,
            source=Source.CHAT,
            notifier=ReportNotices(build_i18n("fr"), settings),
        )
        await follow(session, report, alex)
        return report.ref

    return run_db(url, work)  # type: ignore[no-any-return]


def test_bad_categories_file_lists_problems_and_imports_nothing(database: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("categories:\n  - code: x y\n    group: G\n    name: N\n    photo: sometimes\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["categories", "import", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}: categories[0].code: expected a code of 1 to 32 lowercase letters, digits, - or _",
        f"{path}: categories[0].photo: must be required or optional",
        "Nothing was imported.",
    ]
    assert run_db(database, lambda session: session.scalar(select(ReportCategory.id))) is None
    import_categories(tmp_path)


def test_report_status_from_the_command_line_tells_reporter_and_follower(database: str, tmp_path: Path) -> None:
    import_categories(tmp_path)
    ref = file_report(database)
    runner = CliRunner()
    result = runner.invoke(main, ["report", "status", ref, "fixed", "--note", "Rebouché ce matin"])
    assert (result.exit_code, result.output) == (0, f"Report {ref} is now fixed.\n")

    refused = runner.invoke(main, ["report", "status", ref, "action_scheduled"])
    assert refused.exit_code == 1
    assert refused.output == f"Report {ref} is fixed: it cannot become action_scheduled (possible: acknowledged, in_progress).\n"
    unknown = runner.invoke(main, ["report", "status", "PAL-2000-999999", "fixed"])
    assert (unknown.exit_code, unknown.output) == (1, "No report has the reference PAL-2000-999999.\n")
    bad = runner.invoke(main, ["report", "status", ref, "done"])
    assert bad.exit_code == 2 and bad.output.startswith("Unknown status 'done': choose one of new, acknowledged")

    async def read(session):  # type: ignore[no-untyped-def]
        history = (await session.scalars(select(ReportStatusChange).order_by(ReportStatusChange.id))).all()
        sent = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id > 0).order_by(OutboxMessage.chat_id))
        ).all()
        return [(h.to_status, h.source, h.note) for h in history], [(m.chat_id, m.payload) for m in sent]

    history, sent = run_db(database, read)
    assert history == [("new", "chat", None), ("fixed", "cli", "Rebouché ce matin")]
    (camille_id, to_camille), (alex_id, to_alex) = sent
    assert (camille_id, alex_id) == (9101, 9102)
    assert "Votre signalement" in to_camille["text"] and "Rebouché ce matin" in to_camille["text"]
    assert "reply_markup" in to_camille  # "is the problem really solved?"
    assert "The report" in to_alex["text"] and "Resolved" in to_alex["text"] and "reply_markup" not in to_alex


def test_export_geojson_and_csv_without_personal_data(database: str, tmp_path: Path) -> None:
    import_categories(tmp_path)
    ref = file_report(database)
    pseudonyms = run_db(database, lambda session: session.scalars(select(Resident.pseudonym)))
    runner = CliRunner()
    result = runner.invoke(main, ["reports", "export", "--format", "geojson"])
    assert result.exit_code == 0
    collection = json.loads(result.stdout)
    [feature] = collection["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [3.087, 45.7772]}
    assert feature["properties"]["ref"] == ref and feature["properties"]["followers"] == 1
    output = tmp_path / "reports.csv"
    result = runner.invoke(main, ["reports", "export", "--format", "csv", "--output", str(output)])
    assert result.exit_code == 0 and "1 reports written" in result.output
    data = output.read_bytes()
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("ref,service_code,category,group,status") and lines[1].startswith(
        f"{ref},voirie-chaussee,Nid-de-poule"
    )
    exported = result.stdout + data.decode("utf-8-sig")
    # Telegram ids as whole numbers: the digits may occur inside a timestamp's microseconds by chance.
    assert not re.search(r"(?<!\d)(9101|9102)(?!\d)", exported)
    for pseudonym in pseudonyms:
        assert pseudonym not in exported
