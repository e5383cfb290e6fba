"""The bot keeps its promises: an opening consultation is announced, a poll says who asks (issue 15, item 3)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard
from tests.e2e.test_consultations import import_file, palabre_cli, with_times

TOPICS = "topics:\n  - code: urbanisme\n    name: {fr: Urbanisme, en: Urban planning}\n"
TITLE = "Réaménagement de la place du marché"


async def test_an_opening_consultation_is_announced_once_to_its_topic_subscribers(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    topics = tmp_path / "topics.yaml"
    topics.write_text(TOPICS, encoding="utf-8")
    code, _out, err = await palabre_cli(palabre.database_url, "topics", "import", str(topics))
    assert code == 0, err
    bot = await palabre.start(COMMUNE_NAME="Saint-Martin")
    alice = fake.user(4101, "Alice")
    bob = fake.user(4102, "Bob")
    await onboard(alice)
    await onboard(bob)
    # Alice follows « Urbanisme »; Bob follows nothing.
    await alice.press("⚙️ Paramètres")
    await alice.wait_message("Paramètres")
    await alice.tap("🏷 Thèmes suivis")
    await alice.wait_message("Quels thèmes vous intéressent")
    await alice.tap("Urbanisme")
    assert (await alice.wait_callback_answer())["text"] == "Vous suivez ce thème."

    # The consultation about urbanism opens while the bot is down: it is announced at the next start.
    await bot.stop()
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7)))
    mark = alice.mark()
    await bot.start()
    announcement = await alice.wait_message("Une nouvelle consultation", after=mark, timeout=20)
    assert TITLE in announcement["text"] and "la mairie de Saint-Martin" in announcement["text"]
    # The mairie's date style: « jusqu’au 5 décembre à 0 h 12 », never « 05/12/2026, 00:12 ».
    assert re.search(
        r"Vous pouvez répondre jusqu’au (1er|\d{1,2})\u00a0[a-zéû]+ à \d{1,2}\u00a0h(\u00a0\d\d)?\.", announcement["text"]
    )
    await alice.tap("🗳 Répondre", announcement)
    await alice.wait_message("À quelle fréquence venez-vous au marché")

    # A second start (a double fire of the opening) tells nobody twice; Bob was never told.
    await bot.restart()
    await alice.send_command("/aide")
    await alice.wait_message("Comment fonctionne Palabre")
    await fake.wait_idle()
    told = [m for m in fake.sent_to(alice.chat_id) if "Une nouvelle consultation" in (m.get("text") or "")]
    assert len(told) == 1
    assert not [m for m in fake.sent_to(bob.chat_id) if TITLE in (m.get("text") or "")]
    fake.assert_no_errors()


async def test_a_native_poll_arrives_with_who_asks_until_when_and_who_sees_the_vote(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMUNE_NAME", "Saint-Martin")  # the server's .env, read by `palabre poll` too
    questions = """questions:
  - id: pietonne
    type: yesno
    prompt: {fr: "Une place piétonne ?", en: "A pedestrian square?"}
"""
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7), questions=questions))
    await palabre.start(COMMUNE_NAME="Saint-Martin")
    carla = fake.user(4103, "Carla")
    await onboard(carla)
    mark = carla.mark()
    code, _out, err = await palabre_cli(palabre.database_url, "poll", "place-du-marche")
    assert code == 0, err
    intro = await carla.wait_message("vous demande", after=mark, timeout=20)
    assert intro["text"].startswith(
        "🗳 La mairie de Saint-Martin vous demande\u00a0: «\u202fRéaménagement de la place du marché\u202f»"
    )
    assert "Vous pouvez répondre jusqu’au" in intro["text"]
    assert "Votre vote est visible par la mairie, pas par les autres habitants." in intro["text"]
    poll = await carla.wait_message(lambda m: "poll" in m, after=mark)
    assert poll["message_id"] > intro["message_id"]
