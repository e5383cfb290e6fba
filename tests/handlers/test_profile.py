"""The optional profile: the age bracket in /settings, and the offer right after onboarding."""

from __future__ import annotations

from aiogram.types import ReplyKeyboardMarkup
from sqlalchemy import select

from handlers.callbacks import AgeBracketCallback, ConsentCallback, LanguageCallback, NeighbourhoodCallback, SettingsCallback
from storage.db import SessionMaker
from storage.models import Resident
from tests.handlers.notifications_helpers import alerts, buttons, import_lists, onboard

BRACKETS = ["15 à 29 ans", "30 à 44 ans", "45 à 59 ans", "60 à 74 ans", "75 ans et plus", "Je préfère ne pas le dire"]
FRENCH_MENU = ["🗳 Consultations", "📍 Signaler un problème", "📋 Mes signalements", "⚙️ Paramètres", "❓ Aide", "🌱 Mon impact"]


async def profile(sessionmaker: SessionMaker, telegram_id: int) -> tuple[str | None, str | None]:
    async with sessionmaker() as session:
        row = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
    assert row is not None
    return row.neighbourhood, row.age_bracket


def reply_keyboard(person) -> list[str]:  # type: ignore[no-untyped-def]
    """The texts of the reply keyboard (the main menu) last sent to `person`."""
    for request in reversed(person.session.requests):
        markup = getattr(request, "reply_markup", None)
        if getattr(request, "chat_id", None) == person.user_id and isinstance(markup, ReplyKeyboardMarkup):
            return [button.text for row in markup.keyboard for button in row]
    return []


async def test_resident_picks_an_age_bracket_sees_it_and_can_take_it_back(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(3101)
    await onboard(camille)
    await camille.send("/settings")
    assert "Tranche d’âge\u00a0: non indiquée" in camille.last_reply()
    assert ("🎂 Ma tranche d’âge", SettingsCallback(action="age").pack()) in buttons(camille)

    await camille.tap(SettingsCallback(action="age").pack())
    assert camille.last_reply() == "🎂 Quelle est votre tranche d’âge\u202f?"
    assert [text for text, _ in buttons(camille)] == BRACKETS
    await camille.tap(AgeBracketCallback(code="30-44").pack())
    assert "Tranche d’âge\u00a0: 30 à 44 ans" in camille.last_reply()
    assert await profile(sessionmaker, 3101) == (None, "30-44")

    await camille.tap(SettingsCallback(action="age").pack())  # the current choice carries a ✓
    assert [text for text, _ in buttons(camille)] == [
        "15 à 29 ans",
        "✓ 30 à 44 ans",
        "45 à 59 ans",
        "60 à 74 ans",
        "75 ans et plus",
        "Je préfère ne pas le dire",
    ]
    await camille.tap(AgeBracketCallback(code="-").pack())  # "rather not say" takes it back
    assert "Tranche d’âge\u00a0: non indiquée" in camille.last_reply()
    assert await profile(sessionmaker, 3101) == (None, None)


async def test_an_english_speaker_reads_the_brackets_in_english(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    alex = resident_factory(3102, language_code="en")
    await onboard(alex, "en")
    await alex.send("/settings")
    await alex.tap(SettingsCallback(action="age").pack())
    assert [text for text, _ in buttons(alex)][-2:] == ["75 and over", "I'd rather not say"]
    await alex.tap(AgeBracketCallback(code="75-plus").pack())
    assert "Age bracket: 75 and over" in alex.last_reply()


async def test_a_forged_or_stale_age_button_changes_nothing_and_gets_an_answer(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(3103)
    await onboard(camille)
    await camille.send("/settings")
    await camille.tap(AgeBracketCallback(code="60-74").pack())
    sent = len(camille.replies())
    for forged in (
        AgeBracketCallback(code="12-14").pack(),  # no such bracket
        AgeBracketCallback(code="x" * 60).pack(),  # still within Telegram's 64 bytes
        "ag:60-74:extra",  # tampered: one field too many
        "ag",
    ):
        await camille.tap(forged)
    assert alerts(camille)[-4:] == ["Ce bouton n’est plus valable."] * 4
    assert len(camille.replies()) == sent  # no settings redrawn, no message
    assert await profile(sessionmaker, 3103) == (None, "60-74")


async def test_someone_who_did_not_consent_cannot_set_an_age_bracket(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    eve = resident_factory(3104)
    await eve.send("/start")
    await eve.tap(LanguageCallback(code="fr").pack())
    await eve.tap(AgeBracketCallback(code="30-44").pack())
    assert alerts(eve)[-1] == "Ce bouton n’est plus valable."
    assert await profile(sessionmaker, 3104) == (None, None)


async def test_onboarding_offers_the_profile_and_one_tap_skips_it(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    camille = resident_factory(3105)
    await onboard(camille)
    welcome, offer = camille.replies()[-2:]
    assert welcome.startswith("🎉 C’est parti")
    assert reply_keyboard(camille) == FRENCH_MENU  # the main menu is there, offer or not
    assert offer == (
        "📝 Facultatif\u00a0: indiquez votre quartier et votre âge. Vous recevrez les nouvelles de votre quartier, "
        "et la mairie saura si tous les habitants sont représentés."
    )
    assert buttons(camille) == [
        ("🏘 Mon quartier", SettingsCallback(action="nbh").pack()),
        ("🎂 Ma tranche d’âge", SettingsCallback(action="age").pack()),
        ("Pas maintenant", SettingsCallback(action="later").pack()),
    ]
    await camille.tap(SettingsCallback(action="later").pack())
    assert alerts(camille)[-1] == "C’est noté. Vous pourrez le faire quand vous voudrez dans ⚙️ Paramètres."
    edit = camille.session.requests[-1]
    assert type(edit).__name__ == "EditMessageReplyMarkup" and edit.reply_markup is None  # the offer's buttons go
    assert await profile(sessionmaker, 3105) == (None, None)
    await camille.send("⚙️ Paramètres")
    assert camille.last_reply().startswith("⚙️ <b>Paramètres</b>")


async def test_the_offer_can_be_ignored_or_followed_later(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    camille = resident_factory(3106)
    await onboard(camille)
    await camille.send("❓ Aide")  # no question pending: the menu works at once
    assert "Comment fonctionne Palabre" in camille.last_reply()
    # Later, the offer's buttons still lead to the choices.
    await camille.tap(SettingsCallback(action="nbh").pack())
    await camille.tap(NeighbourhoodCallback(code="nord").pack())
    await camille.tap(SettingsCallback(action="age").pack())
    await camille.tap(AgeBracketCallback(code="45-59").pack())
    assert "Quartier\u00a0: Nord" in camille.last_reply() and "Tranche d’âge\u00a0: 45 à 59 ans" in camille.last_reply()
    assert await profile(sessionmaker, 3106) == ("nord", "45-59")


async def test_the_offer_shows_only_what_the_commune_and_the_resident_leave_open(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    camille = resident_factory(3107)
    await onboard(camille)  # no neighbourhoods listed: only the age bracket is offered
    assert (
        camille.last_reply() == "📝 Facultatif\u00a0: indiquez votre âge. La mairie saura si tous les habitants sont représentés."
    )
    assert [text for text, _ in buttons(camille)] == ["🎂 Ma tranche d’âge", "Pas maintenant"]
    await camille.tap(SettingsCallback(action="age").pack())
    await camille.tap(AgeBracketCallback(code="15-29").pack())
    async with sessionmaker.begin() as session:  # a new notice asks for her consent again
        row = await session.scalar(select(Resident).where(Resident.telegram_id == 3107))
        assert row is not None
        row.consent_version = "2020-01"
    await camille.send("/start")
    await camille.tap(ConsentCallback(accept=True).pack())
    assert camille.last_reply().startswith("🎉 C’est parti")  # nothing left to offer


AGE_BUTTONS = [
    ("15 à 29 ans", AgeBracketCallback(code="15-29").pack()),
    ("30 à 44 ans", AgeBracketCallback(code="30-44").pack()),
    ("45 à 59 ans", AgeBracketCallback(code="45-59").pack()),
    ("60 à 74 ans", AgeBracketCallback(code="60-74").pack()),
    ("75 ans et plus", AgeBracketCallback(code="75-plus").pack()),
    ("Pas maintenant", SettingsCallback(action="later").pack()),
]


async def test_a_chosen_neighbourhood_is_confirmed_and_the_age_bracket_asked_next(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    camille = resident_factory(3108)
    await onboard(camille)
    await camille.tap(SettingsCallback(action="nbh").pack())  # from the offer after onboarding
    await camille.tap(NeighbourhoodCallback(code="centre").pack())
    assert camille.last_reply() == "✅ Quartier enregistré\u00a0: Centre-ville. Et votre tranche d’âge\u202f?"
    assert buttons(camille) == AGE_BUTTONS
    await camille.tap(AgeBracketCallback(code="30-44").pack())
    assert "Tranche d’âge\u00a0: 30 à 44 ans" in camille.last_reply()
    assert await profile(sessionmaker, 3108) == ("centre", "30-44")

    # The age bracket known, a new neighbourhood from Settings shows the settings as they are now.
    await camille.send("/settings")
    await camille.tap(SettingsCallback(action="nbh").pack())
    await camille.tap(NeighbourhoodCallback(code="nord").pack())
    assert camille.last_reply().startswith("⚙️ <b>Paramètres</b>") and "Quartier\u00a0: Nord" in camille.last_reply()


async def test_from_settings_too_the_age_bracket_follows_the_neighbourhood_and_can_wait(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    alex = resident_factory(3109, language_code="en")
    await onboard(alex, "en")
    await alex.send("/settings")
    await alex.tap(SettingsCallback(action="nbh").pack())
    await alex.tap(NeighbourhoodCallback(code="centre").pack())
    assert alex.last_reply() == "✅ Neighbourhood saved: City centre. And your age bracket?"
    assert [text for text, _ in buttons(alex)] == ["15 to 29", "30 to 44", "45 to 59", "60 to 74", "75 and over", "Not now"]
    await alex.tap(SettingsCallback(action="later").pack())
    assert alerts(alex)[-1] == "All right. You can do it any time in ⚙️ Settings."
    assert await profile(sessionmaker, 3109) == ("centre", None)


def document_caption(person) -> str:  # type: ignore[no-untyped-def]
    return [r for r in person.session.requests if type(r).__name__ == "SendDocument"][-1].caption


async def test_mydata_sums_the_file_up_in_plain_words(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    camille = resident_factory(3110)
    await onboard(camille)
    await camille.tap(NeighbourhoodCallback(code="centre").pack())
    await camille.send("/mesdonnees")
    assert document_caption(camille) == (
        "📄 Voici tout ce que nous gardons sur vous (fichier technique, lisible sur ordinateur).\n"
        "En bref\u00a0: 0 consultation, 0 signalement, quartier Centre-ville.\nPour tout effacer\u00a0: /oublier"
    )
    alex = resident_factory(3111, language_code="en")
    await onboard(alex, "en")
    await alex.send("/mydata")
    assert document_caption(alex) == (
        "📄 Here is everything we keep about you (a technical file, readable on a computer).\n"
        "In short: 0 consultations, 0 reports, no neighbourhood given.\nTo erase it all: /forget"
    )
