"""/publish in the chat (decision, preview, confirmation, refusals) and broadcasts to a consultation's participants."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.callbacks import AudienceCallback, BroadcastCallback
from handlers.publication import PublishCallback
from storage.db import SessionMaker
from storage.models import AuditEntry, Broadcast, Consultation, Publication, Resident
from tests.consultation_helpers import add_consultation
from tests.handlers.notifications_helpers import alerts, buttons, make_official, onboard
from tests.participation.test_publication import close, respond


async def consultation_with_participants(sessionmaker: SessionMaker, *telegram_ids: int) -> Consultation:
    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session)
        for telegram_id in telegram_ids:
            resident = await session.scalar(select(Resident).where(Resident.telegram_id == telegram_id))
            assert resident is not None
            await respond(session, consultation, resident)
    return consultation


async def test_official_publishes_the_outcome_of_a_closed_consultation_once(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, marie, john = resident_factory(5001), resident_factory(5101), resident_factory(5102, "en")
    await onboard(official)
    await onboard(marie)
    await onboard(john, "en")
    await make_official(sessionmaker, 5001)
    consultation = await consultation_with_participants(sessionmaker, 5101, 5102)

    await official.send("/publish place-du-marche")
    assert official.last_reply() == (
        "Cette consultation n’est pas encore close\u00a0: son bilan pourra être publié à sa clôture."
    )
    await official.send("/publish")  # nothing closed yet: no button to offer
    assert official.last_reply() == (
        "Aucune consultation n’est encore close\u00a0: une décision se publie une fois la consultation close."
    )
    await official.send("/publish inconnue")
    assert official.last_reply() == "Aucune consultation ne porte cet identifiant\u00a0: choisissez-la avec /publish."

    async with sessionmaker.begin() as session:
        await close(session, consultation)
    await official.send("/publish place-du-marche")
    assert official.last_reply().startswith("🏛 <b>Réaménagement de la place du marché</b>\nÉcrivez la décision du conseil")
    await official.send_sticker()
    assert official.last_reply() == "Veuillez écrire la décision du conseil sous forme de texte. /annuler pour arrêter."
    await official.send("x" * 2001)
    assert official.last_reply() == "La décision peut compter au plus 2000 caractères. Merci de la raccourcir."
    await official.send("Le conseil a voté <la piétonnisation> le samedi & le dimanche.")
    preview = official.replies()[-2]
    assert preview.startswith("📣 <b>Vous avez donné votre avis, voici la suite\u00a0: Réaménagement de la place du marché</b>")
    # The decision comes first: it is what residents wait for.
    assert (
        "</b>\n\n🏛 <b>Ce que le conseil a décidé</b>\nLe conseil a voté &lt;la piétonnisation&gt; le samedi &amp; le dimanche.\n\n"
        "2 habitants ont participé." in preview
    )
    assert preview.endswith("\n\nMerci de votre participation\u202f!")
    assert official.last_reply() == (
        "Voici le message (avec un graphique par question). Il sera envoyé à 2 habitants, chacun dans sa langue. Le publier\u202f?"
    )
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Publication)) == 0  # nothing before confirming

    # Someone without the role cannot confirm it, even with the right button.
    await marie.tap(PublishCallback(action="ok", cid=consultation.id).pack())  # type: ignore[arg-type]
    assert alerts(marie)[-1] == "Désolé, cette commande est réservée aux élus et chargés de participation."
    await official.tap(PublishCallback(action="ok", cid=consultation.id + 1).pack())  # type: ignore[arg-type]  # forged
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    await official.tap(PublishCallback(action="ok", cid=consultation.id).pack())  # type: ignore[arg-type]
    assert official.last_reply() == "✅ Publié\u00a0: le bilan part vers 2 habitants."
    await official.tap(PublishCallback(action="ok", cid=consultation.id).pack())  # type: ignore[arg-type]  # double tap
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."

    await official.send("/publish place-du-marche")
    assert official.last_reply().startswith("Le bilan de cette consultation a déjà été publié.")
    async with sessionmaker() as session:
        (stored,) = (await session.scalars(select(Publication))).all()
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert stored.decision == "Le conseil a voté <la piétonnisation> le samedi & le dimanche."
    assert stored.author_telegram_id == 5001 and stored.recipient_count == 2
    assert actions.count("consultation.publish_results") == 1


async def test_residents_cannot_publish_and_cancel_publishes_nothing(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, marie = resident_factory(5001), resident_factory(5101)
    await onboard(official)
    await onboard(marie)
    await make_official(sessionmaker, 5001)
    consultation = await consultation_with_participants(sessionmaker, 5101)
    async with sessionmaker.begin() as session:
        await close(session, consultation)
    await marie.send("/publish place-du-marche")
    assert marie.last_reply() == "Désolé, cette commande est réservée aux élus et chargés de participation."
    await official.send("/publish place-du-marche")
    await official.send("/cancel")
    assert official.last_reply() == "Annulé\u00a0: rien n’a été publié."
    await official.send("/publish place-du-marche")
    await official.send("Le marché reste tel quel.")
    await official.tap(PublishCallback(action="no", cid=consultation.id).pack())  # type: ignore[arg-type]
    assert official.last_reply() == "Annulé\u00a0: rien n’a été publié."
    await official.tap(PublishCallback(action="ok", cid=consultation.id).pack())  # type: ignore[arg-type]
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Publication)) == 0


async def test_official_broadcasts_to_the_participants_of_a_consultation(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, marie, paul = resident_factory(5001), resident_factory(5101), resident_factory(5102)
    for person in (official, marie, paul):
        await onboard(person)
    await make_official(sessionmaker, 5001)
    async with sessionmaker.begin() as session:
        await add_consultation(session, slug="sans-reponse")  # nobody answered it: never offered
    await official.send("/broadcast")
    await official.send("Merci pour vos réponses")
    await official.tap(AudienceCallback(flow="b", kind="c").pack())
    assert official.last_reply() == "Aucune consultation n’a encore de participants. Choisissez un autre public."

    consultation = await consultation_with_participants(sessionmaker, 5101)
    await official.tap(AudienceCallback(flow="b", kind="c").pack())
    assert official.last_reply() == "🗳 Les participants de quelle consultation\u202f?"
    assert buttons(official) == [
        (
            "🗳 Réaménagement de la place du marché (1 participant)",
            AudienceCallback(flow="b", kind="c", code=str(consultation.id)).pack(),
        )
    ]
    await official.tap(AudienceCallback(flow="b", kind="c", code="99999").pack())  # forged: no such consultation
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    await official.tap(AudienceCallback(flow="b", kind="c", code=str(consultation.id)).pack())
    assert official.last_reply() == "Ce message sera envoyé à 1 habitant. L’envoyer\u202f?"
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None and (draft.audience_kind, draft.audience_value) == ("consultation", "place-du-marche")
    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    assert official.last_reply().startswith(f"✅ La diffusion n°{draft.id} part vers 1 habitant.")
