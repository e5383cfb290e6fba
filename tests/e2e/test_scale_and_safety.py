"""Webhook mode, flood control and leadership, against real `palabre run` processes."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import func, select

from bot.flood import MAX_UPDATES_PER_WINDOW
from participation import outbox
from storage.db import make_engine, make_sessionmaker
from storage.models import Resident
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard, outbox_drained

SECRET = "s3cret-webhook-token-0123456789"


def start_update(update_id: int, user_id: int, text: str = "/start") -> dict:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Web"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Web", "language_code": "fr"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def count_residents(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Resident)) or 0)
    finally:
        await engine.dispose()


async def test_webhook_needs_the_secret_and_answers_with_it(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    bot = palabre.process(WEBHOOK_URL="https://palabre.example.fr/tg/hook", WEBHOOK_SECRET=SECRET)
    process = await bot.start_webhook()
    assert fake.webhook is not None and fake.webhook["url"] == "https://palabre.example.fr/tg/hook"
    assert fake.webhook["secret_token"] == SECRET
    visitor = fake.user(3001, "Web")
    visitor.open_chat()
    async with httpx.AsyncClient(base_url=process.http_url) as client:
        forged = await client.post("/tg/hook", json=start_update(1, 3001))
        wrong = await client.post("/tg/hook", json=start_update(2, 3001), headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
        assert (forged.status_code, wrong.status_code) == (401, 401)
        assert await count_residents(process.database_url) == 0  # nothing changed
        good = await client.post("/tg/hook", json=start_update(3, 3001), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert good.status_code == 200
        health = await client.get("/healthz")
        assert health.status_code == 200
    assert "Bienvenue sur Palabre" in (await visitor.wait_message())["text"]
    assert await count_residents(process.database_url) == 1


async def test_flood_gets_one_warning_and_is_then_ignored(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    spammer = fake.user(3002, "Flo")
    await onboard(spammer)
    before = len(spammer.messages)
    for n in range(50):
        await spammer.send_text(f"message {n}")
    await spammer.wait_message("Vous envoyez beaucoup de messages", timeout=30)
    await spammer.wait_idle(quiet=1.0)
    replies = [m.get("text", "") for m in spammer.messages[before:]]
    assert sum("Vous envoyez beaucoup de messages" in text for text in replies) == 1
    # The onboarding updates count too: at most MAX_UPDATES_PER_WINDOW updates are answered.
    assert len(replies) <= MAX_UPDATES_PER_WINDOW
    quiet = fake.user(3003, "Calme")
    await onboard(quiet)  # another resident is served as usual meanwhile


async def test_only_one_process_sends_and_another_takes_over(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    leader = await palabre.start()
    follower = await palabre.process().start_worker()
    users = [fake.user(3100 + n, f"R{n}") for n in range(10)]
    for user in users:
        user.open_chat()

    async def enqueue(label: str, chats: list[int]) -> None:
        engine = make_engine(palabre.database_url)
        async with make_sessionmaker(engine).begin() as session:
            for chat in chats:
                await outbox.enqueue(session, chat_id=chat, method="sendMessage", payload={"text": f"{label} {chat}"})
        await engine.dispose()

    async def sent_count() -> int:
        engine = make_engine(palabre.database_url)
        async with make_sessionmaker(engine)() as session:
            figures = await outbox.delivery_figures(session)
        await engine.dispose()
        return figures.sent

    await enqueue("avant", [u.id for u in users])
    for user in users:
        await user.wait_message("avant", timeout=15)
    # Kill once every delivery is recorded: a message in flight at the kill may go out twice
    # (that bound is the outbox's own test); here no message is in flight.
    for _ in range(100):
        if await sent_count() == len(users):
            break
        await asyncio.sleep(0.1)
    await leader.kill()  # the leader dies without cleaning up
    await enqueue("après", [u.id for u in users])
    for user in users:
        await user.wait_message("après", timeout=20)
    await outbox_drained(palabre.database_url)  # nothing left that could still go out twice
    for user in users:  # two processes competed, yet each message went out exactly once
        texts = [m.get("text") for m in user.messages]
        assert texts.count(f"avant {user.id}") == 1 and texts.count(f"après {user.id}") == 1, texts
    assert "now runs the scheduler" in follower.logs
