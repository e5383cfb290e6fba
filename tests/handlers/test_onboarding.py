"""Onboarding through the real Dispatcher: language, consent, main menu, refusals."""

from __future__ import annotations

from sqlalchemy import select

from handlers.callbacks import ConsentCallback, LanguageCallback
from participation.privacy import NOTICE_VERSION
from storage.db import SessionMaker
from storage.models import Resident as ResidentRow
from storage.models import RoleGrant


async def resident_row(sessionmaker: SessionMaker, telegram_id: int) -> ResidentRow | None:
    async with sessionmaker() as session:
        return await session.scalar(select(ResidentRow).where(ResidentRow.telegram_id == telegram_id))


async def test_onboarding_records_language_and_consent(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(2001)
    await camille.send("/start")
    assert "Choisissez votre langue" in camille.last_reply()
    await camille.tap(LanguageCallback(code="fr").pack())
    assert "Vos données" in camille.last_reply()
    row = await resident_row(sessionmaker, 2001)
    assert row is not None and row.locale == "fr" and row.consent_at is None
    await camille.tap(ConsentCallback(accept=True).pack())
    assert "C’est parti" in camille.replies()[-2]  # then the optional profile is offered
    row = await resident_row(sessionmaker, 2001)
    assert row is not None and row.consent_version == NOTICE_VERSION and row.consent_at is not None


async def test_declining_stores_no_consent_and_features_stay_closed(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    alex = resident_factory(2002, language_code="en")
    await alex.send("/start")
    assert "Which language" in alex.last_reply()  # Telegram's hint is used before a choice
    await alex.tap(LanguageCallback(code="en").pack())
    await alex.tap(ConsentCallback(accept=False).pack())
    assert "nothing but your Telegram id" in alex.last_reply()
    await alex.send("/settings")  # a feature: onboarding comes back instead
    assert "Your data" in alex.last_reply()
    row = await resident_row(sessionmaker, 2002)
    assert row is not None and row.consent_at is None


async def test_forged_language_code_changes_nothing(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(2003)
    await camille.send("/start")
    await camille.tap("lang:xx")
    await camille.tap("not-a-callback-of-ours")
    answers = [m for m in camille.session.requests if type(m).__name__ == "AnswerCallbackQuery"]
    assert [a.text for a in answers] == ["Ce bouton n’est plus valable."] * 2
    row = await resident_row(sessionmaker, 2003)
    assert row is not None and row.locale is None


async def test_grant_needs_admin_and_works_for_admin(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    for user_id in (1, 2004):
        person = resident_factory(user_id)
        await person.send("/start")
        await person.tap(LanguageCallback(code="fr").pack())
        await person.tap(ConsentCallback(accept=True).pack())
    intruder, admin = resident_factory(2004), resident_factory(1)
    await intruder.send("/grant 2004 official")
    assert intruder.last_reply() == "Désolé, cette commande est réservée aux administrateurs."
    await admin.send("/grant 2005 official")
    assert admin.last_reply().startswith("✅ 2005 est maintenant «\u202félu ou chargé de participation\u202f».")
    await admin.send("/grant 2005 mayor")
    assert admin.last_reply() == "Rôle inconnu. Choisissez agent ou official."
    async with sessionmaker() as session:
        grants = (await session.scalars(select(RoleGrant.telegram_id))).all()
    assert grants == [2005]


async def test_a_new_notice_version_asks_for_consent_again(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(2010)
    await camille.send("/start")
    await camille.tap(LanguageCallback(code="fr").pack())
    await camille.tap(ConsentCallback(accept=True).pack())
    async with sessionmaker.begin() as session:  # she consented to an older notice
        row = await session.scalar(select(ResidentRow).where(ResidentRow.telegram_id == 2010))
        row.consent_version = "2020-01"
    await camille.send("/settings")
    assert "Vos données" in camille.last_reply()  # the notice again, not the settings
    await camille.tap(ConsentCallback(accept=True).pack())
    row = await resident_row(sessionmaker, 2010)
    assert row is not None and row.consent_version == NOTICE_VERSION


async def test_a_message_not_understood_offers_what_people_usually_want(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from notices.menu import MenuPick
    from tests.handlers.notifications_helpers import buttons, onboard

    camille = resident_factory(2010)
    await onboard(camille)
    await camille.send("Bonjour, il y a un trou dans ma rue")
    assert camille.last_reply() == "Je n’ai pas compris votre message. Que voulez-vous faire\u202f?"
    assert buttons(camille) == [
        ("📍 Signaler un problème", MenuPick(item="report").pack()),
        ("💬 Écrire à la mairie", MenuPick(item="feedback").pack()),
        ("🗳 Consultations", MenuPick(item="consultations").pack()),
    ]
    await camille.tap(MenuPick(item="feedback").pack())
    assert camille.last_reply().startswith("💬 ")  # the /feedback prompt: her next message goes to the town hall
    await camille.send("Il y a un trou dans ma rue, 3 rue des Lilas")
    assert "Votre message est transmis à la mairie" in camille.last_reply()
    await camille.send("???")
    await camille.tap(MenuPick(item="consultations").pack())
    assert "consultation" in camille.last_reply().lower()

    alex = resident_factory(2011, language_code="en")
    await onboard(alex, "en")
    await alex.send_sticker()
    assert alex.last_reply() == "I did not understand your message. What would you like to do?"
    assert [text for text, _ in buttons(alex)] == ["📍 Report a problem", "💬 Write to the town hall", "🗳 Consultations"]
