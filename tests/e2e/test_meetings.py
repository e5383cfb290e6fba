"""A public meeting through the real process: invitation, answers, a restart, the reminder once."""

from __future__ import annotations

from datetime import timedelta

from participation import meetings
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind
from storage.db import make_engine, make_sessionmaker
from storage.types import utcnow
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory
from tests.e2e.test_broadcasts import open_chats, seed_residents, wait_for


def reminders(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for m in fake.sent_to(chat_id) if (m.get("text") or "").startswith(("⏰ Rappel", "⏰ Reminder")))


async def test_meeting_reminder_reaches_exactly_those_coming_once_across_restarts(
    fake: FakeTelegram, palabre: PalabreFactory
) -> None:
    marie, john, paul, lea = 610_001, 610_002, 610_003, 610_004
    bot = await palabre.start()
    open_chats(fake, (marie, john, paul, lea))
    await seed_residents(palabre.database_url, (marie, john, paul, lea), locale=lambda i: "en" if i == john else "fr")
    # The reminder is due the day before: a meeting 24 h and 25 s away is reminded in 25 s.
    engine = make_engine(palabre.database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await meetings.announce(
                session,
                title="Budget participatif & priorités",
                starts_at=utcnow() + timedelta(days=1, seconds=25),
                place="Salle Pasteur",
                audience=Audience(AudienceKind.ALL),
                created_by=None,
                source=Source.CLI,
            )
    finally:
        await engine.dispose()

    invitation = await fake.user(marie).wait_message("Réunion publique")
    assert "Budget participatif & priorités" in invitation["text"] and "Viendrez-vous\u202f?" in invitation["text"]
    english = await fake.user(john).wait_message("Public meeting")
    await fake.user(marie).tap("✅ Je viendrai", message=invitation)
    await fake.user(marie).wait_callback_answer()
    await fake.user(john).tap("✅ I'll come", message=english)
    await fake.user(john).wait_callback_answer()
    await fake.user(paul).tap("🙁 Je ne pourrai pas", message=await fake.user(paul).wait_message("Réunion publique"))
    await fake.user(paul).wait_callback_answer()
    # lea does not answer.

    await bot.restart()  # between the scheduling of the reminder and its time

    await wait_for(lambda: reminders(fake, marie) and reminders(fake, john), 60, "the reminders")
    french = fake.user(marie).last_message["text"]
    assert french.startswith("⏰ Rappel\u00a0: la réunion publique Budget participatif & priorités a lieu demain")
    assert fake.user(john).last_message["text"].startswith("⏰ Reminder: the public meeting Budget participatif")

    await bot.restart()  # a restart after the reminder does not send it again
    await bot.caught_up()
    assert [reminders(fake, chat) for chat in (marie, john, paul, lea)] == [1, 1, 0, 0]
    fake.assert_no_errors()
