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
