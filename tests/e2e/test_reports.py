"""Problem reports end to end: the real `palabre run`, residents, the agents' group and Open311."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from georeport import GeoReport
from sqlalchemy import select

from storage.db import make_engine, make_sessionmaker
from storage.models import Report, ReportPhoto
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
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


async def test_pothole_reported_followed_triaged_fixed_and_reopened(
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

    # The agents' group gets it with the photo, the place and the buttons.
    post = await agent.wait_message(ref, timeout=15)
    assert post.get("photo") and "nid-de-poule profond" in post["caption"] and "Voirie" in post["caption"]
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
    await passer_by.tap("Prendre en compte", message=post)
    assert (await passer_by.wait_callback_answer())["text"] == "Désolé, c’est réservé aux agents de la mairie."

    # The agent acknowledges; both residents hear it in their language.
    await human()
    await agent.tap("Prendre en compte", message=post)
    await agent.wait_message("statut passé à 👀 Pris en compte")
    assert "Pris en compte" in (await camille.wait_message(f"Votre signalement {ref}", timeout=15))["text"]
    assert "Acknowledged" in (await alex.wait_message(f"The report {ref} you follow", timeout=15))["text"]

    # Then marks it fixed with a note typed as a reply.
    await human()
    await agent.tap("Changer le statut", message=post)
    await agent.wait_message("Nouveau statut")
    await human()
    await agent.tap("✅ Réparé")
    prompt = await agent.wait_message("Répondez à ce message")
    await human()
    await agent.send_text("Rebouché ce matin", reply_to=prompt)
    await agent.wait_message("statut passé à ✅ Réparé")
    fixed_fr = await camille.wait_message("Rebouché ce matin", timeout=15)
    assert "✅ Réparé" in fixed_fr["text"] and "Est-ce vraiment réparé\u202f?" in fixed_fr["text"]
    fixed_en = await alex.wait_message("Rebouché ce matin", timeout=15)
    assert "✅ Fixed" in fixed_en["text"] and "really fixed" not in fixed_en["text"]

    # The reporter says it is not fixed: the report reopens and the agents are told.
    await human()
    await camille.tap("Non, pas encore", message=fixed_fr)
    await camille.wait_message("est rouvert")
    reopened = await agent.wait_message("pas réparé", timeout=15)
    assert ref in reopened["caption"]
    # No dead end: the reporter may say why, with a photo, and the agents get it.
    await human()
    await camille.send_photo(caption="Le trou est toujours là, plus profond")
    await camille.wait_message("les agents l’ont bien reçu")
    why = await agent.wait_message(f"L’auteur du signalement {ref} ajoute", timeout=15)
    assert why.get("photo") and "Le trou est toujours là, plus profond" in why["caption"]
    report, _ = await read_report(palabre.database_url, ref)
    assert report is not None and report.status == "acknowledged"
    # The follower hears of the reopening too (the first message after the "fixed" one).
    again = await alex.wait_message(f"The report {ref}", after=fixed_en, timeout=15)
    assert "👀 Acknowledged" in again["text"]

    # What they see in "my reports".
    await human()
    await alex.press("📋 My reports")
    mine = await alex.wait_message("Your reports")
    assert ref in mine["text"] and "followed" in mine["text"]
    fake.assert_no_errors()
    await bot.stop()
    assert "nid-de-poule" not in bot.logs and "Rebouché" not in bot.logs and str(LAT) not in bot.logs


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
