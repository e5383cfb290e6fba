"""Encryption at rest: no personal value readable in the database file, yet everything still works."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.cli import main as cli
from participation import audit, feedback, outbox, reports, results, satisfaction
from participation import consultations as c
from participation.privacy import personal_data
from participation.report_export import export_rows, to_geojson
from storage import crypto
from storage.db import make_engine, make_sessionmaker
from storage.migrate import current_revision, upgrade
from storage.models import ConversationState, Report, SatisfactionRound
from storage.rekey import check_key, reencrypt_values
from tests.conftest import TEST_DATA_KEY
from tests.consultation_helpers import add_consultation, add_resident
from tests.dbscan import find_in_database
from tests.participation.reports_support import RecordingNotifier, load_categories

LAT, LON = 48.8566123, 2.3522456
TYPED = "Les klaxons de Barnabé"  # the consultation's text question allows 50 characters
DESCRIPTION = "Trou béant devant chez Hortense Lagarde"
ADDRESS = "12 impasse des Coquelicots"
NOTE = "Vu avec Madame Lagarde ce matin"
FEEDBACK = "Bravo à Gaspard Dupontel"
ANSWER = "Merci Gaspard, nous transmettons"
COMMENT = "Isidore Quentel trouve ça utile"
DRAFT = "Brouillon d’Eulalie Vasseur"
NEEDLES = [
    TYPED,
    DESCRIPTION,
    ADDRESS,
    NOTE,
    FEEDBACK,
    ANSWER,
    COMMENT,
    DRAFT,
    "Hortense",
    "Gaspard",
    "Eulalie",
    "48.8566123",
    "2.3522456",
]


async def story(session: AsyncSession) -> None:
    """A resident answers a consultation in their words, reports a problem, writes feedback and a comment."""
    consultation = await add_consultation(session)
    resident = await add_resident(session, 5551, neighbourhood="centre")
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    view = await c.answer(session, resident, rid, view.response.step, 0, "hebdo")
    view = await c.toggle(session, resident, rid, view.response.step, 1, "arbres")
    view = await c.validate_draft(session, resident, rid, view.response.step, 1)
    view = await c.answer(session, resident, rid, view.response.step, 2, 4)
    view = await c.answer(session, resident, rid, view.response.step, 3, "no")
    view = await c.answer(session, resident, rid, view.response.step, 4, TYPED)
    await c.submit(session, resident, rid, view.response.step)

    category = (await load_categories(session))["voirie-chaussee"]
    report = await reports.create_report(
        session,
        category=category,
        description=DESCRIPTION,
        photos=[],
        lat=LAT,
        lon=LON,
        address=ADDRESS,
        resident=resident,
        source=audit.Source.CHAT,
        notifier=RecordingNotifier(),
    )
    await reports.change_status(
        session,
        report,
        "acknowledged",
        author_telegram_id=42,
        note=NOTE,
        source=audit.Source.CHAT,
        notifier=RecordingNotifier(),
    )
    # What the agents' group and the resident receive is rendered with these texts.
    await outbox.enqueue(
        session, chat_id=5551, method="sendMessage", payload={"text": f"{DESCRIPTION}\n{ADDRESS}"}, resident_id=resident.id
    )
    row = await feedback.submit(session, resident, FEEDBACK)
    await feedback.answer(session, row.id, ANSWER, actor_telegram_id=42, source=audit.Source.CHAT)  # type: ignore[arg-type]
    period = satisfaction.period_of(row.created_at, 91)
    session.add(SatisfactionRound(period=period))
    await session.flush()
    await satisfaction.record_answer(session, resident, period, 4, 91)
    assert await satisfaction.record_comment(session, resident, period, COMMENT)
    session.add(ConversationState(key="fsm:1:5551:5551:default", state="ReportFlow:description", data={"description": DRAFT}))
    await session.commit()


async def clear_values_found(engine: AsyncEngine) -> list[str]:
    """Where a personal value lies readable: raw bytes of SQLite's file and WAL, every row as text on both."""
    found = await find_in_database(engine, NEEDLES)
    if engine.dialect.name == "sqlite":
        path = Path(make_url(str(engine.url)).database or "")
        raw_needles = [n.encode("utf-8") for n in NEEDLES] + [struct.pack(">d", LAT), struct.pack(">d", LON)]
        for file in (path, path.with_name(path.name + "-wal")):
            data = file.read_bytes() if file.exists() else b""
            found += [f"{file.name} holds {needle!r}" for needle in raw_needles if needle in data]
    return found


async def what_people_see(session: AsyncSession) -> dict[str, str]:
    """The texts as the bot, the exports and /mydata show them."""
    consultation = await c.get_by_slug(session, "place-du-marche")
    assert consultation is not None
    computed = await results.compute_results(session, consultation, locale="fr")
    csv_file = io.BytesIO()
    await results.write_csv(session, consultation, csv_file)
    resident = (await session.execute(text("SELECT id FROM resident WHERE telegram_id = 5551"))).scalar_one()
    from storage.models import Resident

    mydata = json.dumps(await personal_data(session, await session.get(Resident, resident)), ensure_ascii=False)  # type: ignore[arg-type]
    return {
        "results": " ".join(computed.questions[4].texts),
        "csv": csv_file.getvalue().decode("utf-8-sig"),
        "geojson": to_geojson(await export_rows(session, "fr")),
        "mydata": mydata,
    }


def assert_all_shown(seen: dict[str, str]) -> None:
    assert seen["results"] == TYPED
    assert TYPED in seen["csv"]
    feature = json.loads(seen["geojson"])["features"][0]
    assert feature["geometry"]["coordinates"] == [LON, LAT]
    assert (feature["properties"]["description"], feature["properties"]["address"]) == (DESCRIPTION, ADDRESS)
    for value in (DESCRIPTION, ADDRESS, FEEDBACK, ANSWER, COMMENT, DRAFT, TYPED, str(LAT)):
        assert value in seen["mydata"], value


async def test_no_personal_value_is_stored_in_clear_yet_everything_reads_back(engine: AsyncEngine) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await story(session)
    assert await clear_values_found(engine) == []
    async with sessionmaker() as session:
        assert_all_shown(await what_people_see(session))
        # The duplicate search still finds the report 30 m north, through the clear coarse cell.
        category = (await session.scalars(select(Report.category_id))).one()
        nearby = await reports.find_nearby(session, category_id=category, lat=LAT + 30 / 111_320, lon=LON)
        assert [(n.report.description, round(n.distance_m)) for n in nearby] == [(DESCRIPTION, 30)]
        assert await reports.find_nearby(session, category_id=category, lat=LAT + 80 / 111_320, lon=LON) == []


async def test_rotation_reencrypts_everything_and_the_old_key_can_go(engine: AsyncEngine) -> None:
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session:
        await story(session)
    new_key = crypto.generate_key()
    crypto.install_keys(f"{new_key},{TEST_DATA_KEY}")
    async with engine.connect() as connection:
        changed = await connection.run_sync(lambda sync: reencrypt_values(sync, batch=3))
        again = await connection.run_sync(lambda sync: reencrypt_values(sync, batch=3))
    assert changed >= len(NEEDLES) - 5 and again == 0  # a second run (after a crash) has nothing left to do
    assert await clear_values_found(engine) == []

    crypto.install_keys(new_key)  # the old key removed
    async with engine.connect() as connection:
        await connection.run_sync(check_key)
    async with sessionmaker() as session:
        assert_all_shown(await what_people_see(session))

    crypto.install_keys(TEST_DATA_KEY)  # the old key alone reads nothing any more
    async with engine.connect() as connection:
        with pytest.raises(crypto.WrongKey):
            await connection.run_sync(check_key)


async def test_migration_encrypts_clear_data_and_refuses_without_a_key(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0007")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO report_category (id, code, group_name, name, photo_required, location_required, position, active, created_at)"
                    " VALUES (1, 'voirie', '{}', '{}', false, true, 0, true, '2026-01-01 00:00:00')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO report (id, ref, category_id, status, description, lat, lon, address, source, created_at, updated_at)"
                    " VALUES (1, 'PAL-2026-000001', 1, 'new', :d, :lat, :lon, :a, 'chat', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                ),
                {"d": DESCRIPTION, "lat": LAT, "lon": LON, "a": ADDRESS},
            )
        crypto.install_keys(None)
        with pytest.raises(crypto.MissingKey, match="DATA_KEY is not set"):
            await upgrade(engine)
        assert await current_revision(engine) == "0007"  # nothing half done

        crypto.install_keys(TEST_DATA_KEY)
        await upgrade(engine)
        assert await clear_values_found(engine) == []
        async with make_sessionmaker(engine)() as session:
            report = await session.get(Report, 1)
            assert report is not None and (report.description, report.address, report.lat, report.lon) == (
                DESCRIPTION,
                ADDRESS,
                LAT,
                LON,
            )
            assert [
                n.report.id for n in await reports.find_nearby(session, category_id=1, lat=LAT, lon=LON + 0.0003, days=100_000)
            ] == [1]
    finally:
        await engine.dispose()


def test_the_command_line_refuses_a_missing_or_wrong_key_in_one_sentence(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "BOT_TOKEN": "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"}

    created = runner.invoke(cli, ["keys", "init"], env={**env, "DATA_KEY": ""})
    assert created.exit_code == 0 and "written to" in created.output
    written = (tmp_path / ".env").read_text().strip()
    assert written.startswith("DATA_KEY=") and len(written) == len("DATA_KEY=") + 44
    kept = runner.invoke(cli, ["keys", "init"], env={**env, "DATA_KEY": ""})
    assert "nothing written" in kept.output and (tmp_path / ".env").read_text().strip() == written
    (tmp_path / ".env").unlink()

    missing = runner.invoke(cli, ["run"], env={**env, "DATA_KEY": ""})
    assert missing.exit_code == 2 and missing.output.startswith("DATA_KEY is not set") and "Traceback" not in missing.output

    async def fill() -> None:
        crypto.install_keys(TEST_DATA_KEY)  # the command above found none
        engine = make_engine(database_url)
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            await story(session)
        await engine.dispose()

    import asyncio

    asyncio.run(fill())
    for args in (["run"], ["reports", "export", "--format", "geojson"]):
        wrong = runner.invoke(cli, args, env={**env, "DATA_KEY": crypto.generate_key()})
        assert wrong.exit_code == 2, wrong.output
        # `run` logs its start first: the refusal is the last line, and no traceback.
        assert wrong.output.strip().splitlines()[-1].startswith("DATA_KEY cannot read") and "Traceback" not in wrong.output
    malformed = runner.invoke(cli, ["reports", "export", "--format", "csv"], env={**env, "DATA_KEY": "not-a-key"})
    assert malformed.exit_code == 2 and "Invalid setting DATA_KEY" in malformed.output


def test_keys_rotate_puts_a_new_key_first_and_the_old_one_can_then_go(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    async def fill() -> None:
        engine = make_engine(database_url)
        await upgrade(engine)
        async with make_sessionmaker(engine)() as session:
            await story(session)
        await engine.dispose()

    asyncio.run(fill())
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATA_KEY")
    (tmp_path / ".env").write_text(f"BOT_TOKEN=\nDATA_KEY={TEST_DATA_KEY}\nLOG_LEVEL=INFO\n")
    runner = CliRunner()
    rotated = runner.invoke(cli, ["keys", "rotate"], env={"DATABASE_URL": database_url})
    assert rotated.exit_code == 0, rotated.output
    lines = (tmp_path / ".env").read_text().splitlines()
    new_key, old_key = lines[1].removeprefix("DATA_KEY=").split(",")
    assert old_key == TEST_DATA_KEY and lines[0] == "BOT_TOKEN=" and lines[2] == "LOG_LEVEL=INFO"
    assert "Values encrypted again with the first key of DATA_KEY: " in rotated.output

    resumed = runner.invoke(cli, ["keys", "rotate", "--resume"], env={"DATABASE_URL": database_url})
    assert "first key of DATA_KEY: 0." in resumed.output  # nothing left: rotating again is harmless

    async def scan() -> list[str]:
        engine = make_engine(database_url)
        try:
            return await clear_values_found(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(scan()) == []
    (tmp_path / ".env").write_text(f"DATA_KEY={new_key}\n")  # the old key removed
    exported = runner.invoke(cli, ["reports", "export", "--format", "csv"], env={"DATABASE_URL": database_url})
    assert exported.exit_code == 0 and DESCRIPTION in exported.output and ADDRESS in exported.output
