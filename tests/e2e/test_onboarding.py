"""Onboarding stories against the real `palabre run` process and the fake Bot API server."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import make_engine, make_sessionmaker
from storage.models import Resident
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard

FRENCH_MENU = ["🗳 Consultations", "📍 Signaler un problème", "📋 Mes signalements", "⚙️ Paramètres", "❓ Aide", "🌱 Mon impact"]
ENGLISH_MENU = ["🗳 Consultations", "📍 Report a problem", "📋 My reports", "⚙️ Settings", "❓ Help", "🌱 My impact"]


async def load_resident(database_url: str, telegram_id: int) -> Resident | None:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    finally:
        await engine.dispose()


async def test_new_resident_is_onboarded_in_french(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    camille = fake.user(1001, "Camille", language_code="fr")
    await camille.send_command("/start")
    welcome = await camille.wait_message("Bienvenue sur Palabre")
    assert "Choisissez votre langue\u00a0:" in welcome["text"]
    await camille.tap("Français")
    notice = await camille.wait_message("Vos données")
    assert "Pourquoi\u00a0:" in notice["text"] and "/privacy" in notice["text"]
    await camille.tap("J’accepte")
    done = await camille.wait_message("C’est parti")
    assert camille.reply_keyboard() == FRENCH_MENU, done
    offer = await camille.wait_message("📝 Facultatif")  # the optional profile, skipped in one tap
    await camille.tap("Pas maintenant", message=offer)
    assert (await camille.wait_callback_answer())["text"].startswith("C’est noté")
    await camille.wait_message(lambda m: m["message_id"] == offer["message_id"] and not m.get("reply_markup"))  # its buttons go

    await camille.press("❓ Aide")
    assert "Comment fonctionne Palabre" in (await camille.wait_message("Palabre"))["text"]

    resident = await load_resident(palabre.database_url, 1001)
    assert resident is not None and resident.locale == "fr" and resident.consent_version is not None
    # The command menu is set for each language.
    descriptions = {language: [c["description"] for c in commands] for (scope, language), commands in fake.commands.items()}
    assert "Signaler un problème dans la rue" in descriptions["fr"]
    assert "Report a problem in the street" in descriptions["en"]


async def test_resident_who_chooses_english_gets_everything_in_english(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    alex = fake.user(1002, "Alex", language_code="fr")
    await alex.send_command("/start")
    await alex.wait_message("Bienvenue")
    await alex.tap("English")
    notice = await alex.wait_message("Your data")
    assert "Why:" in notice["text"]
    await alex.tap("I agree")
    await alex.wait_message("You're all set")
    await alex.wait_message("📝 Optional")
    assert alex.reply_keyboard() == ENGLISH_MENU
    await alex.press("⚙️ Settings")
    assert "Language: 🇬🇧 English" in (await alex.wait_message("Settings"))["text"]
    await alex.send_text("what is this?")
    not_understood = await alex.wait_message()
    assert not_understood["text"] == "I did not understand your message. What would you like to do?"
    assert [row[0]["text"] for row in not_understood["reply_markup"]["inline_keyboard"]] == [
        "📍 Report a problem",
        "💬 Write to the town hall",
        "🗳 Consultations",
    ]


async def test_consent_step_comes_back_after_a_restart(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    bot = await palabre.start()
    lou = fake.user(1003, "Lou")
    await lou.send_command("/start")
    await lou.wait_message("Bienvenue")
    await lou.tap("Français")
    await lou.wait_message("Vos données")

    await bot.restart()

    await lou.send_text("bonjour")
    reminder = await lou.wait_message("Pour continuer")
    assert "J’accepte" in str(reminder["reply_markup"])
    await lou.tap("J’accepte", message=reminder)
    await lou.wait_message("C’est parti")
    assert lou.reply_keyboard() == FRENCH_MENU


async def test_deep_link_payload_survives_onboarding(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    sam = fake.user(1004, "Sam")
    await sam.send_command("/start c_something")
    await sam.wait_message("Bienvenue")
    await sam.tap("Français")
    await sam.wait_message("Vos données")
    await sam.tap("J’accepte")
    await sam.wait_message("C’est parti")
    opened = await sam.wait_message("something")
    assert "consultation" in opened["text"]


async def test_forged_deep_link_payload_is_ignored(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    eve = fake.user(1005, "Eve")
    await eve.send_command("/start c_<script>" + "x" * 80)
    await eve.wait_message("Bienvenue")
    await eve.tap("Français")
    await eve.wait_message("Vos données")
    await eve.tap("J’accepte")
    await eve.wait_message("C’est parti")
    await eve.wait_idle()
    assert not any("script" in (m.get("text") or "") for m in eve.messages)


async def test_admin_command_is_refused_to_others(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start(ADMIN_IDS="1999")
    max_ = fake.user(1006, "Max")
    await onboard(max_)
    await max_.send_command("/grant 1006 official")
    refusal = await max_.wait_message()
    assert refusal["text"] == "Désolé, cette commande est réservée aux administrateurs."

    admin = fake.user(1999, "Admin")
    await onboard(admin)
    await admin.send_command("/grant 1006 official")
    assert (await admin.wait_message())["text"].startswith("✅ 1006 est maintenant «\u202félu ou chargé de participation\u202f».")


async def test_wrong_input_where_a_button_is_expected_changes_nothing(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    await palabre.start()
    noa = fake.user(1007, "Noa")
    await noa.send_command("/start")
    await noa.wait_message("Bienvenue")
    for send in (noa.send_sticker(), noa.send_photo(), noa.send_text("é" * 4000)):
        await send
        answer = await noa.wait_message()
        assert answer["text"] == "Merci de choisir votre langue avec les boutons ci-dessous."
        assert "Français" in str(answer["reply_markup"])
    resident = await load_resident(palabre.database_url, 1007)
    assert resident is not None and resident.locale is None and resident.consent_at is None
    # The flow goes on from where it was.
    await noa.tap("Français")
    await noa.wait_message("Vos données")
    await noa.send_text("x" * 4000)
    assert "Pour continuer" in (await noa.wait_message())["text"]
    resident = await load_resident(palabre.database_url, 1007)
    assert resident is not None and resident.consent_at is None


async def test_logs_carry_no_message_text(fake: FakeTelegram, palabre: PalabreFactory) -> None:
    bot = await palabre.start()
    zoe = fake.user(1008, "Zoé")
    await onboard(zoe)
    await zoe.send_text("mon adresse est 12 rue des Lilas")
    await zoe.wait_message()
    await bot.stop()
    assert "update id=" in bot.logs  # the structured line is there…
    assert "rue des Lilas" not in bot.logs and "Zoé" not in bot.logs  # …without what was written
