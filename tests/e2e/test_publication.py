"""Results publication and consultation reminders through the real `palabre run` process.

Answers are written straight into the database (as if given in the chat earlier; the chat flow
has its own stories in test_consultations.py): these stories are about who receives what, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from participation import subscriptions
from storage.db import make_engine, make_sessionmaker
from storage.models import Consultation, ConsultationAnswer, ConsultationResponse, Resident
from storage.types import utcnow
from tests.e2e.fake_telegram import FakeTelegram
from tests.e2e.harness import PalabreFactory, onboard
from tests.e2e.test_broadcasts import open_chats, seed_residents, wait_for
from tests.e2e.test_consultations import close_soon, consultation_status, import_file, with_times

TOPICS = "topics:\n  - code: urbanisme\n    name: {fr: Urbanisme, en: Urban planning}\n"
ANSWERS = {"frequence": "hebdo", "priorites": ["arbres"], "satisfaction": 4, "pietonne": "yes"}


async def seed_answers(
    database_url: str, *, submitted: Iterable[int] = (), unfinished: Iterable[int] = (), subscribers: Iterable[int] = ()
) -> None:
    """Responses to place-du-marche (all answers, or stopped after question 1) and topic subscriptions."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await subscriptions.import_topics(session, TOPICS)
            consultation = await session.scalar(select(Consultation).where(Consultation.slug == "place-du-marche"))
            assert consultation is not None
            residents = {r.telegram_id: r for r in await session.scalars(select(Resident))}
            for telegram_id, done in [*((i, True) for i in submitted), *((i, False) for i in unfinished)]:
                response = ConsultationResponse(
                    consultation_id=consultation.id,
                    resident_id=residents[telegram_id].id,  # type: ignore[arg-type]
                    status="submitted" if done else "in_progress",
                    cursor=None if done else 1,
                    submitted_at=utcnow() if done else None,
                )
                session.add(response)
                await session.flush()
                for question, value in (ANSWERS if done else {"frequence": "mois"}).items():
                    session.add(ConsultationAnswer(response_id=response.id, question_id=question, value=value))  # type: ignore[arg-type]
            for telegram_id in subscribers:
                await subscriptions.toggle_topic(session, residents[telegram_id], "urbanisme")
    finally:
        await engine.dispose()


def outcomes(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.sent_to(chat_id)
        if (m.get("text") or "").startswith(("📣 Vous avez donné votre avis", "📣 We asked, you said, we did"))
    ]


async def test_results_publication_reaches_every_participant_in_their_language_with_the_charts(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    official_id = 710_000
    marie, john, lea, paul, noe = 710_001, 710_002, 710_003, 710_004, 710_005
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(minutes=10)))
    bot = await palabre.start(ADMIN_IDS=str(official_id))
    open_chats(fake, (marie, john, lea, paul, noe))
    await seed_residents(palabre.database_url, (marie, john, lea, paul, noe), locale=lambda i: "en" if i in (john, lea) else "fr")
    # marie (fr) and john (en) took part; lea (en) follows the topic; paul started without
    # finishing; noe did nothing.
    await seed_answers(palabre.database_url, submitted=(marie, john), unfinished=(paul,), subscribers=(lea,))
    official = fake.user(official_id, "Élue")
    await onboard(official)

    await official.send_command("/publish place-du-marche")
    assert (await official.wait_message())["text"] == (
        "Cette consultation n’est pas encore close\u00a0: son bilan pourra être publié à sa clôture."
    )
    await close_soon(palabre.database_url, "place-du-marche")
    assert await consultation_status(palabre.database_url, "place-du-marche", becomes="closed") == "closed"

    await official.send_command("/publish place-du-marche")
    await official.wait_message("Écrivez la décision du conseil")
    await official.send_text("La place sera piétonne le samedi matin, à l’essai & dès janvier.")
    confirm = await official.wait_message("Le publier")
    assert "Il sera envoyé à 3 habitants, chacun dans sa langue." in confirm["text"]
    await official.tap("✅ Publier", message=confirm)
    assert (await official.wait_message("Publié"))["text"] == "✅ Publié\u00a0: le bilan part vers 3 habitants."

    # The decision goes first, then one chart per question: wait for the last chart too.
    await wait_for(
        lambda: all(
            outcomes(fake, chat) and len([m for m in fake.sent_to(chat) if m.get("photo")]) == 4 for chat in (marie, john, lea)
        ),
        90,
        "the outcome and its charts",
    )
    await bot.restart()  # nothing is sent again after a restart
    await fake.wait_idle(quiet=1.5, timeout=30)

    assert [len(outcomes(fake, chat)) for chat in (marie, john, lea, paul, noe)] == [1, 1, 1, 0, 0]
    french = outcomes(fake, marie)[0]["text"]
    assert french.startswith(
        "📣 Vous avez donné votre avis, voici la suite\u00a0: Réaménagement de la place du marché\n\n"
        "🏛 Ce que le conseil a décidé\nLa place sera piétonne le samedi matin, à l’essai & dès janvier.\n\n2 habitants ont participé."
    )
    assert "• Chaque semaine\u00a0: 2 (100\u00a0%)" in french and "• Des arbres\u00a0: 2 (100\u00a0%)" in french
    assert french.endswith("\n\nMerci de votre participation\u202f!")
    for chat in (john, lea):
        english = outcomes(fake, chat)[0]["text"]
        assert english.startswith("📣 We asked, you said, we did: Redesign of the market square\n\n🏛 What the council decided")
        assert "• Every week: 2 (100%)" in english and "2 residents took part." in english

    for chat, colon in ((marie, "\u00a0:"), (john, ":")):
        messages = fake.sent_to(chat)
        charts = [m for m in messages if m.get("photo")]
        # One chart per question with counts, each once, after the text, captioned with its question.
        assert [m["caption"].split(colon)[0] for m in charts] == [f"📊 Question {n}" for n in (1, 2, 3, 4)]
        assert messages.index(charts[0]) > messages.index(outcomes(fake, chat)[0])
        for chart in charts:
            assert fake.files[chart["photo"][-1]["file_id"]].data.startswith(b"\x89PNG")
    assert all(not m.get("photo") for m in fake.sent_to(paul) + fake.sent_to(noe))
    fake.assert_no_errors()


def reminders(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in fake.sent_to(chat_id) if (m.get("text") or "").startswith("⏰ ")]


async def test_a_reminder_goes_to_exactly_those_who_have_not_answered_once_across_restarts(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    camille, john, lea, paul, noe = 720_001, 720_002, 720_003, 720_004, 720_005
    # The 6 h reminder of a consultation closing in 6 h 30 s is due in 30 s.
    path = with_times(tmp_path, closes_in=timedelta(hours=6, seconds=30))
    path.write_text(re.sub(r"reminders: .*", "reminders: [6h]", path.read_text(encoding="utf-8")), encoding="utf-8")
    await import_file(palabre.database_url, path)
    open_chats(fake, (camille, john, lea, paul, noe))
    await seed_residents(palabre.database_url, (camille, john, lea, paul, noe), locale=lambda i: "en" if i == john else "fr")
    # camille started without finishing; john follows the topic and has not answered; lea
    # answered; paul follows the topic and answered; noe neither follows nor answered.
    await seed_answers(palabre.database_url, submitted=(lea, paul), unfinished=(camille,), subscribers=(john, paul))

    bot = await palabre.start()
    await bot.caught_up()  # the reminder is planned from the database...
    await bot.restart()  # ...and the process restarts before its time

    await wait_for(lambda: reminders(fake, camille) and reminders(fake, john), 90, "the reminders")
    french = reminders(fake, camille)[0]
    # « A few hours » is the real remaining time: 6 h, give or take the machine's load.
    assert re.match(
        r"⏰ Plus que \d heures pour donner votre avis sur «\u202fRéaménagement de la place du marché\u202f» \(fin le .*\)\. "
        r"Cela prend 2 minutes\.$",
        french["text"],
    )
    assert re.match(
        r"⏰ Only \d hours left to give your opinion on “Redesign of the market square” \(closes on .*\)\. It takes 2 minutes\.$",
        reminders(fake, john)[0]["text"],
    )

    await bot.restart()  # after its time: it is not sent again
    await bot.caught_up()
    assert [len(reminders(fake, chat)) for chat in (camille, john, lea, paul, noe)] == [1, 1, 0, 0, 0]

    # Its button takes camille back where she stopped.
    user = fake.user(camille)
    await user.tap("🗳 Répondre maintenant", message=french)
    assert "Question 2/4" in (await user.wait_message("Question"))["text"]
    fake.assert_no_errors()
