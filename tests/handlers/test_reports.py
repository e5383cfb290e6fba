"""Reports through the real Dispatcher: the flow, duplicates, refusals, the agents' group, "fixed?"."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, EditMessageText, GetFile, SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, File, InlineKeyboardMarkup, Message, Update, User
from sqlalchemy import func, select

from bot.app import build_dispatcher
from bot.i18n import build_i18n
from config.settings import Settings
from handlers.callbacks import ConsentCallback, LanguageCallback
from notices.reports import AgentAction, ReportFixed, ReportFollow, ReportNotices, ReportStep
from participation.audit import Source
from participation.report_cards import CARD_EDIT_KIND, REPLY_MARKER
from participation.report_desk import assign
from participation.roles import Role, grant_role
from storage.db import SessionMaker
from storage.models import OutboxMessage, Report, ReportFollower, ReportPhoto, ReportStatusChange
from tests.handlers.conftest import TOKEN, RecordingSession, Resident
from tests.participation.reports_support import load_categories

AGENTS_CHAT = -1001234
AGENT_ID = 4242
LAT, LON = 45.7772, 3.0870


class FileSession(RecordingSession):
    """Also serves getFile and file downloads, like Telegram."""

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if isinstance(method, GetFile):
            self.requests.append(method)
            return File(file_id=method.file_id, file_unique_id="u-" + method.file_id, file_path=f"photos/{method.file_id}.jpg")
        result = await super().make_request(bot, method, timeout)
        if isinstance(result, Message):
            self.last_message_id = result.message_id
        return result

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def,override]
        yield b"\xff\xd8 a jpeg \xff\xd9"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(bot_token=TOKEN, admin_ids=[1], agents_chat_id=AGENTS_CHAT, media_dir=tmp_path / "media", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def dispatcher(settings: Settings, sessionmaker: SessionMaker) -> AsyncIterator[tuple[Dispatcher, Bot]]:
    bot = Bot(token=TOKEN, session=FileSession())
    async with sessionmaker.begin() as session:
        await load_categories(session)
        await grant_role(session, AGENT_ID, Role.AGENT, granted_by=None, source=Source.CLI)
    yield build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale)), bot


class Reporter(Resident):
    async def onboard(self, locale: str = "fr") -> None:
        await self.send("/start")
        await self.tap(LanguageCallback(code=locale).pack())
        await self.tap(ConsentCallback(accept=True).pack())

    async def send_photo(self, file_id: str) -> None:
        await self.feed(
            message=self._message(
                photo=[
                    {"file_id": file_id + "-small", "file_unique_id": file_id + "s", "width": 90, "height": 90},
                    {"file_id": file_id, "file_unique_id": file_id + "u", "width": 1280, "height": 960},
                ]
            )
        )

    async def send_location(self, lat: float, lon: float) -> None:
        await self.feed(message=self._message(location={"latitude": lat, "longitude": lon}))

    def alerts(self) -> list[str]:
        return [m.text for m in self.session.requests if isinstance(m, AnswerCallbackQuery) and m.text]


class GroupMember:
    """Someone in the agents' group."""

    _ids = itertools.count(1)

    def __init__(self, dp: Dispatcher, bot: Bot, user_id: int) -> None:
        self.dp, self.bot = dp, bot
        self.user = User(id=user_id, is_bot=False, first_name="Agent", language_code="en")
        self.chat = Chat(id=AGENTS_CHAT, type="supergroup", title="Agents")

    async def tap(self, data: str) -> None:
        message = Message(message_id=1, date=datetime.now(UTC), chat=self.chat, text="(report)")
        await self.dp.feed_update(
            self.bot,
            Update(
                update_id=next(self._ids) + 100_000,
                callback_query=CallbackQuery(
                    id=str(next(self._ids)), from_user=self.user, chat_instance="g", message=message, data=data
                ),
            ),
        )

    async def reply(self, to_message_id: int, text: str) -> None:
        original = Message(message_id=to_message_id, date=datetime.now(UTC), chat=self.chat, text="prompt")
        message = Message(
            message_id=next(self._ids) + 5000,
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            text=text,
            reply_to_message=original,
        )
        await self.dp.feed_update(self.bot, Update(update_id=next(self._ids) + 100_000, message=message))


@pytest.fixture
def people(dispatcher: tuple[Dispatcher, Bot]):  # type: ignore[no-untyped-def]
    dp, bot = dispatcher
    return lambda user_id, language="fr": Reporter(dp, bot, user_id, language)


def step(action: str, value: int = 0) -> str:
    return ReportStep(action=action, value=value).pack()


async def category_id(sessionmaker: SessionMaker, code: str) -> int:
    from storage.models import ReportCategory

    async with sessionmaker() as session:
        return int(await session.scalar(select(ReportCategory.id).where(ReportCategory.code == code)))  # type: ignore[arg-type]


async def file_pothole(person: Reporter, sessionmaker: SessionMaker, lat: float = LAT, lon: float = LON) -> None:
    await person.send("/report")
    await person.tap(step("group", 0))  # Voirie / Roads
    await person.tap(step("cat", await category_id(sessionmaker, "voirie-chaussee")))
    await person.send("Un nid-de-poule profond devant l’école")
    await person.send_photo("photo-1")
    await person.tap(step("photos_done"))
    await person.send_location(lat, lon)


async def outbox(sessionmaker: SessionMaker, chat_id: int) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id))
        )


async def test_resident_reports_a_pothole_with_photo_and_location(people, sessionmaker, settings) -> None:  # type: ignore[no-untyped-def]
    camille = people(3001)
    await camille.onboard()
    await camille.send("/report")
    assert "De quel type de problème s’agit-il\u202f?" in camille.last_reply()
    await file_pothole(camille, sessionmaker)
    assert "Merci de vérifier votre signalement" in camille.last_reply()
    await camille.tap(step("send"))
    reply = camille.last_reply()
    assert "Merci\u202f! Votre signalement porte le numéro" in reply

    async with sessionmaker() as session:
        report = await session.scalar(select(Report))
        photo = await session.scalar(select(ReportPhoto))
    assert report is not None and report.ref in reply
    assert (report.lat, report.lon, report.status) == (LAT, LON, "new")
    assert photo is not None and photo.file_id == "photo-1"  # the largest size, Telegram's id kept
    assert photo.path is not None and Path(photo.path) == settings.media_dir / report.ref / "1.jpg"
    assert Path(photo.path).read_bytes().startswith(b"\xff\xd8")

    [post] = await outbox(sessionmaker, AGENTS_CHAT)
    assert post.method == "sendPhoto" and post.payload["photo"] == "photo-1"
    assert report.ref in post.payload["caption"] and "nid-de-poule profond" in post.payload["caption"]
    assert len(post.payload["caption"]) <= 1024
    buttons = [b["callback_data"] for row in post.payload["reply_markup"]["inline_keyboard"] for b in row]
    assert AgentAction(action="ack", report_id=report.id).pack() in buttons  # type: ignore[arg-type]


async def test_neighbour_is_offered_the_nearby_report_and_follows_it(people, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    camille, alex = people(3011), people(3012, "en")
    await camille.onboard()
    await alex.onboard("en")
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    await file_pothole(alex, sessionmaker, LAT + 0.0002, LON)  # about 22 m away
    assert "Is it one of these?" in alex.last_reply()
    async with sessionmaker() as session:
        first = await session.scalar(select(Report))
    assert first is not None and first.ref in alex.last_reply()
    # Another resident's words are never shown (issue 13): category, place and status only.
    assert "nid-de-poule profond" not in alex.last_reply()
    assert "Roads › Pothole" in alex.last_reply() and "New" in alex.last_reply() and "openstreetmap.org" in alex.last_reply()
    await alex.tap(ReportFollow(report_id=first.id).pack())  # type: ignore[arg-type]
    assert f"You now follow report {first.ref}" in alex.last_reply()
    await alex.tap(ReportFollow(report_id=first.id).pack())  # a double tap changes nothing
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
        assert await session.scalar(select(func.count()).select_from(ReportFollower)) == 1
    await alex.send("/myreports")
    assert first.ref in alex.last_reply() and "followed" in alex.last_reply()


async def test_refusals_are_clear_and_store_nothing(people, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    camille = people(3021)
    await camille.onboard()
    await camille.send("/report")
    await camille.tap(step("group", 1))  # Propreté: photo required
    await camille.tap(step("cat", await category_id(sessionmaker, "proprete-depot")))
    await camille.send_sticker()
    assert camille.last_reply() == "Décrivez le problème en quelques mots, ou envoyez une photo."
    await camille.send("x" * 2001)
    assert camille.last_reply() == (
        "Votre description est trop longue (2001 caractères sur 2000 possibles). Raccourcissez-la puis renvoyez-la."
    )
    await camille.send("Des sacs abandonnés")
    await camille.tap(step("photos_done"))  # no photo, but one is required
    assert (
        camille.alerts()[-1]
        == "📷 Une photo est nécessaire pour ce type de problème. Pas de photo\u202f? Contactez directement votre mairie."
    )
    await camille.send_photo("p")
    await camille.tap(step("photos_done"))
    await camille.send("⏭ Passer")  # the place is required here
    assert "Le lieu est obligatoire" in camille.last_reply()
    await camille.send("x" * 301)
    assert "Cette adresse est trop longue" in camille.last_reply()
    await camille.send_location(95.0, 3.087)  # no client sends this, but a forged update can
    assert camille.last_reply() == "Ces coordonnées ne sont pas valables. Envoyez à nouveau votre position, s’il vous plaît."
    await camille.send("/cancel")
    assert camille.last_reply() == "Signalement annulé\u00a0: rien n’a été enregistré."
    await camille.tap(step("send"))  # an old Send button after cancelling
    # (Another resident: flood control would rightly slow down one who taps this much.)
    lou = people(3022)
    await lou.onboard()
    await lou.send("/report")
    await lou.tap(step("cat", 999))  # an unknown (or forged) category
    assert lou.last_reply() == "Cette catégorie n’est plus disponible. Recommencez avec /signaler, s’il vous plaît."
    await lou.send("Un texte")  # still asked to choose: nothing moves on
    assert lou.last_reply().startswith("Choisissez le type de problème")
    await lou.tap(step("cancel"))
    assert lou.last_reply() == "Signalement annulé\u00a0: rien n’a été enregistré."
    await lou.tap(step("cancel"))  # the same button again
    assert lou.last_reply() == "Ce signalement est déjà terminé."
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


async def test_a_description_too_long_says_by_how_much_and_to_send_it_again(people, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    alex = people(3024, "en")
    await alex.onboard("en")
    await alex.send("/report")
    await alex.tap(step("group", 0))
    await alex.tap(step("cat", await category_id(sessionmaker, "voirie-chaussee")))
    await alex.send("y" * 2345)
    assert (
        alex.last_reply() == "Your description is too long (2345 characters out of 2000 allowed). Shorten it, then send it again."
    )
    await alex.send("A deep pothole")  # the shorter one is taken: on to the photos
    assert alex.last_reply().startswith("📷")


async def test_agents_triage_and_residents_hear_in_their_language(people, dispatcher, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    dp, bot = dispatcher
    camille, alex = people(3031), people(3032, "en")
    await camille.onboard()
    await alex.onboard("en")
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    async with sessionmaker() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    await file_pothole(alex, sessionmaker, LAT, LON + 0.0001)
    await alex.tap(ReportFollow(report_id=report.id).pack())  # type: ignore[arg-type]

    intruder, agent = GroupMember(dp, bot, 3099), GroupMember(dp, bot, AGENT_ID)
    await intruder.tap(AgentAction(action="ack", report_id=report.id).pack())  # type: ignore[arg-type]
    refusals = [m for m in bot.session.requests if isinstance(m, AnswerCallbackQuery) and m.show_alert]
    assert refusals[-1].text == "Désolé, c’est réservé aux agents de la mairie."

    await agent.tap(AgentAction(action="ack", report_id=report.id).pack())  # type: ignore[arg-type]
    assert agent_toasts(bot)[-1] == f"✅ {report.ref}\u00a0: statut passé à 👀 Pris en compte."
    await agent.tap(AgentAction(action="ack", report_id=report.id).pack())  # a double tap: nothing twice
    assert agent_toasts(bot)[-1] == f"Déjà fait\u00a0: {report.ref} est au statut 👀 Pris en compte."
    await agent.tap(AgentAction(action="take", report_id=report.id).pack())  # type: ignore[arg-type]
    assert agent_toasts(bot)[-1] == f"✅ {report.ref}\u00a0: vous le suivez désormais."
    await agent.tap(AgentAction(action="set", report_id=report.id, status="fixed").pack())  # type: ignore[arg-type]
    # The status menu (the tapped message) becomes the prompt for a note.
    prompt = bot.session.requests[-1]
    assert isinstance(prompt, EditMessageText) and "Répondez à ce message" in prompt.text
    prompt_id = prompt.message_id
    assert prompt_id is not None
    await agent.reply(prompt_id + 1, "Ceci ne répond pas au message")  # ignored: not a reply to the prompt
    await agent.reply(prompt_id, "Rebouché ce matin")
    outcome = bot.session.requests[-1]
    assert isinstance(outcome, EditMessageText) and outcome.message_id == prompt_id
    assert outcome.text == f"✅ {report.ref}\u00a0: statut passé à ✅ Résolu."

    async with sessionmaker() as session:
        history = (await session.scalars(select(ReportStatusChange).order_by(ReportStatusChange.id))).all()
    assert [(h.to_status, h.author_telegram_id, h.note) for h in history] == [
        ("new", None, None),
        ("acknowledged", AGENT_ID, None),
        ("fixed", AGENT_ID, "Rebouché ce matin"),
    ]
    to_camille = [m.payload["text"] for m in await outbox(sessionmaker, 3031)]
    to_alex = [m.payload["text"] for m in await outbox(sessionmaker, 3032)]
    assert "Votre signalement" in to_camille[0] and "<b>👀 Pris en compte</b>" in to_camille[0]
    assert "Rebouché ce matin" in to_camille[1] and "Le problème est-il bien réglé\u202f?" in to_camille[1]
    assert "The report" in to_alex[0] and "<b>👀 Acknowledged</b>" in to_alex[0]
    assert "<b>✅ Resolved</b>" in to_alex[1] and "Rebouché ce matin" in to_alex[1] and "really solved" not in to_alex[1]

    # The resolved card offers « Rouvrir »: its menu lists what may follow a closed report.
    await agent.tap(AgentAction(action="menu", report_id=report.id).pack())  # type: ignore[arg-type]
    menu = bot.session.requests[-1]
    assert isinstance(menu, SendMessage) and isinstance(menu.reply_markup, InlineKeyboardMarkup)
    assert menu.text == f"{report.ref} — statut actuel\u00a0: ✅ Résolu. Choisissez le nouveau statut\u00a0:"
    assert [row[0].text for row in menu.reply_markup.inline_keyboard] == ["👀 Pris en compte", "🔧 En cours"]

    await alex.tap(ReportFixed(report_id=report.id, fixed=False).pack())  # type: ignore[arg-type]
    assert alex.alerts()[-1] == "This question is no longer open."
    await camille.tap(ReportFixed(report_id=report.id, fixed=False).pack())  # type: ignore[arg-type]
    assert "est rouvert, comme vous l’avez demandé" in camille.last_reply()
    async with sessionmaker() as session:
        reopened = await session.get(Report, report.id)
    assert reopened is not None and reopened.status == "acknowledged"
    # The agents' group has one card, the note as a reply to it, and one edit waiting: the last state.
    agents_rows = await outbox(sessionmaker, AGENTS_CHAT)
    [card] = [m for m in agents_rows if m.method == "sendPhoto" and REPLY_MARKER not in m.payload]
    assert card.payload["photo"] and "Nouveau" in card.payload["caption"]  # as posted: the edit changes it
    [note] = [m for m in agents_rows if REPLY_MARKER in m.payload]
    assert "Rebouché ce matin" in note.payload["text"] and note.payload[REPLY_MARKER] == report.id
    [edit] = [m for m in agents_rows if m.kind == CARD_EDIT_KIND]
    assert "rouvert\u00a0: l’auteur du signalement dit que le problème n’est pas réglé" in edit.payload["caption"]
    assert "<b>Statut\u00a0:</b> 👀 Pris en compte" in edit.payload["caption"]
    assert 'Suivi par\u00a0:</b> <a href="tg://user?id=4242">Agent</a>' in edit.payload["caption"]
    buttons = [b["text"] for row in edit.payload["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["🙋 Je m’en occupe", "🔧 Changer le statut", "🔁 Doublon de…"]
    assert "acknowledged" in [m.payload["text"] for m in await outbox(sessionmaker, 3032)][-1].lower()


def agent_toasts(bot: Bot) -> list[str]:
    return [m.text for m in bot.session.requests if isinstance(m, AnswerCallbackQuery) and m.text]


async def test_deep_link_r_opens_the_report_flow(people) -> None:  # type: ignore[no-untyped-def]
    camille = people(3041)
    await camille.send("/start r")
    await camille.tap(LanguageCallback(code="fr").pack())
    await camille.tap(ConsentCallback(accept=True).pack())
    assert "De quel type de problème s’agit-il\u202f?" in camille.last_reply()


async def test_agent_marks_a_duplicate_by_reference_and_notes_are_bounded(people, dispatcher, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    dp, bot = dispatcher
    camille, alex = people(3051), people(3052, "en")
    for person in (camille, alex):
        await person.onboard("fr" if person is camille else "en")
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    await file_pothole(alex, sessionmaker, LAT + 0.01, LON)  # far enough not to be offered
    await alex.tap(step("send"))
    async with sessionmaker() as session:
        original, copy = (await session.scalars(select(Report).order_by(Report.id))).all()
    agent = GroupMember(dp, bot, AGENT_ID)

    await agent.tap(AgentAction(action="dup", report_id=copy.id).pack())  # type: ignore[arg-type]
    prompt_id = bot.session.last_message_id
    await agent.reply(prompt_id, "PAL-1999-000001")
    assert "Aucun signalement ne porte la référence PAL-1999-000001" in bot.session.requests[-1].text
    await agent.reply(prompt_id, copy.ref)
    assert bot.session.requests[-1].text == "Un signalement ne peut pas être le doublon de lui-même."
    await agent.tap(AgentAction(action="dup", report_id=copy.id).pack())  # type: ignore[arg-type]
    await agent.reply(bot.session.last_message_id, original.ref.lower())
    assert bot.session.requests[-1].text == f"✅ {copy.ref}\u00a0: statut passé à 🔁 Doublon."
    [card_edit] = [
        m for m in await outbox(sessionmaker, AGENTS_CHAT) if m.kind == CARD_EDIT_KIND and copy.ref in m.payload["caption"]
    ]
    assert f"<b>Dernier changement\u00a0:</b> doublon de {original.ref}" in card_edit.payload["caption"]
    [to_alex] = [m.payload["text"] for m in await outbox(sessionmaker, 3052)]
    assert f"It is the same problem as report {original.ref}: you now follow that one." in to_alex

    # A public note is bounded: too long, it is refused and nothing changes.
    await agent.tap(AgentAction(action="set", report_id=original.id, status="in_progress").pack())  # type: ignore[arg-type]
    await agent.reply(1, "n" * 1001)  # the tapped menu became the prompt
    assert bot.session.requests[-1].text == "Cette note est trop longue\u00a0: 1000 caractères au maximum."
    # A status that cannot follow says which can, and the same status says it is done already.
    await agent.tap(AgentAction(action="set", report_id=copy.id, status="duplicate").pack())  # type: ignore[arg-type]
    assert agent_toasts(bot)[-1] == f"Déjà fait\u00a0: {copy.ref} est au statut 🔁 Doublon."
    await agent.tap(AgentAction(action="set", report_id=copy.id, status="action_scheduled").pack())  # type: ignore[arg-type]
    assert agent_toasts(bot)[-1] == (
        f"{copy.ref} est au statut 🔁 Doublon\u202f; il ne peut passer qu’à\u00a0: 👀 Pris en compte, 🔧 En cours."
    )
    async with sessionmaker() as session:
        assert (await session.get(Report, original.id)).status == "new"  # type: ignore[union-attr]
    await alex.send("/myreports")
    assert original.ref in alex.last_reply() and copy.ref in alex.last_reply()


async def test_history_is_shown_to_the_reporter_only(people, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from notices.reports import ReportShow

    camille, stranger = people(3061), people(3062)
    await camille.onboard()
    await stranger.onboard()
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    async with sessionmaker() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    await camille.send("/myreports")
    assert f"{report.ref}</b>" in camille.last_reply() and "le vôtre" in camille.last_reply()
    await camille.tap(ReportShow(report_id=report.id).pack())  # type: ignore[arg-type]
    assert "<b>Historique</b>" in camille.last_reply() and "🆕 Nouveau" in camille.last_reply()
    await stranger.tap(ReportShow(report_id=report.id).pack())  # type: ignore[arg-type]
    assert stranger.alerts()[-1] == "Ce bouton n’est plus valable."
    assert not any(report.ref in text for text in stranger.replies())


async def test_saved_replies_are_offered_in_the_agents_group_and_sent_as_the_note(people, dispatcher, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from notices.reports import SavedReplyPick
    from participation.report_desk import add_saved_reply

    dp, bot = dispatcher
    camille = people(3061)
    await camille.onboard()
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    async with sessionmaker.begin() as session:
        report = await session.scalar(select(Report))
        fits = await add_saved_reply(
            session,
            title="Rebouché",
            text="Le trou est rebouché, merci.",
            category_code="voirie-chaussee",
            status="fixed",
            by=AGENT_ID,
            source=Source.CLI,
        )
        await add_saved_reply(
            session,
            title="Bruit",
            text="Une patrouille passera.",
            category_code="bruit",
            status=None,
            by=AGENT_ID,
            source=Source.CLI,
        )
    agent = GroupMember(dp, bot, AGENT_ID)
    await agent.tap(AgentAction(action="set", report_id=report.id, status="fixed").pack())  # type: ignore[arg-type,union-attr]
    buttons = [b.text for row in bot.session.requests[-1].reply_markup.inline_keyboard for b in row]
    assert buttons == ["💬 Rebouché", "Sans note"]
    await agent.tap(SavedReplyPick(report_id=report.id, status="fixed", reply_id=fits.id).pack())  # type: ignore[arg-type,union-attr]
    async with sessionmaker() as session:
        last = (await session.scalars(select(ReportStatusChange).order_by(ReportStatusChange.id.desc()))).first()  # type: ignore[attr-defined]
    assert last is not None and (last.to_status, last.note) == ("fixed", "Le trou est rebouché, merci.")
    assert "Le trou est rebouché, merci." in (await outbox(sessionmaker, 3061))[-1].payload["text"]


async def test_an_assignment_from_the_back_office_shows_on_the_card(people, sessionmaker, settings) -> None:  # type: ignore[no-untyped-def]
    camille = people(3061)
    await camille.onboard()
    await file_pothole(camille, sessionmaker)
    await camille.tap(step("send"))
    notices = ReportNotices(build_i18n(settings.default_locale), settings)
    async with sessionmaker.begin() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        await assign(session, report, 5550, by=1, source=Source.WEB, notifier=notices)  # as web/backoffice does
    [edit] = [m for m in await outbox(sessionmaker, AGENTS_CHAT) if m.kind == CARD_EDIT_KIND]
    assert '<b>Suivi par\u00a0:</b> <a href="tg://user?id=5550">agent 5550</a>' in edit.payload["caption"]
    assert "<b>Dernier changement\u00a0:</b> confié à" in edit.payload["caption"]
    async with sessionmaker.begin() as session:
        report = await session.scalar(select(Report))
        assert report is not None
        await assign(session, report, None, by=1, source=Source.WEB, notifier=notices)
    # The newer state replaced the edit still waiting: the card will say it is no longer assigned.
    [edit] = [m for m in await outbox(sessionmaker, AGENTS_CHAT) if m.kind == CARD_EDIT_KIND]
    assert "Suivi par" not in edit.payload["caption"] and "plus confié à personne" in edit.payload["caption"]


def test_the_card_stays_within_telegrams_caption_limit_whatever_the_description(settings) -> None:  # type: ignore[no-untyped-def]
    from notices.reports import CAPTION_LIMIT, agent_card
    from storage.models import ReportAssignment, ReportCategory

    i18n = build_i18n(settings.default_locale)
    category = ReportCategory(code="voirie", group_name={"fr": "Voirie"}, name={"fr": "Nid-de-poule"})
    report = Report(id=7, ref="PAL-2026-000007", category_id=1, status="new", description="Tags & <graffitis> " * 120)
    with i18n.context(), i18n.use_locale("fr"):
        caption = agent_card(
            report,
            category,
            3,
            settings,
            CAPTION_LIMIT,
            assignment=ReportAssignment(report_id=7, agent_telegram_id=42, agent_name="Dominique"),
            last_change="statut 🆕 Nouveau",
        )
    assert len(caption) <= CAPTION_LIMIT and caption.endswith("…")
    # Cut between characters, never inside an HTML entity: Telegram would refuse the caption.
    assert "Tags &amp; &lt;graffitis&gt;" in caption and re.search(r"&[a-z]*…$", caption) is None
