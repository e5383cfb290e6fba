"""Reporting as people report: photo first, an image sent as a file, any place, a named address, « Modifier » (issue 15, item 4)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import make_engine, make_sessionmaker
from storage.models import Report, ReportPhoto
from tests.e2e.fake_geocoder import FakeGeocoder, feature
from tests.e2e.fake_telegram import SAMPLE_JPEG, FakeTelegram
from tests.e2e.harness import PalabreFactory, import_categories, onboard

REF = re.compile(r"PAL-\d{4}-\d{6}")
COORDINATES = re.compile(r"\d+\.\d{4,}, \d+\.\d{4,}")


@pytest.fixture
async def geocoder() -> AsyncIterator[FakeGeocoder]:
    server = await FakeGeocoder().start()
    try:
        yield server
    finally:
        await server.stop()


async def stored(database_url: str, ref: str) -> tuple[Report, int]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            report = await session.scalar(select(Report).where(Report.ref == ref))
            assert report is not None
            photos = list(await session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == report.id)))
            return report, len(photos)
    finally:
        await engine.dispose()


async def test_photo_first_typed_address_and_change_then_file_image_and_position(
    fake: FakeTelegram, palabre: PalabreFactory, geocoder: FakeGeocoder, tmp_path: Path
) -> None:
    geocoder.addresses["12 rue des lilas"] = feature(
        "12 Rue des Lilas 63000 Clermont-Ferrand", 3.0871, 45.7771, street="Rue des Lilas"
    )
    geocoder.positions.append(feature("8 Place de Jaude 63000 Clermont-Ferrand", 3.0830, 45.7772, street="Place de Jaude"))
    bot = palabre.process(GEOCODER_URL=geocoder.url, COMMUNE_PHONE="04 73 00 00 00")
    await import_categories(bot, tmp_path)
    await bot.start()
    camille = fake.user(5101, "Camille")
    await onboard(camille)

    # A photo with a caption, straight from the main menu, starts the report.
    await camille.send_photo(caption="Un tas de gravats sur le trottoir")
    await camille.wait_message("type de problème")
    await camille.tap("Propreté")
    await camille.wait_message("Lequel")
    await camille.tap("Dépôt sauvage")
    await camille.wait_message("Photo 1 reçue")
    await camille.tap("✅ Terminé")
    where = await camille.wait_message("Où est-ce")
    assert "📎" in where["text"]  # any place from the attachment menu is welcome
    await camille.send_text("12 rue des Lilas")
    summary = await camille.wait_message("Merci de vérifier votre signalement")
    assert "12 Rue des Lilas 63000 Clermont-Ferrand" in summary["text"] and "voir sur la carte" in summary["text"]
    assert not COORDINATES.search(summary["text"])
    assert "Un tas de gravats sur le trottoir" in summary["text"]

    # « Modifier » fixes a typo without starting again.
    await camille.tap("✏️ Modifier la description", summary)
    await camille.wait_message("nouvelle description")
    await camille.send_text("Un tas de gravats devant le n° 12")
    summary = await camille.wait_message("Merci de vérifier votre signalement")
    assert "Un tas de gravats devant le n° 12" in summary["text"]
    await camille.tap("✅ Envoyer", summary)
    ref = REF.search((await camille.wait_message("PAL-"))["text"]).group(0)  # type: ignore[union-attr]
    report, photos = await stored(palabre.database_url, ref)
    assert (report.description, photos) == ("Un tas de gravats devant le n° 12", 1)
    assert (round(report.lat, 4), round(report.lon, 4)) == (45.7771, 3.0871)  # type: ignore[arg-type]
    assert ("search", {"q": "12 rue des Lilas", "limit": "1"}) in geocoder.queries

    # An image sent « as a file » is a photo; a position is named by its street.
    await camille.press("📍 Signaler un problème")
    await camille.wait_message("type de problème")
    await camille.tap("Voirie")
    await camille.wait_message("Lequel")
    await camille.tap("Nid-de-poule")
    await camille.wait_message("Vous pouvez aussi commencer par une photo")
    await camille.send_text("Un nid-de-poule profond")
    await camille.wait_message("Si vous pouvez, envoyez une photo")
    await camille.send_document("trou.jpg", SAMPLE_JPEG, mime_type="image/jpeg")
    await camille.wait_message("Photo 1 reçue")
    await camille.tap("✅ Terminé")
    await camille.wait_message("Où est-ce")
    await camille.send_location(45.7772, 3.0830)
    summary = await camille.wait_message("Merci de vérifier votre signalement")
    assert "8 Place de Jaude 63000 Clermont-Ferrand" in summary["text"] and not COORDINATES.search(summary["text"])
    await camille.tap("📍 Modifier le lieu", summary)
    await camille.wait_message("Où est-ce")
    await camille.send_venue(45.7790, 3.0850, "Marché Saint-Pierre", "Place Saint-Pierre")
    summary = await camille.wait_message("Merci de vérifier votre signalement")
    assert "Marché Saint-Pierre, Place Saint-Pierre" in summary["text"]
    await camille.tap("✅ Envoyer", summary)
    ref = REF.search((await camille.wait_message("PAL-"))["text"]).group(0)  # type: ignore[union-attr]
    report, photos = await stored(palabre.database_url, ref)
    assert (report.address, photos) == ("Marché Saint-Pierre, Place Saint-Pierre", 1)
    # The story taps faster than a person: Telegram's one-message-a-second pacing may answer 429, which the bot waits out.
    fake.assert_no_errors(allow=("Too Many Requests",))


async def test_without_a_photo_or_without_the_geocoder_the_resident_is_not_stuck(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    # Nothing listens on this address search: the typed address is kept as it was typed.
    bot = palabre.process(GEOCODER_URL="http://127.0.0.1:9", COMMUNE_PHONE="04 73 00 00 00")
    await import_categories(bot, tmp_path)
    await bot.start()
    lou = fake.user(5102, "Lou")
    await onboard(lou)
    await lou.press("📍 Signaler un problème")
    await lou.wait_message("type de problème")
    await lou.tap("Propreté")
    await lou.wait_message("Lequel")
    await lou.tap("Dépôt sauvage")
    await lou.wait_message("Décrivez")
    await lou.send_text("Des sacs abandonnés")
    needed = await lou.wait_message("Une photo est nécessaire")
    assert "Appelez la mairie au 04 73 00 00 00" in needed["text"]
    await lou.send_photo()
    await lou.wait_message("Photo 1 reçue")
    await lou.tap("✅ Terminé")
    await lou.wait_message("Où est-ce")
    await lou.send_text("3 impasse des Tilleuls")
    summary = await lou.wait_message("Merci de vérifier votre signalement")
    assert "3 impasse des Tilleuls" in summary["text"]
