"""Consultations through the real Dispatcher: buttons, typed answers, stale and forged taps, deep links, officials."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, SendPhoto
from aiogram.types import InlineKeyboardMarkup, PollAnswer, User
from sqlalchemy import select, update

from bot.app import build_dispatcher
from bot.i18n import build_i18n
from handlers.callbacks import ConsentCallback, LanguageCallback
from participation import consultations as c
from storage.models import Consultation, ConsultationAnswer, ConsultationPoll, ConsultationResponse, OutboxMessage, RoleGrant
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, sample_spec
from tests.handlers.conftest import Resident as Person


async def onboard(person: Person, payload: str = "") -> None:
    await person.send(f"/start {payload}".strip())
    await person.tap(LanguageCallback(code="fr").pack())
    await person.tap(ConsentCallback(accept=True).pack())


def buttons(person: Person) -> dict[str, str]:
    """The inline buttons of the last message (sent or edited) in the person's chat: text -> data."""
    for request in reversed(person.session.requests):
        if isinstance(request, (SendMessage, EditMessageText)) and request.chat_id == person.user_id:
            markup = request.reply_markup
            if isinstance(markup, InlineKeyboardMarkup):
                return {b.text: b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data}
    return {}


def alerts(person: Person) -> list[str]:
    return [r.text for r in person.session.requests if isinstance(r, AnswerCallbackQuery) and r.text]


async def press(person: Person, label: str) -> None:
    await person.tap(buttons(person)[label])


async def answers_of(sessionmaker, telegram_id: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from storage.models import Resident

    async with sessionmaker() as session:
        rows = await session.execute(
            select(ConsultationAnswer.question_id, ConsultationAnswer.value)
            .join(ConsultationResponse, ConsultationResponse.id == ConsultationAnswer.response_id)
            .join(Resident, Resident.id == ConsultationResponse.resident_id)
            .where(Resident.telegram_id == telegram_id)
        )
        return dict(rows.all())


async def setup_consultation(sessionmaker, **changes: object) -> None:  # type: ignore[no-untyped-def]
    async with sessionmaker.begin() as session:
        await add_consultation(session, **changes)


async def test_a_resident_answers_every_question_type_with_buttons(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker)
    camille = resident_factory(3001)
    await onboard(camille)
    await camille.send("/consultations")
    assert camille.last_reply() == "Les consultations ouvertes pour vous\u00a0:"
    await press(camille, "🗳 Réaménagement de la place du marché")
    assert "Question 1/4" in camille.last_reply() and "À quelle fréquence" in camille.last_reply()
    await press(camille, "Chaque semaine")
    assert "Question 2/4" in camille.last_reply() and "Cochez jusqu’à 2 réponses" in camille.last_reply()
    await press(camille, "Des arbres")
    await press(camille, "Des bancs")
    assert {"✓ Des arbres", "✓ Des bancs", "Des vélos"} <= set(buttons(camille))
    await press(camille, "Des vélos")
    assert alerts(camille)[-1] == "Vous pouvez choisir 2 réponses au plus."
    await press(camille, "✅ Valider")
    assert "Question 3/4" in camille.last_reply() and "1 = Pas du tout · 5 = Tout à fait" in camille.last_reply()
    await press(camille, "4")
    await press(camille, "Non")  # the conditional question appears: now five questions
    assert "Question 5/5" in camille.last_reply() and "Pourquoi pas" in camille.last_reply()
    await camille.send_sticker()
    assert (
        camille.last_reply()
        == "Nous ne pouvons lire que du texte (pas les messages vocaux). Écrivez votre réponse, ou utilisez les boutons."
    )
    await camille.send("x" * 60)
    assert (
        camille.last_reply()
        == "Votre réponse est trop longue (60 caractères sur 50 possibles). Raccourcissez-la puis renvoyez-la."
    )
    await camille.send("Trop de <bruit>")
    summary = camille.last_reply()
    assert "Voici vos réponses" in summary and "→ Des arbres, Des bancs" in summary and "→ Trop de &lt;bruit&gt;" in summary
    await press(camille, "📨 Envoyer")
    assert alerts(camille)[-1] == "Merci\u202f! Vos réponses sont enregistrées."
    assert (
        "✅ Merci, vos réponses sont enregistrées. Nous vous enverrons les résultats et la décision du conseil. (Modifiable jusqu’au"
        in camille.last_reply()
    )
    assert await answers_of(sessionmaker, 3001) == {
        "frequence": "hebdo",
        "priorites": ["arbres", "bancs"],
        "satisfaction": 4,
        "pietonne": "no",
        "pourquoi": "Trop de <bruit>",
    }


async def test_stale_double_and_forged_taps_change_nothing(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker)
    alex = resident_factory(3002)
    await onboard(alex, "c_place-du-marche")  # the deep link opens the consultation after onboarding
    first_question = buttons(alex)
    await alex.tap(first_question["Chaque semaine"])
    await alex.tap(first_question["Chaque semaine"])  # a double tap
    await alex.tap(first_question["Jamais"])  # a button of the earlier message
    stale = "Ce bouton n’est plus actif. Utilisez le dernier message, plus bas."
    assert alerts(alex)[-2:] == [stale, stale]
    async with sessionmaker() as session:
        response = await session.scalar(select(ConsultationResponse))
    assert response is not None
    for forged in (
        f"ca:{response.id}:{response.step}:1:t:42",  # no such choice
        f"ca:{response.id + 1}:{response.step}:1:t:0",  # someone else's (or no) response
        f"ca:{response.id}:{response.step}:0:c:1",  # another question than the current one
        "ca:x:y:z",  # not even well formed
    ):
        await alex.tap(forged)
    assert alerts(alex)[-4:] == [
        "Ce bouton n’est plus valable.",
        "Ce bouton n’est plus valable.",
        stale,
        "Ce bouton n’est plus valable.",
    ]
    assert await answers_of(sessionmaker, 3002) == {"frequence": "hebdo"}


async def test_taps_arriving_at_the_same_time_count_once(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """A nervous double tap reaches the bot as updates handled at once (polling runs updates
    concurrently): one counts, the others are told their button is no longer active."""
    await setup_consultation(sessionmaker)
    lou = resident_factory(3003)
    await onboard(lou, "c_place-du-marche")
    first_question = buttons(lou)
    await asyncio.gather(
        lou.tap(first_question["Chaque semaine"]), lou.tap(first_question["Chaque semaine"]), lou.tap(first_question["Jamais"])
    )
    stale = "Ce bouton n’est plus actif. Utilisez le dernier message, plus bas."
    assert alerts(lou)[-2:] == [stale, stale]
    assert await answers_of(sessionmaker, 3003) == {"frequence": "hebdo"}
    async with sessionmaker() as session:
        response = await session.scalar(select(ConsultationResponse))
    assert response is not None and response.step == 1 and response.cursor == 1
    assert "Question 2/4" in lou.last_reply()


async def test_an_unknown_deep_link_gets_a_polite_answer(resident_factory) -> None:  # type: ignore[no-untyped-def]
    alex = resident_factory(3003)
    await onboard(alex, "c_nulle-part")
    assert (
        alex.last_reply()
        == "La consultation «\u202fnulle-part\u202f» n’existe pas (ou plus). Voyez celles qui sont ouvertes avec /consultations."
    )


async def test_leaving_half_way_resumes_after_a_restart(resident_factory, sessionmaker, settings, dispatcher) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker)
    dana = resident_factory(3004)
    await onboard(dana, "c_place-du-marche")
    await press(dana, "Chaque mois")
    await press(dana, "Des vélos")
    # A new Dispatcher over the same database: what a restarted bot would be.
    dana.dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    await dana.send("/start c_place-du-marche")
    replies = dana.replies()
    assert replies[-2] == "Bon retour\u202f! Vos réponses précédentes sont enregistrées\u202f; reprenons."
    assert "Question 2/4" in replies[-1] and "✓ Des vélos" in buttons(dana)


async def test_a_typed_answer_survives_a_restart_too(resident_factory, sessionmaker, settings) -> None:  # type: ignore[no-untyped-def]
    spec = sample_spec()
    await setup_consultation(sessionmaker, questions=[spec.stored_questions()[4] | {"when": None}])
    eve = resident_factory(3005)
    await onboard(eve, "c_place-du-marche")
    eve.dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    await eve.send("Les voitures")
    assert "→ Les voitures" in eve.last_reply()


async def test_closed_and_future_consultations_refuse_politely(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker)
    await setup_consultation(
        sessionmaker, slug="bientot", opens_at=utcnow() + timedelta(days=2), closes_at=utcnow() + timedelta(days=9)
    )
    fanny = resident_factory(3006)
    await onboard(fanny, "c_place-du-marche")
    question = buttons(fanny)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Consultation).values(closes_at=utcnow() - timedelta(minutes=1)).where(Consultation.slug == "place-du-marche")
        )
    await fanny.tap(question["Chaque semaine"])
    assert alerts(fanny)[-1].startswith("Cette consultation a été close le ")
    await fanny.send("/start c_bientot")
    assert fanny.last_reply().startswith("Cette consultation ouvrira le ")
    await fanny.send("/consultations")
    assert (
        fanny.last_reply()
        == "Aucune consultation n’est ouverte pour vous en ce moment. Nous vous préviendrons de la prochaine\u202f!"
    )
    assert await answers_of(sessionmaker, 3006) == {}


async def test_results_are_for_officials_with_charts(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker)
    resident, official = resident_factory(3007), resident_factory(3008)
    for person in (resident, official):
        await onboard(person)
    await resident.send("/results place-du-marche")
    assert resident.last_reply() == "Désolé, cette commande est réservée aux élus et chargés de participation."
    async with sessionmaker.begin() as session:
        session.add(RoleGrant(telegram_id=3008, role="official"))
    await official.send("/results place-du-marche")
    assert "Participation\u00a0: 0 commencées, 0 terminées." in official.last_reply()
    photos = [r for r in official.session.requests if isinstance(r, SendPhoto) and r.chat_id == 3008]
    assert len(photos) == 4  # one per question with counts; the text question has none


async def test_a_native_poll_goes_through_the_outbox_and_answers_count(resident_factory, sessionmaker, dispatcher) -> None:  # type: ignore[no-untyped-def]
    spec = sample_spec()
    await setup_consultation(sessionmaker, slug="pietons", questions=[spec.questions[3]])
    voter, admin = resident_factory(3009), resident_factory(1)
    await onboard(voter)
    await onboard(admin)
    await admin.send("/poll pietons")
    assert admin.last_reply() == "📨 Le sondage part vers 2 habitants."
    async with sessionmaker.begin() as session:
        intro, sent = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 3009).order_by(OutboxMessage.id))
        ).all()
        assert intro.method == "sendMessage" and "Votre vote est visible par la mairie" in intro.payload["text"]
        assert sent.method == "sendPoll" and sent.payload["is_anonymous"] is False
        assert sent.payload["options"] == [{"text": "Oui"}, {"text": "Non"}]
        await session.execute(
            update(ConsultationPoll).where(ConsultationPoll.chat_id == 3009).values(poll_id="P1", message_id=5, status="open")
        )
    _dp, _bot = dispatcher
    for option in ([1], [1]):  # the same vote delivered twice
        await voter.feed(
            poll_answer=PollAnswer(
                poll_id="P1",
                user=User(id=3009, is_bot=False, first_name="V"),
                option_ids=option,
                option_persistent_ids=[str(i) for i in option],
            )
        )
    async with sessionmaker() as session:
        consultation = await c.get_by_slug(session, "pietons")
        counted = await session.scalars(
            select(ConsultationResponse).where(ConsultationResponse.consultation_id == consultation.id)
        )  # type: ignore[union-attr]
        assert [r.status for r in counted] == ["submitted"]
    assert await answers_of(sessionmaker, 3009) == {"pietonne": "no"}
    await admin.send("/poll pietons")  # sent again: nobody gets a second poll
    assert admin.last_reply() == "📨 Le sondage part vers 0 habitant."  # French: 0 is singular


async def test_a_vote_arriving_before_the_poll_id_is_recorded_still_counts(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    spec = sample_spec()
    await setup_consultation(sessionmaker, slug="pietons", questions=[spec.questions[3]])
    voter, admin = resident_factory(3010), resident_factory(1)
    await onboard(voter)
    await onboard(admin)
    await admin.send("/poll pietons")
    vote = asyncio.create_task(
        voter.feed(
            poll_answer=PollAnswer(
                poll_id="P9", user=User(id=3010, is_bot=False, first_name="V"), option_ids=[0], option_persistent_ids=["0"]
            )
        )
    )
    await asyncio.sleep(0.3)  # the sender records the poll id a moment after Telegram accepted it
    async with sessionmaker.begin() as session:
        await session.execute(
            update(ConsultationPoll).where(ConsultationPoll.chat_id == 3010).values(poll_id="P9", message_id=6, status="open")
        )
    await vote
    assert await answers_of(sessionmaker, 3010) == {"pietonne": "yes"}


async def test_an_official_builds_and_publishes_a_consultation_in_the_chat(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    admin = resident_factory(1)
    await onboard(admin)
    await admin.send("/newconsultation")
    await admin.send("Éclairage du parc")
    await press(admin, "Choix unique")
    await admin.send("Faut-il éclairer le parc la nuit ?")
    await admin.send("Oui\nNon\nSeulement l’été")
    await press(admin, "Oui / non")
    await admin.send("Participeriez-vous à une balade nocturne ?")
    await press(admin, "✅ Terminer (pas d’autre question)")
    await press(admin, "Passer ➡️")  # no English version: English readers see the French
    await press(admin, "Maintenant")
    await admin.send("demain")
    assert admin.last_reply() == (
        "Nous n’avons pas compris cette date. Écrivez-la par exemple\u00a0: «\u202f1er décembre 18h30\u202f», «\u202f01/12/2026 18h30\u202f» ou «\u202f2026-12-01 18:30\u202f»."
    )
    await admin.send("31/12/2099 20:00")
    assert "Relisez la consultation" in admin.last_reply() and "eclairage-du-parc" in admin.last_reply()
    # Question kinds in plain words, not the file's codes.
    assert "1. Faut-il éclairer le parc la nuit ? [choix unique]" in admin.last_reply()
    assert "2. Participeriez-vous à une balade nocturne ? [oui ou non]" in admin.last_reply()
    async with sessionmaker() as session:
        draft = await c.get_by_slug(session, "eclairage-du-parc")
        assert draft is not None and draft.status == "draft"
    await press(admin, "📢 Publier")
    assert "Publiée" in admin.last_reply()
    # The whole link to share, and how to print the poster.
    assert "Lien à partager\u00a0: https://t.me/palabre_test_bot?start=c_eclairage-du-parc" in admin.last_reply()
    assert "<code>palabre qr eclairage-du-parc --output affiche.pdf</code>" in admin.last_reply()
    async with sessionmaker() as session:
        published = await c.get_by_slug(session, "eclairage-du-parc")
        assert published is not None and c.status_at(published) == c.Status.OPEN
        assert [q["type"] for q in published.questions] == ["single", "yesno"]
        assert [ch["label"] for ch in published.questions[0]["choices"]] == [
            {"fr": "Oui"},
            {"fr": "Non"},
            {"fr": "Seulement l’été"},
        ]


RANKING_AND_OTHER = [
    {
        "id": "lieu",
        "type": "single",
        "other": True,
        "required": False,
        "prompt": {"fr": "Où ?"},
        "choices": [{"id": "parc", "label": {"fr": "Au parc"}}, {"id": "place", "label": {"fr": "Sur la place"}}],
    },
    {
        "id": "usages",
        "type": "multiple",
        "max": 2,
        "other": True,
        "required": False,
        "prompt": {"fr": "Pour quoi faire ?"},
        "choices": [{"id": "jouer", "label": {"fr": "Jouer"}}, {"id": "lire", "label": {"fr": "Lire"}}],
    },
    {
        "id": "ordre",
        "type": "ranking",
        "other": False,
        "required": True,
        "prompt": {"fr": "Classez"},
        "choices": [
            {"id": "a", "label": {"fr": "Arbres"}},
            {"id": "b", "label": {"fr": "Bancs"}},
            {"id": "c", "label": {"fr": "Cabanes"}},
        ],
    },
]


async def test_other_free_answers_and_a_ranking(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    await setup_consultation(sessionmaker, questions=RANKING_AND_OTHER)
    gil = resident_factory(3010)
    await onboard(gil, "c_place-du-marche")
    await press(gil, "✏️ Autre…")
    assert gil.last_reply() == "Écrivez votre réponse ci-dessous, en quelques mots."
    await gil.send("Au bord de l’eau")
    assert "Question 2/3" in gil.last_reply()
    await press(gil, "Lire")
    await press(gil, "✏️ Autre…")
    await gil.send("Pique-niquer")
    assert "Question 3/3" in gil.last_reply()
    await press(gil, "Cabanes")
    await press(gil, "Arbres")
    assert "1. Cabanes\n2. Arbres" in gil.last_reply() and set(buttons(gil)) >= {"Bancs", "↩️ Recommencer", "✅ Valider"}
    await press(gil, "↩️ Recommencer")
    for label in ("Bancs", "Arbres", "Cabanes"):
        await press(gil, label)
    await press(gil, "✅ Valider")
    summary = gil.last_reply()
    assert "→ Autre\u00a0: Au bord de l’eau" in summary and "→ Lire, Autre\u00a0: Pique-niquer" in summary
    assert "→ 1. Bancs, 2. Arbres, 3. Cabanes" in summary
    await press(gil, "📨 Envoyer")
    assert await answers_of(sessionmaker, 3010) == {"lieu": "other", "usages": ["lire", "other"], "ordre": ["b", "a", "c"]}
    async with sessionmaker() as session:
        others = (await session.scalars(select(ConsultationAnswer.other_text).order_by(ConsultationAnswer.id))).all()
    assert others == ["Au bord de l’eau", "Pique-niquer", None]


async def test_a_long_summary_still_fits_in_one_message(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    questions = [
        {
            "id": f"t{i}",
            "type": "text",
            "max_length": 1000,
            "required": False,
            "prompt": {"fr": f"Question {i} " + "détaillée " * 20},
        }
        for i in range(14)  # with onboarding, under the flood control's 20 updates
    ]
    await setup_consultation(sessionmaker, questions=questions)
    hana = resident_factory(3011)
    await onboard(hana, "c_place-du-marche")
    for i in range(14):
        await hana.send(f"Réponse {i} " + "longue " * 120)
    summary = hana.last_reply()  # the recording session refuses a text over 4096 characters, like Telegram
    assert summary.startswith("<b>Réaménagement") and "Voici vos réponses" in summary and "14. Question 13" in summary
    assert len(await answers_of(sessionmaker, 3011)) == 14
