"""Problem reports end to end: the real `palabre run`, residents, the agents' group and Open311."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from aiogram import Bot
from georeport import GeoReport
from sqlalchemy import select

from storage.db import make_engine, make_sessionmaker
from storage.models import Report, ReportPhoto
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.fake_telegram.limits import Json
from tests.e2e.harness import BotProcess, PalabreFactory, import_categories, onboard, palabre_cli

AGENTS_CHAT = -1005001
AGENT = 7001
KEY = "e2e-open311-key"
LAT, LON = 45.7772, 3.0870
REF = re.compile(r"PAL-\d{4}-\d{6}")
# People take a moment between taps. Without it the story sends faster than Telegram's 30 messages
# a second for a whole bot (which the fake enforces), something no group of residents does.
HUMAN_PAUSE = 0.25


async def human() -> None:
    await asyncio.sleep(HUMAN_PAUSE)


async def prepare(palabre: PalabreFactory, tmp_path: Path) -> BotProcess:
    bot = palabre.process(AGENTS_CHAT_ID=AGENTS_CHAT, OPEN311_API_KEYS=KEY)
    assert "Imported 3 categories" in await import_categories(bot, tmp_path)
    await palabre_cli(bot, "role", "grant", str(AGENT), "agent")
    return await bot.start()


async def report_pothole(person: FakeUser, lat: float, lon: float, french: bool) -> None:
    await human()
    await person.press("📍 Signaler un problème" if french else "📍 Report a problem")
    await person.wait_message("Signaler un problème" if french else "Report a problem")
    await human()
    await person.tap("Voirie" if french else "Roads")
    await person.wait_message("Lequel" if french else "Which of these")
    await human()
    await person.tap("Nid-de-poule" if french else "Pothole")
    await person.wait_message("Décrivez" if french else "Describe")
    await human()
    await person.send_text("Un nid-de-poule profond devant l’école" if french else "A deep pothole in front of the school")
    await person.wait_message("photo")
    await human()
    await person.send_photo()
    await person.wait_message("Photo 1")
    await human()
    await person.tap("Terminé" if french else "Done")
    await person.wait_message("Où est-ce" if french else "Where is it")
    await human()
    await person.send_location(lat, lon)


async def file_pothole(person: FakeUser) -> str:
    """A French resident reports the pothole at the school and sends it: the reference the bot gives back."""
    await report_pothole(person, LAT, LON, french=True)
    await person.wait_message("Merci de vérifier votre signalement")
    await human()
    await person.tap("Envoyer")
    confirmation = await person.wait_message("porte le numéro")
    return REF.search(confirmation["text"]).group(0)  # type: ignore[union-attr]


async def read_report(database_url: str, ref: str) -> tuple[Report | None, list[ReportPhoto]]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await session.scalar(select(Report).where(Report.ref == ref))
            photos = list(await session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == (report.id if report else 0))))
            return report, photos
    finally:
        await engine.dispose()


def cards_of(agent: FakeUser, ref: str) -> list[Json]:
    """The report's cards in the agents' group, as they are now (edits applied)."""
    return [m for m in agent.messages if (m.get("caption") or m.get("text") or "").startswith(f"📍 Signalement {ref}")]


def buttons_of(message: Json) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def replies_to(agent: FakeUser, message: Json) -> list[Json]:
    return [m for m in agent.messages if (m.get("reply_to_message") or {}).get("message_id") == message["message_id"]]


async def test_one_card_per_report_edited_in_place_with_notes_and_the_reporters_comment_as_replies(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    agent = fake.user(AGENT, "Dominique", language_code="en").in_chat(AGENTS_CHAT)
    passer_by = fake.user(7002, "Passant").in_chat(AGENTS_CHAT)

    # A resident reports a pothole with a photo and a location, and gets a reference at once.
    camille = fake.user(7101, "Camille", language_code="fr")
    await onboard(camille)
    ref = await file_pothole(camille)

    # The agents' group gets its card with the photo, the place and the buttons.
    card = await agent.wait_message(ref, timeout=15)
    assert card.get("photo") and "nid-de-poule profond" in card["caption"] and "Voirie" in card["caption"]
    assert buttons_of(card) == ["👀 Prendre en compte", "🙋 Je m’en occupe", "🔧 Changer le statut", "🔁 Doublon de…"]
    # The post leaves the outbox once the report is committed: the report and its photo are stored,
    # the photo downloaded with getFile into MEDIA_DIR.
    report, photos = await read_report(palabre.database_url, ref)
    assert report is not None and (report.lat, report.lon) == (LAT, LON)
    assert len(photos) == 1 and photos[0].path and Path(photos[0].path).read_bytes() == fake.files[photos[0].file_id].data

    # A second resident, 20 m away, is offered the first report and follows it.
    alex = fake.user(7102, "Alex", language_code="en")
    await onboard(alex, "en")
    await report_pothole(alex, LAT + 0.00018, LON, french=False)
    offer = await alex.wait_message("Is it one of these?")
    assert ref in offer["text"]
    await human()
    await alex.tap(f"Yes, follow {ref}")
    await alex.wait_message(f"You now follow report {ref}")

    # Someone who is not an agent cannot use the buttons.
    await human()
    await passer_by.tap("Prendre en compte", message=card)
    assert (await passer_by.wait_callback_answer())["text"] == "Désolé, c’est réservé aux agents de la mairie."

    # An agent takes it: a toast for them, and the card names them.
    await human()
    await agent.tap("Je m’en occupe", message=card)
    assert (await agent.wait_callback_answer())["text"] == f"✅ {ref}\u00a0: vous le suivez désormais."
    await agent.wait_message(lambda m: m["message_id"] == card["message_id"] and "Suivi par\u00a0: Dominique" in m["caption"])

    # Schedules it with a public note typed as a reply: the menu replies to the card and becomes the prompt.
    await human()
    await agent.tap("Changer le statut", message=card)
    menu = await agent.wait_message("Choisissez le nouveau statut")
    assert menu["reply_to_message"]["message_id"] == card["message_id"]
    assert f"{ref} — statut actuel\u00a0: 🆕 Nouveau." in menu["text"]
    await human()
    await agent.tap("📅 Intervention programmée", message=menu)
    prompt = await agent.wait_message("Répondez à ce message")
    assert prompt["message_id"] == menu["message_id"]
    await human()
    await agent.send_text("Passage de l’équipe voirie jeudi", reply_to=prompt)
    await agent.wait_message(lambda m: m["message_id"] == menu["message_id"] and "statut passé à 📅" in m["text"])
    note = await agent.wait_message("Passage de l’équipe voirie jeudi", timeout=15)
    assert note["text"].startswith(f"💬 Note publique sur {ref}") and note["reply_to_message"]["message_id"] == card["message_id"]
    assert "📅 Intervention programmée" in (await camille.wait_message(f"Votre signalement {ref}", timeout=15))["text"]
    assert "Action scheduled" in (await alex.wait_message(f"The report {ref} you follow", timeout=15))["text"]

    # Then marks it resolved without a note.
    await human()
    await agent.tap("Changer le statut", message=card)
    menu = await agent.wait_message("Choisissez le nouveau statut")
    await human()
    await agent.tap("✅ Résolu", message=menu)
    await agent.wait_message("Répondez à ce message")
    await human()
    await agent.tap("Sans note", message=menu)
    resolved = await camille.wait_message("Le problème est-il bien réglé", timeout=15)
    assert "✅ Résolu" in resolved["text"]
    closed = await agent.wait_message(lambda m: m["message_id"] == card["message_id"] and "✅ Résolu" in m["caption"], timeout=15)
    assert buttons_of(closed) == ["↩️ Rouvrir"]  # a closed report can only be reopened

    # The reporter says it is not solved yet, and why: the report reopens, the comment answers the card.
    await human()
    await camille.tap("Non, pas encore", message=resolved)
    await camille.wait_message("est rouvert, comme vous l’avez demandé")
    await human()
    await camille.send_text("Le trou est toujours là, plus profond")
    await camille.wait_message("les agents l’ont bien reçu")
    comment = await agent.wait_message("Le trou est toujours là, plus profond", timeout=15)
    assert comment["reply_to_message"]["message_id"] == card["message_id"]
    await agent.wait_message(
        lambda m: m["message_id"] == card["message_id"] and "a ajouté un message" in m.get("caption", ""), timeout=15
    )
    report, _ = await read_report(palabre.database_url, ref)
    assert report is not None and report.status == "acknowledged"

    # One card in the group, showing the last status and the buttons valid for it; the rest replies to it.
    await agent.wait_idle()
    [final] = cards_of(agent, ref)
    assert "Statut\u00a0: 👀 Pris en compte" in final["caption"] and "Suivi par\u00a0: Dominique" in final["caption"]
    assert buttons_of(final) == ["🙋 Je m’en occupe", "🔧 Changer le statut", "🔁 Doublon de…"]
    assert [m["message_id"] for m in replies_to(agent, final) if "statut" not in m.get("text", "")] == [
        note["message_id"],
        comment["message_id"],
    ]
    # The follower hears of the reopening too (the first message after the "resolved" one).
    again = await alex.wait_message(f"The report {ref}", after=resolved_for(alex), timeout=15)
    assert "👀 Acknowledged" in again["text"]
    fake.assert_no_errors()
    await bot.stop()
    assert "nid-de-poule" not in bot.logs and "Passage de l’équipe" not in bot.logs and str(LAT) not in bot.logs


def resolved_for(person: FakeUser) -> Json:
    return next(m for m in reversed(person.messages) if "✅ Resolved" in m.get("text", ""))


async def test_a_change_made_while_the_card_is_on_its_way_ends_on_the_card(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    agent = fake.user(AGENT, "Dominique", language_code="fr").in_chat(AGENTS_CHAT)
    # Telegram takes the card but its answer (with the card's message id) is held back.
    held = fake.trap("sendPhoto", "Signalement")
    camille = fake.user(7111, "Camille", language_code="fr")
    await onboard(camille)
    await report_pothole(camille, LAT, LON, french=True)
    await camille.wait_message("Merci de vérifier votre signalement")
    await human()
    await camille.tap("Envoyer")
    ref = REF.search((await camille.wait_message("porte le numéro"))["text"]).group(0)  # type: ignore[union-attr]
    await asyncio.wait_for(held.hit.wait(), 15)
    # Meanwhile the operator sets the status from the command line: the card's edit is queued now.
    assert f"Report {ref} is now in_progress." in await palabre_cli(bot, "report", "status", ref, "in_progress")
    held.release()
    card = await agent.wait_message(lambda m: "Statut\u00a0: 🔧 En cours" in (m.get("caption") or ""), timeout=20)
    assert [c["message_id"] for c in cards_of(agent, ref)] == [card["message_id"]]
    fake.assert_no_errors()
    await bot.stop()


async def test_open311_server_of_the_running_bot(fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path) -> None:
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    agent = fake.user(AGENT, "Dominique").in_chat(AGENTS_CHAT)
    root = f"{bot.http_url}/open311/v2"

    services = await asyncio.to_thread(GeoReport(root).get_service_list)
    assert [s["service_code"] for s in services] == ["voirie-chaussee", "proprete-depot", "bruit"]

    form = {"service_code": "voirie-chaussee", "lat": "45.78", "long": "3.09", "description": "Plaque d’égout descellée"}
    async with httpx.AsyncClient() as client:
        refused = await client.post(f"{root}/requests.json", data=form)
        assert refused.status_code == 403
        assert refused.json() == [{"code": 403, "description": "Invalid api_key received -- can't proceed with create_request."}]
        created = await client.post(f"{root}/requests.json", data={**form, "api_key": KEY, "email": "jean@example.org"})
        assert created.status_code == 200
    ref = created.json()[0]["service_request_id"]

    post = await agent.wait_message(ref, timeout=15)
    assert "Plaque d’égout descellée" in post["text"] and "Prendre en compte" in str(post["reply_markup"])
    requests = await asyncio.to_thread(GeoReport(root).get_service_requests, status="open")
    assert [(r["service_request_id"], r["description"]) for r in requests] == [(ref, "Plaque d’égout descellée")]
    assert "jean@example.org" not in str(requests)
    fake.assert_no_errors()


async def test_a_card_deleted_from_the_group_is_posted_again_then_edited(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    fake.group(AGENTS_CHAT, "Agents de la mairie")
    bot = await prepare(palabre, tmp_path)
    agent = fake.user(AGENT, "Dominique", language_code="fr").in_chat(AGENTS_CHAT)
    camille = fake.user(7121, "Camille", language_code="fr")
    await onboard(camille)
    await report_pothole(camille, LAT, LON, french=True)
    await camille.wait_message("Merci de vérifier votre signalement")
    await human()
    await camille.tap("Envoyer")
    ref = REF.search((await camille.wait_message("porte le numéro"))["text"]).group(0)  # type: ignore[union-attr]
    first = await agent.wait_message(ref, timeout=15)
    # A group admin deletes the card (here through the Bot API, as Telegram would remove it).
    admin = Bot(fake.token, session=fake.aiogram_session())
    try:
        assert await admin.delete_message(AGENTS_CHAT, first["message_id"])
    finally:
        await admin.session.close()
    assert cards_of(agent, ref) == []

    # The next change cannot edit it: a fresh card is posted, with the current state.
    await palabre_cli(bot, "report", "status", ref, "acknowledged")
    fresh = await agent.wait_message(lambda m: "Statut\u00a0: 👀 Pris en compte" in (m.get("caption") or ""), timeout=20)
    assert fresh["message_id"] != first["message_id"] and fresh.get("photo")
    # And the one after edits the fresh card in place.
    await palabre_cli(bot, "report", "status", ref, "in_progress")
    await agent.wait_message(
        lambda m: m["message_id"] == fresh["message_id"] and "Statut\u00a0: 🔧 En cours" in (m.get("caption") or ""),
        timeout=20,
    )
    assert [c["message_id"] for c in cards_of(agent, ref)] == [fresh["message_id"]]
    fake.assert_no_errors(allow=["message to edit not found"])
    await bot.stop()
