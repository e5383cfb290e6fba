"""The publication feeder: charts then the outcome, in each recipient's language, chunk by chunk, never twice."""

from __future__ import annotations

import html
import re
from datetime import UTC
from pathlib import Path

from sqlalchemy import select, update

from bot.i18n import build_i18n
from bot.publishing import PublicationFeeder
from config.settings import Settings
from participation import publication, subscriptions
from participation.audit import Source
from storage.db import SessionMaker
from storage.models import OutboxMessage, Publication
from tests.consultation_helpers import add_consultation, add_resident
from tests.participation.test_publication import TOPICS, close, respond


async def published(sessionmaker: SessionMaker, residents: int = 3) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        consultation = await add_consultation(session)
        people = [await add_resident(session, 100 + n, locale="en" if n == 1 else "fr") for n in range(residents)]
        for person in people[:-1]:
            await respond(session, consultation, person, frequence="hebdo", pietonne="yes", pourquoi=None)
        await subscriptions.toggle_topic(session, people[-1], "urbanisme")  # follows the topic, did not answer
        await close(session, consultation)
    async with sessionmaker.begin() as session:
        await publication.publish(
            session, "place-du-marche", "La place sera piétonne le samedi <dès 2027>.", actor_telegram_id=900, source=Source.CLI
        )


async def outbox_rows(sessionmaker: SessionMaker) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_each_recipient_gets_the_outcome_then_the_charts_in_their_language(
    sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    await published(sessionmaker)
    settings = Settings(media_dir=tmp_path / "media", _env_file=None)  # type: ignore[call-arg]
    feeder = PublicationFeeder(sessionmaker, build_i18n("fr"), settings)
    assert await feeder() is True
    assert await feeder() is False

    rows = await outbox_rows(sessionmaker)
    by_chat: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        by_chat.setdefault(row.chat_id, []).append(row)
    assert sorted(by_chat) == [100, 101, 102]
    for chat_id, messages in by_chat.items():
        # Four questions with counts (single, multiple, scale, yes/no) give four charts; the text question none.
        assert [m.method for m in messages] == ["sendMessage"] + ["sendPhoto"] * 4, chat_id
        for photo in messages[1:]:
            assert Path(photo.payload["photo"]["path"]).read_bytes().startswith(b"\x89PNG")
    french, english = by_chat[100][0].payload["text"], by_chat[101][0].payload["text"]
    assert french.startswith(
        "📣 <b>Vous avez donné votre avis, voici la suite\u00a0: Réaménagement de la place du marché</b>\n\n"
        "🏛 <b>Ce que le conseil a décidé</b>\nLa place sera piétonne le samedi &lt;dès 2027&gt;.\n\n2 habitants ont participé."
    )
    assert "• Chaque semaine\u00a0: 2 (100\u00a0%)" in french
    assert "Plusieurs réponses étaient possibles\u00a0: le total des pourcentages dépasse 100\u00a0%." in french
    assert english.startswith(
        "📣 <b>We asked, you said, we did: Redesign of the market square</b>\n\n🏛 <b>What the council decided</b>"
    )
    # English readers get English typography: no space before the colon or the percent sign.
    assert "• Every week: 2 (100%)" in english and "2 residents took part." in english
    assert by_chat[100][1].payload["caption"].startswith("📊 Question 1\u00a0: ")
    # Charts are drawn once per language and shared by every recipient of that language.
    assert by_chat[100][1].payload["photo"] == by_chat[102][1].payload["photo"] != by_chat[101][1].payload["photo"]
    assert all(len(m.payload.get("text", "")) <= 4096 and len(m.payload.get("caption", "")) <= 1024 for m in rows)
    async with sessionmaker() as session:
        item = await session.scalar(select(Publication))
    assert item is not None and item.status == "queued"


async def test_a_crash_between_chunks_resumes_without_queueing_anyone_twice(sessionmaker: SessionMaker, tmp_path: Path) -> None:
    await published(sessionmaker, residents=5)
    settings = Settings(media_dir=tmp_path / "media", _env_file=None)  # type: ignore[call-arg]
    feeder = PublicationFeeder(sessionmaker, build_i18n("fr"), settings, chunk=2)
    assert await feeder() is True
    assert sorted({row.chat_id for row in await outbox_rows(sessionmaker)}) == [100, 101]
    # As if the process died after queueing the next chunk but before the cursor moved.
    assert await feeder() is True
    async with sessionmaker.begin() as session:
        await session.execute(update(Publication).values(cursor=0, status="queuing"))
    while await feeder():
        pass
    rows = await outbox_rows(sessionmaker)
    assert sorted({row.chat_id for row in rows}) == [100, 101, 102, 103, 104]
    assert len(rows) == 5 * 5  # four charts and the text each, nothing doubled
    assert len({row.dedupe_key for row in rows}) == len(rows)


def test_a_long_outcome_still_fits_telegram_messages() -> None:
    from datetime import datetime

    from aiogram.utils.i18n import I18n

    from handlers.publication import outcome_texts
    from participation.results import OptionCount, QuestionResult, Results

    i18n = build_i18n("fr")
    assert isinstance(i18n, I18n)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    questions = [
        QuestionResult(
            id=f"q{n}",
            type="single",
            prompt=f"Question numéro {n} " + "très longue " * 8,
            answered=40,
            skipped=0,
            options=[OptionCount(f"c{i}", "Un choix au libellé assez long " * 2, 4, 10.0) for i in range(10)],
        )
        for n in range(1, 31)
    ]
    results = Results("s", "Titre", "closed", moment, moment, 40, 40, {}, questions, [])
    with i18n.context(), i18n.use_locale("fr"):
        short = outcome_texts(results, "Le conseil a décidé.")
        extreme = outcome_texts(results, "&" * 2000)  # each & becomes &amp; in HTML
    assert len(short) == 1 and len(short[0]) <= 4096
    assert short[0].startswith(
        "📣 <b>Vous avez donné votre avis, voici la suite\u00a0: Titre</b>\n\n🏛 <b>Ce que le conseil a décidé</b>\n"
        "Le conseil a décidé.\n\n40 habitants ont participé."
    )
    assert "… (les résultats complets sont dans les graphiques)" in short[0]
    assert short[0].endswith("\n\nMerci de votre participation\u202f!")
    # Telegram counts characters after parsing the HTML: tags out, entities as one character.
    assert len(extreme) == 2 and all(len(html.unescape(re.sub(r"<[^>]+>", "", text))) <= 4096 for text in extreme)
    assert (
        extreme[0]
        == "📣 <b>Vous avez donné votre avis, voici la suite\u00a0: Titre</b>\n\n🏛 <b>Ce que le conseil a décidé</b>\n"
        + "&amp;" * 2000
    )
    assert len(extreme[1]) <= 4096 and "… (les résultats complets sont dans les graphiques)" in extreme[1]
    assert extreme[1].endswith("\n\nMerci de votre participation\u202f!")


async def test_the_decision_reaches_each_resident_in_their_language_when_the_council_gave_it(
    sessionmaker: SessionMaker, tmp_path: Path
) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        consultation = await add_consultation(session)
        french, english = await add_resident(session, 200, locale="fr"), await add_resident(session, 201, locale="en")
        for person in (french, english):
            await respond(session, consultation, person, frequence="hebdo", pietonne="yes", pourquoi=None)
        await close(session, consultation)
    async with sessionmaker.begin() as session:
        await publication.publish(
            session,
            "place-du-marche",
            "La place sera piétonne le samedi.",
            actor_telegram_id=900,
            source=Source.CLI,
            translations={"en": "The square will be car-free on Saturdays."},
        )
    feeder = PublicationFeeder(sessionmaker, build_i18n("fr"), Settings(media_dir=tmp_path / "media", _env_file=None))  # type: ignore[call-arg]
    assert await feeder() is True
    texts = {row.chat_id: row.payload["text"] for row in await outbox_rows(sessionmaker) if row.method == "sendMessage"}
    assert "🏛 <b>Ce que le conseil a décidé</b>\nLa place sera piétonne le samedi." in texts[200]
    assert "🏛 <b>What the council decided</b>\nThe square will be car-free on Saturdays." in texts[201]
