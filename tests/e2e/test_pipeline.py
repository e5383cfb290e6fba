"""Decide, commit, then speak (issue 12): a slow Bot API, crashes at the reply, outages, redeliveries."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from participation.privacy import NOTICE_VERSION
from storage.db import make_engine, make_sessionmaker
from storage.models import ConsultationAnswer, ProcessedUpdate, Report, Resident
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import PalabreFactory
from tests.e2e.test_consultations import STALE, import_file, palabre_cli, with_times
from tests.e2e.test_scale_and_safety import SECRET, start_update

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
                session.add(Resident(telegram_id=user_id, locale="fr", consent_at=datetime.now(timezone.utc), consent_version=NOTICE_VERSION))
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


async def test_thirty_residents_answer_at_once_through_a_slow_bot_api(fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path) -> None:
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
    from tests.e2e.test_reports import AGENTS_CHAT, LAT, LON, REF, human, prepare, report_pothole
    from tests.e2e.harness import onboard

    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    camille, alex = fake.user(7101, "Camille"), fake.user(7102, "Alex")
    await onboard(camille)
    await onboard(alex)
    await report_pothole(camille, LAT, LON, french=True)
    await camille.wait_message("Merci de vérifier votre signalement")
    confirmation = fake.trap("sendMessage", "référence")
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
    second = REF.search((await alex.wait_message("référence", timeout=20))["text"]).group(0)  # type: ignore[union-attr]

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
