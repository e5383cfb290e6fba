"""Privacy rights end to end: /mydata sends everything, /forget leaves nothing that points to the person."""

from __future__ import annotations

import json

from storage.db import make_engine
from tests.dbscan import find_in_database
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard

TELEGRAM_ID = 987_654_321


async def test_mydata_then_forget(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start(ADMIN_IDS="1999")
    seraphine = fake.user(TELEGRAM_ID, "Séraphine", language_code="fr")
    await onboard(seraphine)

    await seraphine.send_command("/mydata")
    sent = await seraphine.wait_message(lambda m: "document" in m)
    assert "Voici tout ce que Palabre conserve" in sent["caption"]
    data = json.loads(fake.files[sent["document"]["file_id"]].data)
    assert data["resident"]["telegram_id"] == TELEGRAM_ID and data["resident"]["language"] == "fr"
    assert data["resident"]["consent_at"] is not None

    admin = fake.user(1999, "Admin")
    await onboard(admin)
    await admin.send_command(f"/grant {TELEGRAM_ID} agent")  # something else that names her
    await admin.wait_message("rôle")

    await seraphine.send_command("/forget")
    await seraphine.wait_message("Effacer mes données")
    await seraphine.tap("Oui, tout effacer")
    goodbye = await seraphine.wait_message("effacées")
    assert goodbye["text"].startswith("✅ Vos données ont été effacées.")

    engine = make_engine(palabre.database_url)
    try:
        leftovers = await find_in_database(engine, [str(TELEGRAM_ID), "Séraphine"])
    finally:
        await engine.dispose()
    assert leftovers == []

    # Coming back is a fresh start, with onboarding from the beginning.
    await seraphine.send_command("/start")
    assert "Quelle langue" in (await seraphine.wait_message("Bienvenue"))["text"]


async def test_forget_can_be_cancelled(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    paul = fake.user(TELEGRAM_ID + 1, "Paul")
    await onboard(paul)
    await paul.send_command("/forget")
    await paul.wait_message("Effacer mes données")
    await paul.tap("Annuler")
    assert (await paul.wait_callback_answer())["text"] == "Rien n’a été effacé."
    await paul.press("❓ Aide")
    assert "Comment fonctionne Palabre" in (await paul.wait_message("Palabre"))["text"]
