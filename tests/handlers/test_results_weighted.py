"""Officials in the chat: /results with raw and weighted figures in French numbers, and the reminder
to the under-represented groups of an open consultation."""

from __future__ import annotations

import re

from aiogram.methods import SendPhoto
from sqlalchemy import select

from bot.broadcasting import BroadcastFeeder
from bot.i18n import build_i18n
from handlers.callbacks import AudienceCallback, BroadcastCallback
from notices.menus import MENU_KIND
from participation.population import import_population
from storage.db import SessionMaker
from storage.models import Broadcast, Consultation, ConsultationAnswer, ConsultationResponse, OutboxMessage, Resident
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident
from tests.handlers.notifications_helpers import buttons, import_lists, make_official, onboard

POPULATION = (
    'source: "Insee, recensement 2022"\nneighbourhoods: {centre: 600, nord: 400}\n'
    "age_brackets: {15-29: 200, 30-44: 200, 45-59: 200, 60-74: 250, 75-plus: 150}\n"
)


async def answered(
    sessionmaker: SessionMaker, telegram_id: int, hood: str, age: str | None, frequence: str, satisfaction: int
) -> None:
    async with sessionmaker.begin() as session:
        resident = await add_resident(session, telegram_id, neighbourhood=hood)
        resident.age_bracket = age
        consultation = await session.scalar(select(Consultation))
        assert consultation is not None
        response = ConsultationResponse(
            consultation_id=consultation.id,
            resident_id=resident.id,
            status="submitted",
            submitted_at=utcnow(),  # type: ignore[arg-type]
        )
        session.add(response)
        await session.flush()
        session.add(ConsultationAnswer(response_id=response.id, question_id="frequence", value=frequence))  # type: ignore[arg-type]
        session.add(ConsultationAnswer(response_id=response.id, question_id="priorites", value=["arbres", "bancs"]))  # type: ignore[arg-type]
        session.add(ConsultationAnswer(response_id=response.id, question_id="satisfaction", value=satisfaction))  # type: ignore[arg-type]


async def scene(sessionmaker: SessionMaker) -> None:
    """The centre and 30-44 answer; the north only with two people; nobody of 75 and over."""
    await import_lists(sessionmaker)
    async with sessionmaker.begin() as session:
        await add_consultation(session)
        await import_population(session, POPULATION)
    for n in range(6):
        await answered(sessionmaker, 5100 + n, "centre", "30-44", "hebdo", 4)
    await answered(sessionmaker, 5110, "centre", "15-29", "mois", 2)
    await answered(sessionmaker, 5111, "nord", "60-74", "jamais", 1)
    await answered(sessionmaker, 5112, "nord", "45-59", "jamais", 2)
    await answered(sessionmaker, 5113, None, None, "hebdo", 5)  # no profile: raw figures only
    async with sessionmaker.begin() as session:
        # Not answered yet: one in the north, one of 75 and over, one in the centre aged 30-44.
        for telegram_id, hood, age in ((5201, "nord", "30-44"), (5202, "centre", "75-plus"), (5203, "centre", "30-44")):
            resident = await add_resident(session, telegram_id, neighbourhood=hood)
            resident.age_bracket = age


async def test_results_in_the_chat_show_raw_and_weighted_figures_in_french(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await scene(sessionmaker)
    official = resident_factory(4001)
    await make_official(sessionmaker, 4001)
    await onboard(official)
    await official.send("/results place-du-marche")
    summary = "\n".join(r for r in official.replies() if r.startswith("📊 <b>"))
    assert "⚖️ Chiffres pondérés selon la population (Insee, recensement 2022)\u00a0: ils valent un échantillon de" in summary
    assert "1 participant n’a pas indiqué son quartier ou son âge\u00a0: il compte seulement dans les chiffres bruts." in summary
    assert (
        "⚠️ Personne de «\u202f75 ans et plus\u202f» n’a participé\u00a0: la pondération ne peut pas parler à leur place."
        in summary
    )
    assert "⚠️ Seulement 2 participants de «\u202fNord\u202f»" in summary
    # 7 of 10 every week, raw; weighted, the over-represented centre counts less.
    weekly = re.search(r"• Chaque semaine\u00a0: 7 \(70\u00a0%\u202f; pondéré\u00a0: (\d+(?:,\d)?)\u00a0%\)", summary)
    assert weekly is not None and float(weekly.group(1).replace(",", ".")) < 70
    assert "Plusieurs réponses étaient possibles\u00a0: le total des pourcentages dépasse 100\u00a0%." in summary
    assert "1 = Pas du tout, 5 = Tout à fait" in summary
    assert re.search(r"Moyenne\u00a0: 3,4 sur 5 \(pondérée\u00a0: \d,\d\)", summary)
    assert re.search(r"Chiffres pondérés\u00a0: marge d’erreur de ± \d+,\d points \(à 95\u00a0%\)\.", summary)
    photos = [r for r in official.session.requests if isinstance(r, SendPhoto) and r.chat_id == 4001]
    assert [p.caption.split("\u00a0:")[0] for p in photos] == ["Question 1", "Question 2", "Question 3", "Question 4"]
    assert photos[0].caption == "Question 1\u00a0: À quelle fréquence venez-vous au marché ?"


async def test_an_official_reminds_the_under_represented_groups_from_the_chat(
    resident_factory, sessionmaker: SessionMaker, settings
) -> None:  # type: ignore[no-untyped-def]
    await scene(sessionmaker)
    official = resident_factory(4001)
    await make_official(sessionmaker, 4001)
    await onboard(official)
    await official.send("/broadcast")
    await official.send("Il vous reste quelques jours pour donner votre avis sur la place du marché.")
    assert buttons(official)[-1][0] == "📉 Groupes sous-représentés d’une consultation ouverte"
    await official.tap(AudienceCallback(flow="b", kind="u").pack())
    assert official.last_reply() == "🗳 Quelle consultation ouverte\u202f?"
    ((label, data),) = buttons(official)
    assert label == "🗳 Réaménagement de la place du marché"
    await official.tap(data)
    listing = official.replies()[-2]
    assert listing.startswith("📉 Sous-représentés parmi les participants\u00a0:")
    assert "• Nord\u00a0: 2 participants (22,2\u00a0% des participants, 40\u00a0% de la population)" in listing
    assert "• 75 ans et plus\u00a0: 0 participant (0\u00a0% des participants, 15\u00a0% de la population)" in listing
    assert official.last_reply() == "Ce message sera envoyé à 2 habitants. L’envoyer\u202f?"
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None and (draft.audience_kind, draft.audience_value) == ("underrepresented", "place-du-marche")
    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    feeder = BroadcastFeeder(sessionmaker, build_i18n("fr"), settings)
    while await feeder():
        pass
    async with sessionmaker() as session:
        chats = set(
            await session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.kind != MENU_KIND))
        )  # the official's own menu aside
        nobody_answered = set(await session.scalars(select(Resident.telegram_id).where(Resident.telegram_id.in_([5201, 5202]))))
    # The north resident and the one of 75 and over who have not answered; not the centre's 30-44, nor any participant.
    assert chats == nobody_answered == {5201, 5202}
