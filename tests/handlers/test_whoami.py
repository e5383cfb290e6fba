"""/whoami: anyone learns their own Telegram id, and in a group the group's id, before consent too."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot, Dispatcher
from aiogram.methods import SendMessage
from aiogram.types import Chat, Message, MessageEntity, Update, User
from sqlalchemy import func, select

from bot.i18n import build_i18n
from notices.menu import bot_commands
from storage.db import SessionMaker
from storage.models import Resident
from tests.handlers.conftest import RecordingSession


async def test_a_newcomer_gets_their_id_in_a_private_chat_before_any_consent(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    newcomer = resident_factory(777000111)
    await newcomer.send("/whoami")
    assert newcomer.replies() == [
        "🆔 Votre identifiant Telegram\u00a0: <code>777000111</code>\n"
        "Un administrateur l’utilise dans ADMIN_IDS ou pour vous attribuer un rôle."
    ]
    async with sessionmaker() as session:  # nothing was asked of them, nothing more was kept
        stored = (await session.scalars(select(Resident).where(Resident.telegram_id == 777000111))).all()
    assert all(r.consent_at is None for r in stored)


async def test_in_english_the_answer_is_english(resident_factory) -> None:  # type: ignore[no-untyped-def]
    visitor = resident_factory(777000112, "en")
    await visitor.send("/whoami")
    assert visitor.replies() == [
        "🆔 Your Telegram id: <code>777000112</code>\nAn administrator uses it in ADMIN_IDS or to grant you a role."
    ]


async def test_in_any_group_it_gives_the_group_id_for_agents_chat_id(
    dispatcher: tuple[Dispatcher, Bot], sessionmaker: SessionMaker
) -> None:
    dp, bot = dispatcher
    group = Chat(id=-1001234567890, type="supergroup", title="Services techniques")
    someone = User(id=555000111, is_bot=False, first_name="Dominique", language_code="fr")
    message = Message(
        message_id=7,
        date=datetime.now(UTC),
        chat=group,
        from_user=someone,
        text="/whoami",
        entities=[MessageEntity(type="bot_command", offset=0, length=7)],
    )
    await dp.feed_update(bot, Update(update_id=990001, message=message))
    session: RecordingSession = bot.session  # type: ignore[assignment]
    sent = [m for m in session.requests if isinstance(m, SendMessage)]
    assert [(m.chat_id, m.text) for m in sent] == [
        (
            -1001234567890,
            "🆔 Identifiant de ce groupe\u00a0: <code>-1001234567890</code>\n"
            "Pour que les nouveaux signalements arrivent ici, indiquez-le dans le réglage AGENTS_CHAT_ID.\n"
            "🆔 Votre identifiant Telegram\u00a0: <code>555000111</code>\n"
            "Un administrateur l’utilise dans ADMIN_IDS ou pour vous attribuer un rôle.",
        )
    ]
    async with sessionmaker() as db:  # a group member is not made a resident
        assert await db.scalar(select(func.count()).select_from(Resident).where(Resident.telegram_id == 555000111)) == 0


def test_whoami_is_in_the_command_menu_of_each_language() -> None:
    i18n = build_i18n("fr")
    with i18n.context(), i18n.use_locale("fr"):
        french = {c.command: c.description for c in bot_commands()}
    with i18n.context(), i18n.use_locale("en"):
        english = {c.command: c.description for c in bot_commands()}
    assert french["whoami"] == "Mon identifiant Telegram (et celui d’un groupe)"
    assert english["whoami"] == "My Telegram id (and a group's)"
