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
    assert "Voici tout ce que nous gardons sur vous (fichier technique, lisible sur ordinateur)" in sent["caption"]
    data = json.loads(fake.files[sent["document"]["file_id"]].data)
    assert data["resident"]["telegram_id"] == TELEGRAM_ID and data["resident"]["language"] == "fr"
    assert data["resident"]["consent_at"] is not None

    admin = fake.user(1999, "Admin")
    await onboard(admin)
    await admin.send_command(f"/grant {TELEGRAM_ID} agent")  # something else that names her
    await admin.wait_message("est maintenant")

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
    assert "Choisissez votre langue" in (await seraphine.wait_message("Bienvenue"))["text"]


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


async def test_forget_after_answering_and_reporting_keeps_the_counts_and_nothing_typed(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path
) -> None:
    from datetime import timedelta

    from tests.e2e.test_consultations import import_file, open_from_list, palabre_cli, tap_and_wait, with_times
    from tests.e2e.test_reports import file_pothole, human, prepare

    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7)))
    fake.group(-1005001, "Agents de la mairie")
    await prepare(palabre, tmp_path)
    typed_answer, resident_id = "Trop de bruit devant chez moi", 987_000_111
    margot, other = fake.user(resident_id, "Margot"), fake.user(987_000_112, "Hugo")
    for user in (margot, other):
        await onboard(user)
    for user, first, yesno in ((margot, "Chaque semaine", "Non"), (other, "Jamais", "Oui")):
        await open_from_list(user)
        await tap_and_wait(user, first, "Question 2/4")
        await tap_and_wait(user, "Des bancs", "✓ Des bancs")
        await tap_and_wait(user, "Valider", "Question 3/4")
        await tap_and_wait(user, "3", "Question 4/4")
        if yesno == "Non":
            await tap_and_wait(user, "Non", "Question 5/5")
            await user.send_text(typed_answer)
        else:
            await user.tap(yesno)
        await user.wait_message("Voici vos réponses")
        await human()
        await user.tap("Envoyer")
        await user.wait_message("vos réponses sont enregistrées")
    await file_pothole(margot)

    def counts(output: str) -> list[str]:  # the count lines, not the list of free texts
        return [line for line in output.splitlines() if ("(" in line and "%" in line) or line.startswith("Participation")]

    _code, before, _err = await palabre_cli(palabre.database_url, "results", "place-du-marche")
    await margot.send_command("/forget")
    await margot.wait_message("Effacer mes données")
    await margot.tap("Oui, tout effacer")
    await margot.wait_message("effacées")
    _code, after, _err = await palabre_cli(palabre.database_url, "results", "place-du-marche")
    assert counts(after) == counts(before) and "Participation: 2 started, 2 finished." in after
    assert typed_answer not in after

    engine = make_engine(palabre.database_url)
    try:
        leftovers = await find_in_database(
            engine, [str(resident_id), "Margot", typed_answer, "Un nid-de-poule profond devant l’école"]
        )
    finally:
        await engine.dispose()
    assert leftovers == []
