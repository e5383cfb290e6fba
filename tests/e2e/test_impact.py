"""Issue 8 end to end: /impact after a fixed report, feedback and its answer, satisfaction once per period."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from config.settings import Settings
from participation.privacy import NOTICE_VERSION
from participation.satisfaction import period_of, period_start
from storage.db import make_engine, make_sessionmaker
from storage.models import Consultation, ConsultationResponse, Report, ReportCategory, Resident, SatisfactionAnswer
from storage.types import utcnow
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, import_categories, onboard
from tests.e2e.test_broadcasts import open_chats, palabre_cli

PAUSE = 0.25  # people take a moment between taps (the fake enforces Telegram's rate limits)


async def test_impact_shows_the_answered_consultation_and_the_fixed_report(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    bot = palabre.process()
    await import_categories(bot, tmp_path)
    await bot.start()
    camille = fake.user(820_001)
    await onboard(camille)
    # Her answered consultation (closed) and her report, as the consultation and report flows leave them.
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            me = (await session.scalars(select(Resident).where(Resident.telegram_id == 820_001))).one()
            now = utcnow()
            consultation = Consultation(
                slug="place-du-marche",
                title={"fr": "Réaménagement de la place du marché"},
                status="closed",
                opens_at=now - timedelta(days=20),
                closes_at=now - timedelta(days=5),
            )
            session.add(consultation)
            await session.flush()
            session.add(
                ConsultationResponse(
                    consultation_id=consultation.id, resident_id=me.id, status="submitted", submitted_at=now - timedelta(days=6)
                )
            )  # type: ignore[arg-type]
            category = (await session.scalars(select(ReportCategory).where(ReportCategory.code == "voirie-chaussee"))).one()
            session.add(
                Report(
                    ref="PAL-2026-000042",
                    category_id=category.id,
                    resident_id=me.id,
                    description="Nid-de-poule rue Pasteur",
                    created_at=now - timedelta(days=3),
                )
            )  # type: ignore[arg-type]
    finally:
        await engine.dispose()
    await palabre_cli(bot, "report", "status", "PAL-2026-000042", "fixed", "--note", "Rebouché ce matin")
    await camille.wait_message("PAL-2026-000042", timeout=20)
    await palabre_cli(bot, "publish", "place-du-marche", "--decision", "La place devient piétonne le samedi.", "--yes")
    await camille.wait_message("Ce que le conseil a décidé", timeout=30)

    await asyncio.sleep(PAUSE)
    await camille.press("🌱 Mon impact")
    text = (await camille.wait_message("Votre impact"))["text"]
    assert (
        "Vous avez répondu à 1 consultation. 1 a déjà abouti à une décision du conseil. Vous avez fait 1 signalement\u00a0: 1 est résolu."
        in text
    )
    assert (
        "✅ Réaménagement de la place du marché\u00a0: résultats publiés\u202f; le conseil a décidé\u00a0: La place devient piétonne le samedi."
        in text
    )
    assert "PAL-2026-000042 · Nid-de-poule (votre signalement)\u00a0: ✅ Résolu — clos en 3 jours" in text
    fake.assert_no_errors()


async def test_feedback_reaches_the_officials_and_their_answer_the_resident(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    bot = palabre.process()
    await palabre_cli(bot, "role", "grant", "820101", "official")
    await bot.start()
    official, anne = fake.user(820_101), fake.user(820_102, language_code="en")
    await onboard(official)
    await onboard(anne, "en")

    await anne.send_command("/feedback")
    await anne.wait_message("An idea, a remark about this service?")
    await asyncio.sleep(PAUSE)
    await anne.send_text("Could the bot remind me of council meetings?")
    await anne.wait_message("Thank you! Your message was passed on")

    notice = await official.wait_message("Nouvel avis", timeout=20)
    assert notice["text"].endswith("Could the bot remind me of council meetings?")
    await asyncio.sleep(PAUSE)
    await official.tap("✍️ Répondre", message=notice)
    await official.wait_message("Écrivez votre réponse")
    await asyncio.sleep(PAUSE)
    await official.send_text("Oui, dès janvier : c’est prévu.")
    await official.wait_message("Votre réponse est enregistrée")

    answer = await anne.wait_message("The town hall answered your feedback", timeout=20)
    assert answer["text"].endswith("Oui, dès janvier : c’est prévu.")
    fake.assert_no_errors()


async def test_satisfaction_question_goes_once_per_period_across_a_restart(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    marie, john, quiet = 820_201, 820_202, 820_203
    bot = palabre.process()
    await palabre_cli(bot, "db", "upgrade")
    open_chats(fake, (marie, john, quiet))
    interval = Settings(_env_file=None).satisfaction_interval_days  # type: ignore[call-arg]
    now = utcnow()
    before = period_start(period_of(now, interval), interval) - timedelta(days=10)
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            for telegram_id, locale, notifications in ((marie, "fr", True), (john, "en", True), (quiet, "fr", False)):
                session.add(
                    Resident(
                        telegram_id=telegram_id,
                        locale=locale,
                        consent_at=before,
                        consent_version=NOTICE_VERSION,
                        last_active_at=now - timedelta(days=3),
                        notifications_enabled=notifications,
                    )
                )
    finally:
        await engine.dispose()

    await bot.start()
    question = await fake.user(marie).wait_message("Une petite question", timeout=30)
    assert "Ce service vous est-il utile\u202f?" in question["text"]
    await fake.user(john).wait_message("A quick question", timeout=30)
    await asyncio.sleep(PAUSE)
    await fake.user(marie).tap("4", message=question)
    await fake.user(marie).wait_message("Voulez-vous ajouter un commentaire")

    await bot.restart()
    await bot.caught_up()  # whatever the new start would ask again has been asked

    def asked(chat_id: int) -> int:
        return sum(
            1
            for m in fake.sent_to(chat_id)
            if (m.get("text") or "").startswith(("📊 <b>Une petite", "📊 Une petite", "📊 A quick"))
        )

    assert [asked(marie), asked(john), asked(quiet)] == [1, 1, 0]
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            scores = list(await session.scalars(select(SatisfactionAnswer.score)))
    finally:
        await engine.dispose()
    assert scores == [4]
    fake.assert_no_errors()
