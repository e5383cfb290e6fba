"""Issue 13: even at LOG_LEVEL=DEBUG, the logs of `palabre run` hold ids and kinds, never names, texts or places; /forget leaves no copy anywhere."""

from __future__ import annotations

from pathlib import Path

from storage.db import make_engine
from tests.dbscan import find_in_database
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, import_categories, onboard, palabre_cli
from tests.e2e.test_reports import AGENT, AGENTS_CHAT, KEY, LAT, LON, file_pothole

RESIDENT = 987_000_313


async def test_debug_logs_and_forget_leave_no_personal_data(fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path) -> None:
    bot = palabre.process(AGENTS_CHAT_ID=AGENTS_CHAT, OPEN311_API_KEYS=KEY, LOG_LEVEL="DEBUG")
    await import_categories(bot, tmp_path)
    await palabre_cli(bot, "role", "grant", str(AGENT), "agent")
    await bot.start()
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    agent = fake.user(AGENT, "Dominique", language_code="fr").in_chat(AGENTS_CHAT)
    zephyrine = fake.user(RESIDENT, "Zéphyrine", language_code="fr")
    await onboard(zephyrine)
    ref = await file_pothole(zephyrine)
    post = await agent.wait_message(ref, timeout=15)
    assert "nid-de-poule profond" in post["caption"]

    await zephyrine.send_command("/forget")
    await zephyrine.wait_message("Effacer mes données")
    await zephyrine.tap("Oui, tout effacer")
    await zephyrine.wait_message("effacées")
    # The group's copy is edited through the outbox: the agents keep the report, not her words.
    edited = await agent.wait_message(
        lambda m: m.get("message_id") == post["message_id"] and "retiré" in (m.get("caption") or ""), timeout=15
    )
    assert "nid-de-poule" not in edited["caption"]

    logs = bot.logs
    assert " DEBUG palabre.updates update id=" in logs and f"from user id={RESIDENT}" in logs  # DEBUG was on: ids only
    for personal in ("Zéphyrine", "nid-de-poule", "devant l’école", f"{LAT}", f"{LON:.4f}", "45.77720"):
        assert personal not in logs, personal
    engine = make_engine(palabre.database_url)
    try:
        leftovers = await find_in_database(
            engine, [str(RESIDENT), "Zéphyrine", "Un nid-de-poule profond devant l’école", "45.777200"]
        )
    finally:
        await engine.dispose()
    assert leftovers == []
