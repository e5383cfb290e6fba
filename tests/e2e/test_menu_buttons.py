"""Menu buttons always do what they say, even while the bot waits for typed text (issue 15, item 2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.db import make_engine, make_sessionmaker
from storage.models import ConsultationAnswer, Feedback, Report
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, import_categories, onboard
from tests.e2e.test_consultations import import_file, with_times

TEXT_QUESTION = """questions:
  - id: idee
    type: text
    max_length: 300
    required: true
    prompt: {fr: "Votre idée pour la place ?", en: "Your idea for the square?"}
"""


async def count(database_url: str, column: object) -> int:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return int(await session.scalar(select(func.count(column))) or 0)
    finally:
        await engine.dispose()


async def test_menu_buttons_open_their_item_instead_of_being_saved_as_words(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7), questions=TEXT_QUESTION))
    bot = palabre.process()
    await import_categories(bot, tmp_path)
    await bot.start()
    lea = fake.user(3101, "Léa")
    await onboard(lea)

    # A text question waits for words: « 🌱 Mon impact » shows the impact, it is not the answer.
    await lea.press("🗳 Consultations")
    await lea.wait_message("Les consultations ouvertes pour vous")
    await lea.tap("Réaménagement de la place du marché")
    await lea.wait_message("Votre idée pour la place")
    await lea.press("🌱 Mon impact")
    await lea.wait_message("Votre impact")

    # A report waits for its description: « 📋 Mes signalements » lists the reports.
    await lea.press("📍 Signaler un problème")
    await lea.wait_message("Signaler un problème")
    await lea.tap("Voirie")
    await lea.wait_message("Lequel")
    await lea.tap("Nid-de-poule")
    await lea.wait_message("Décrivez")
    await lea.press("📋 Mes signalements")
    await lea.wait_message("aucun signalement")

    # /feedback waits for a message to the mairie: « 🌱 Mon impact » is not sent to it.
    await lea.send_command("/feedback")
    await lea.wait_message("💬")
    await lea.press("🌱 Mon impact")
    await lea.wait_message("Votre impact")

    # And the words typed next are not taken for any of those flows.
    await lea.send_text("Bonjour")
    await lea.wait_message("compris")
    assert await count(palabre.database_url, ConsultationAnswer.response_id) == 0
    assert await count(palabre.database_url, Report.id) == 0
    assert await count(palabre.database_url, Feedback.id) == 0
    fake.assert_no_errors()
