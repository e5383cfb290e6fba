"""Decide, commit, then speak (issue 12): a slow Bot API, crashes at the reply, outages, redeliveries."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from participation.privacy import NOTICE_VERSION
from storage.db import make_engine, make_sessionmaker
from storage.models import ConsultationAnswer, ProcessedUpdate, Report, Resident
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import BotProcess, PalabreFactory
from tests.e2e.proxy import CuttableProxy
from tests.e2e.test_consultations import STALE, import_file, palabre_cli, with_times

QUESTIONS = """questions:
  - id: q1
    type: single
    prompt: {fr: "Premier choix ?", en: "First?"}
    choices:
      - {id: a, label: {fr: Alpha, en: Alpha}}
      - {id: b, label: {fr: Bravo, en: Bravo}}
  - id: q2
    type: single
    prompt: {fr: "Deuxième choix ?", en: "Second?"}
    choices:
      - {id: a, label: {fr: Alpha, en: Alpha}}
      - {id: b, label: {fr: Bravo, en: Bravo}}
  - id: q3
    type: single
    prompt: {fr: "Troisième choix ?", en: "Third?"}
    choices:
      - {id: a, label: {fr: Alpha, en: Alpha}}
      - {id: b, label: {fr: Bravo, en: Bravo}}
"""
SLUG = "place-du-marche"


async def seed_residents(database_url: str, ids: list[int]) -> None:
    """Residents who already accepted the notice, as after onboarding (kept out of the timing)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            for user_id in ids:
                session.add(
                    Resident(telegram_id=user_id, locale="fr", consent_at=datetime.now(UTC), consent_version=NOTICE_VERSION)
                )
    finally:
        await engine.dispose()


async def count(database_url: str, model: type) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        await engine.dispose()


def choice_of(user: FakeUser, question: int) -> str:
    return "Alpha" if (user.id + question) % 2 else "Bravo"


async def answer_all(user: FakeUser) -> list[str]:
    """Open the consultation by its link and answer the three questions; every tap must be seen."""
    await user.send_command(f"/start c_{SLUG}")
    await user.wait_message("Question 1/3", timeout=60)
    chosen = []
    for question in (1, 2, 3):
        label = choice_of(user, question)
        await user.tap(label)
        assert (await user.wait_callback_answer(timeout=60)) is not None
        expected = f"Question {question + 1}/3" if question < 3 else "Voici vos réponses"
        await user.wait_message(expected, timeout=60)
        chosen.append(label)
    await user.tap("Envoyer")
    assert (await user.wait_callback_answer(timeout=60))["text"] == "Merci\u202f! Vos réponses sont enregistrées."
    return chosen


async def test_thirty_residents_answer_at_once_through_a_slow_bot_api(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7), questions=QUESTIONS))
    ids = list(range(5001, 5031))
    await seed_residents(palabre.database_url, ids)
    fake.latency = 0.1  # every Bot API call answers after 100 ms, like Telegram from a town hall's server
    fake.global_per_second = None  # the replies of 30 conversations, not a broadcast: not what is measured
    bot = await palabre.start()
    users = [fake.user(user_id, f"Habitant {user_id}") for user_id in ids]

    taps = await asyncio.gather(*(answer_all(user) for user in users))

    assert await count(palabre.database_url, ConsultationAnswer) == 90
    export = tmp_path / "resultats.csv"
    code, _out, err = await palabre_cli(palabre.database_url, "results", SLUG, "--format", "csv", "--output", str(export))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(export.read_bytes().decode("utf-8-sig"))))
    stored = Counter((r["q1"], r["q2"], r["q3"]) for r in rows)
    tapped = Counter(tuple("a" if label == "Alpha" else "b" for label in chosen) for chosen in taps)
    assert stored == tapped
    fake.assert_no_errors()
    assert "ERROR" not in bot.logs and "Traceback" not in bot.logs, bot.logs[-3000:]


async def test_killed_as_the_next_question_is_shown_the_shown_state_is_the_stored_one(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7), questions=QUESTIONS))
    await seed_residents(palabre.database_url, [5101])
    bot = await palabre.start()
    camille = fake.user(5101, "Camille")
    await camille.send_command(f"/start c_{SLUG}")
    await camille.wait_message("Question 1/3")
    await camille.tap("Alpha")
    await camille.wait_message("Question 2/3")
    shown = fake.trap("editMessageText", "Question 3/3")
    await camille.tap("Bravo")
    await asyncio.wait_for(shown.hit.wait(), 20)
    await bot.kill()  # the bot asked Telegram to show question 3 and died before hearing back
    shown.release()
    assert "Question 3/3" in camille.last_message["text"]

    await bot.start()
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            stored = sorted((await session.execute(select(ConsultationAnswer.question_id, ConsultationAnswer.value))).all())
    finally:
        await engine.dispose()
    assert stored == [("q1", "a"), ("q2", "b")]  # what question 3's screen says was done, was done
    # The latest message is the current step: its buttons work.
    await camille.tap("Alpha")
    assert (await camille.wait_callback_answer(timeout=20)).get("text") != STALE
    await camille.wait_message("Voici vos réponses", timeout=20)


async def test_killed_as_the_report_reference_is_sent_the_reference_is_stored_and_never_given_again(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    from tests.e2e.harness import onboard
    from tests.e2e.test_reports import AGENTS_CHAT, LAT, LON, REF, human, prepare, report_pothole

    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    camille, alex = fake.user(7101, "Camille"), fake.user(7102, "Alex")
    await onboard(camille)
    await onboard(alex)
    await report_pothole(camille, LAT, LON, french=True)
    await camille.wait_message("Merci de vérifier votre signalement")
    confirmation = fake.trap("sendMessage", "porte le numéro")
    await human()
    await camille.tap("Envoyer")
    await asyncio.wait_for(confirmation.hit.wait(), 20)
    await bot.kill()
    confirmation.release()
    first = REF.search(str(confirmation.params["text"])).group(0)  # type: ignore[index,union-attr]

    await bot.start()
    # A resident far from the first pothole (no "is it one of these?"): a report of their own.
    await report_pothole(alex, LAT + 0.05, LON, french=True)
    await alex.wait_message("Merci de vérifier votre signalement", timeout=20)
    await human()
    await alex.tap("Envoyer")
    second = REF.search((await alex.wait_message("porte le numéro", timeout=20))["text"]).group(0)  # type: ignore[union-attr]

    assert first != second
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            reports = {r.ref: r for r in await session.scalars(select(Report))}
            from storage.models import ReportPhoto

            paths = [p.path for p in await session.scalars(select(ReportPhoto))]
    finally:
        await engine.dispose()
    assert set(reports) == {first, second}  # the reference Camille was given designates her report
    assert reports[first].resident_id != reports[second].resident_id
    assert len(paths) == 2 and len(set(paths)) == 2 and all(paths)


async def until_logged(bot: BotProcess, line: str, times: int = 1, timeout: float = 60) -> None:
    """Wait until the bot's log holds `line` `times` times (what it did, seen from outside)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while bot.logs.count(line) < times:
        assert asyncio.get_running_loop().time() < deadline, f"{line!r} not logged {times} times:\n{bot.logs[-3000:]}"
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def database_behind_proxy(database_url: str) -> AsyncIterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """The URL the bot should use, and how to break and mend its database: on PostgreSQL a proxy
    cut in the middle; on SQLite another process holding the file's write lock."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(str(url.database), isolation_level=None)

        def lock() -> None:
            holder.execute("BEGIN EXCLUSIVE")

        def unlock() -> None:
            holder.execute("ROLLBACK")

        try:
            yield database_url, lock, unlock
        finally:
            holder.close()
        return
    proxy = await CuttableProxy(url.host or "127.0.0.1", url.port or 5432).start()
    try:
        yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy.cut, proxy.restore
    finally:
        await proxy.close()


async def test_messages_sent_during_a_database_outage_are_answered_after_it_and_a_redelivery_is_handled_once(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    code, _out, err = await palabre_cli(palabre.database_url, "db", "upgrade")
    assert code == 0, err
    ids = list(range(5201, 5206))
    await seed_residents(palabre.database_url, ids)
    users = [fake.user(user_id, f"Habitant {user_id}") for user_id in ids]
    async with database_behind_proxy(palabre.database_url) as (url, break_it, mend_it):
        bot = await palabre.start(DATABASE_URL=url)
        break_it()
        sent = [await user.send_command("/help") for user in users]
        # The outage is seen (on SQLite each try waits out busy_timeout, one at a time) before it ends.
        await until_logged(bot, "handling it again")
        mend_it()
        for user in users:
            await user.wait_message("/consultations", timeout=60)  # the help text, once the outage is over

        # The same update delivered again (a lost confirmation) is not handled a second time.
        camille = users[0]
        helps = lambda: sum("/consultations" in (m.get("text") or "") for m in camille.messages)  # noqa: E731
        assert helps() == 1
        fake.deliver_again(sent[0])
        await until_logged(bot, f"update id={sent[0]['update_id']} already handled")
        await camille.send_command("/help")
        await camille.wait_message("/consultations", timeout=20)
        await camille.wait_idle()
        assert helps() == 2
        assert await count(palabre.database_url, ProcessedUpdate) >= len(users) + 1
