"""Several workers on PostgreSQL and Redis: answers alternate between webhook workers, and scheduled
work runs in exactly one process, then in another when that one dies."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from participation import outbox, retention
from storage.db import make_engine, make_sessionmaker
from storage.models import AuditEntry
from tests.conftest import POSTGRES_URL, fresh_postgres_database
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import CAUGHT_UP, PalabreFactory, onboard, wait_for_log
from tests.e2e.test_consultations import (
    close_soon,
    consultation_status,
    import_file,
    open_from_list,
    palabre_cli,
    tap_and_wait,
    with_times,
)

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL), reason="needs PostgreSQL and Redis (scripts/test starts them when installed)"
)
SECRET = "workers-secret-0123456789abcdef"


@pytest.fixture
async def cluster(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[PalabreFactory]:
    async with fresh_postgres_database() as url:
        factory = PalabreFactory(fake, tmp_path, url)
        yield factory
        await factory.close()


async def count_audit(database_url: str, action: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)) or 0)
    finally:
        await engine.dispose()


async def answer_all(user: FakeUser, first: str, scale: str, yesno: str) -> None:
    await open_from_list(user)
    await tap_and_wait(user, first, "Question 2/4")
    await tap_and_wait(user, "Des bancs", "✓ Des bancs")
    await tap_and_wait(user, "Valider", "Question 3/4")
    await tap_and_wait(user, scale, "Question 4/4")
    await tap_and_wait(user, yesno, "Voici vos réponses")
    await user.tap("Envoyer")
    await user.wait_message("vos réponses sont enregistrées")


async def test_answers_alternating_between_two_webhook_workers_count_once(
    fake: FakeTelegram, cluster: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(cluster.database_url, with_times(tmp_path, closes_in=timedelta(days=7)))
    env = {"WEBHOOK_URL": "https://palabre.example.fr/tg/hook", "WEBHOOK_SECRET": SECRET, "REDIS_URL": REDIS_URL}
    web_a = await cluster.process(**env).start_webhook(role="web")
    web_b = await cluster.process(**env).start_webhook(role="web")
    await cluster.process(**env).start_worker()
    fake.deliver_by_webhook([f"{web_a.http_url}/tg/hook", f"{web_b.http_url}/tg/hook"])

    camille, alex, lou = fake.user(5101, "Camille"), fake.user(5102, "Alex"), fake.user(5103, "Lou")
    for user in (camille, alex, lou):
        await onboard(user)

    # A double tap: the two updates go to the two workers at the same moment.
    await open_from_list(camille)
    await camille.tap("Chaque semaine")
    await camille.tap("Chaque semaine")
    await camille.wait_message("Question 2/4")
    await camille.wait_idle(quiet=1.0)
    await tap_and_wait(camille, "Des bancs", "✓ Des bancs")
    await tap_and_wait(camille, "Valider", "Question 3/4")
    await tap_and_wait(camille, "4", "Question 4/4")
    await tap_and_wait(camille, "Oui", "Voici vos réponses")
    await camille.tap("Envoyer")
    await camille.wait_message("vos réponses sont enregistrées")
    await answer_all(alex, "Chaque mois", "2", "Oui")
    await answer_all(lou, "Chaque semaine", "5", "Oui")

    code, out, err = await palabre_cli(cluster.database_url, "results", "place-du-marche")
    assert code == 0, err
    for line in (
        "Participation: 3 started, 3 finished.",
        "   Chaque semaine: 2 (66.7 %)",
        "   Chaque mois: 1 (33.3 %)",
        "   Des bancs: 3 (100 %)",
        "   Oui: 3 (100 %)",
    ):
        assert line in out.splitlines(), (line, out)
    targets = {target for target, _update, _status in fake.webhook_deliveries}
    assert targets == {f"{web_a.http_url}/tg/hook", f"{web_b.http_url}/tg/hook"}
    assert {status for _target, _update, status in fake.webhook_deliveries} == {200}


async def test_scheduled_work_runs_once_then_moves_when_the_leader_dies(
    fake: FakeTelegram, cluster: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(cluster.database_url, with_times(tmp_path, closes_in=timedelta(days=7)))
    first = await cluster.process(REDIS_URL=REDIS_URL).start_worker()
    second = await cluster.process(REDIS_URL=REDIS_URL).start_worker()

    # The daily retention purge is due at once: two processes compete, it happens once.
    for _ in range(100):
        if await count_audit(cluster.database_url, retention.PURGE_ACTION):
            break
        await asyncio.sleep(0.1)
    # The leader says when it has run everything that was due at its start: the purge included.
    await wait_for_log((first, second), CAUGHT_UP)
    assert await count_audit(cluster.database_url, retention.PURGE_ACTION) == 1
    leader, follower = (first, second) if "now runs the scheduler" in first.logs else (second, first)
    assert "now runs the scheduler" not in follower.logs

    await leader.kill()
    # What falls due after the leader's death is done by the other process.
    await close_soon(cluster.database_url, "place-du-marche")
    assert await consultation_status(cluster.database_url, "place-du-marche", becomes="closed") == "closed"
    user = fake.user(5201, "Noé")
    user.open_chat()
    engine = make_engine(cluster.database_url)
    async with make_sessionmaker(engine).begin() as session:
        await outbox.enqueue(session, chat_id=user.id, method="sendMessage", payload={"text": "relais"})
    await engine.dispose()
    await user.wait_message("relais", timeout=30)
    assert "now runs the scheduler" in follower.logs
