"""Issue 13: /forget is bound to its prompt and expires, and reaches the agents' group copies of reports."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.i18n import build_i18n
from config.settings import Settings
from handlers.callbacks import ConsentCallback, LanguageCallback
from handlers.privacy import FORGET_PROMPT_TTL, ForgetCallback
from notices.reports import ReportNotices
from participation import outbox, report_cards
from participation.audit import Source
from participation.reports import change_status, create_report
from storage.db import SessionMaker
from storage.models import OutboxMessage, Report, Resident
from storage.types import utcnow
from tests.dbscan import find_in_database
from tests.participation.reports_support import load_categories

AGENTS = -1005001
DESCRIPTION = "Un trou énorme devant la boulangerie Dupont"
ADDRESS = "14 rue des Tilleuls"
ADDITION = "Toujours là, et la bouche d’égout aussi"


@pytest.fixture
def settings() -> Settings:
    return Settings(bot_token="123456:TEST-token", admin_ids=[1], agents_chat_id=AGENTS, _env_file=None)  # type: ignore[call-arg]


async def onboarded(resident_factory, user_id: int):  # type: ignore[no-untyped-def]
    person = resident_factory(user_id)
    await person.send("/start")
    await person.tap(LanguageCallback(code="fr").pack())
    await person.tap(ConsentCallback(accept=True).pack())
    return person


async def is_erased(sessionmaker: SessionMaker, telegram_id: int) -> bool:
    async with sessionmaker() as session:
        return await session.scalar(select(Resident.id).where(Resident.telegram_id == telegram_id)) is None


def callback_answers(person) -> list[str]:  # type: ignore[no-untyped-def]
    return [m.text for m in person.session.requests if type(m).__name__ == "AnswerCallbackQuery"]


def forget_nonce(person) -> str:  # type: ignore[no-untyped-def]
    prompt = [m for m in person.session.requests if "Effacer mes données" in str(getattr(m, "text", ""))][-1]
    return ForgetCallback.unpack(prompt.reply_markup.inline_keyboard[0][0].callback_data).nonce


async def test_a_forged_or_foreign_forget_button_erases_nobody(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    victim = await onboarded(resident_factory, 3101)
    await victim.tap(ForgetCallback(confirm=True).pack())  # never asked: the old fixed data
    assert await is_erased(sessionmaker, 3101) is False
    assert "nothing was erased" in callback_answers(victim)[-1] or "rien n’a été effacé" in callback_answers(victim)[-1]

    other = await onboarded(resident_factory, 3102)
    await other.send("/forget")
    stolen = forget_nonce(other)
    await victim.tap(ForgetCallback(confirm=True, nonce=stolen).pack())  # another resident's prompt
    assert await is_erased(sessionmaker, 3101) is False

    await other.tap(ForgetCallback(confirm=True, nonce=stolen).pack())  # its own prompt: erased
    assert await is_erased(sessionmaker, 3102) is True


async def test_an_unanswered_prompt_expires(resident_factory, sessionmaker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    camille = await onboarded(resident_factory, 3103)
    await camille.send("/forget")
    nonce = forget_nonce(camille)
    later = utcnow() + FORGET_PROMPT_TTL + timedelta(minutes=1)
    monkeypatch.setattr("handlers.privacy.utcnow", lambda: later)
    await camille.tap(ForgetCallback(confirm=True, nonce=nonce).pack())
    assert await is_erased(sessionmaker, 3103) is False
    assert "Ce bouton a expiré" in callback_answers(camille)[-1]


async def test_forget_reaches_the_agents_posts_and_their_queued_copies(
    resident_factory,
    sessionmaker,
    settings,
    engine,  # type: ignore[no-untyped-def]
) -> None:
    camille = await onboarded(resident_factory, 3104)
    notices = ReportNotices(build_i18n("fr"), settings)
    async with sessionmaker.begin() as session:
        categories = await load_categories(session)
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == 3104))
        photo_report = await create_report(
            session,
            category=categories["voirie-chaussee"],
            description=DESCRIPTION,
            photos=[],
            lat=45.77731,
            lon=3.08702,
            address=ADDRESS,
            resident=resident,
            source=Source.CHAT,
            notifier=notices,
        )
        waiting = await create_report(
            session,
            category=categories["bruit"],
            description="Musique chez les Dupont la nuit",
            photos=[],
            lat=None,
            lon=None,
            address=None,
            resident=resident,
            source=Source.CHAT,
            notifier=notices,
        )
    async with sessionmaker.begin() as session:  # the sender delivered the first post: Telegram's message 777
        posted = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == f"report:{photo_report.id}:agents:new")
        )
        assert posted is not None and posted.id is not None and DESCRIPTION in posted.payload["text"]
        await outbox.mark_sent_many(session, [posted.id])
        await report_cards.record_posted(session, posted, SimpleNamespace(message_id=777))
    async with sessionmaker.begin() as session:  # later: a status change (the card's edit waits) and her comment
        report = await session.get(Report, photo_report.id)
        assert report is not None
        await change_status(
            session, report, "acknowledged", author_telegram_id=None, note=None, source=Source.CLI, notifier=notices
        )
        await notices.reporter_adds(session, report, ADDITION, None, f"report:{report.id}:agents:adds:1")
        [card_edit] = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == report_cards.CARD_EDIT_KIND))
        assert DESCRIPTION in card_edit.payload["text"]

    await camille.send("/forget")
    await camille.tap(ForgetCallback(confirm=True, nonce=forget_nonce(camille)).pack())
    assert await is_erased(sessionmaker, 3104)

    async with sessionmaker() as session:
        edit = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == outbox.ERASED_POST_KIND))
        assert edit is not None and (edit.chat_id, edit.method, edit.payload["message_id"]) == (AGENTS, "editMessageText", 777)
        assert (
            edit.payload["text"]
            == f"🗑 Signalement {photo_report.ref}\u00a0: son contenu a été retiré à la demande de la personne qui l’avait envoyé."
        )
        assert edit.payload["reply_markup"] == posted.payload["reply_markup"]  # agents can still handle the report
        queued = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"report:{waiting.id}:agents:new"))
        assert queued is not None and queued.status == "pending" and waiting.ref in queued.payload["text"]
        # Her comment, a reply to the card, and the card's waiting edit say the notice instead.
        comment = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("%:agents:adds:1")))
        assert comment is not None and comment.payload[report_cards.REPLY_MARKER] == photo_report.id
        assert comment.payload["text"].startswith("🗑 Signalement")
        [card_edit] = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == report_cards.CARD_EDIT_KIND))
        assert card_edit.payload["text"].startswith("🗑 Signalement") and card_edit.payload["reply_markup"]
    # An agent's later change re-renders the card: it still shows nothing of hers.
    async with sessionmaker.begin() as session:
        report = await session.get(Report, photo_report.id)
        assert report is not None
        await change_status(
            session, report, "in_progress", author_telegram_id=None, note=None, source=Source.CLI, notifier=notices
        )
    async with sessionmaker() as session:
        [card_edit] = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == report_cards.CARD_EDIT_KIND))
        assert "🔧 En cours" in card_edit.payload["text"] and "Contenu retiré à la demande" in card_edit.payload["text"]
        assert "<b>Lieu\u00a0:</b> retiré" in card_edit.payload["text"]
    # The report keeps its place as open data (report.lat); no copy of the agents' card keeps it.
    leftovers = await find_in_database(engine, [DESCRIPTION, ADDITION, "Dupont", ADDRESS, "45.777310", "3104", "Camille"])
    assert leftovers == []
    async with sessionmaker() as session:
        assert not any("45.7773" in str(row.payload) for row in await session.scalars(select(OutboxMessage)))
