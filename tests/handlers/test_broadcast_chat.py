"""Broadcasts written by an official in the chat: audience, count, confirmation, figures."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import func, select

from bot.broadcasting import BroadcastFeeder
from bot.i18n import build_i18n
from handlers.callbacks import AgeBracketCallback, AudienceCallback, BroadcastCallback, SettingsCallback, TopicCallback
from notices.menus import MENU_KIND
from storage.db import SessionMaker
from storage.models import AuditEntry, Broadcast, OutboxMessage
from tests.handlers.notifications_helpers import alerts, buttons, import_lists, make_official, onboard


async def test_official_broadcasts_to_a_topic_after_confirming_and_sees_figures(
    resident_factory, sessionmaker: SessionMaker, settings
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    marie, john, paul = resident_factory(4101), resident_factory(4102, "en"), resident_factory(4103)
    for person, language in ((marie, "fr"), (john, "en"), (paul, "fr")):
        await onboard(person, language)
    for person in (marie, john):
        await person.send("/settings")
        await person.tap(TopicCallback(code="urbanisme").pack())
    official = resident_factory(4001)
    await make_official(sessionmaker, 4001)
    await onboard(official)

    await official.send("/broadcast")
    assert official.last_reply().startswith("📢 Écrivez le message à envoyer")
    await official.send_sticker()
    assert official.last_reply().startswith("Envoyez un texte, ou une photo")
    await official.send("Réunion <importante> sur le PLU & les pistes cyclables")
    assert official.last_reply() == "👥 Qui doit le recevoir\u202f?"
    assert [text for text, _ in buttons(official)] == [
        "👥 Tout le monde",
        "🏷 Thème\u00a0: Urbanisme",
        "🏷 Thème\u00a0: Culture",
        "🏘 Quartier\u00a0: Centre-ville",
        "🏘 Quartier\u00a0: Nord",
        "🎂 Âge\u00a0: 15 à 29 ans",
        "🎂 Âge\u00a0: 30 à 44 ans",
        "🎂 Âge\u00a0: 45 à 59 ans",
        "🎂 Âge\u00a0: 60 à 74 ans",
        "🎂 Âge\u00a0: 75 ans et plus",
        "🗳 Participants d’une consultation",
        "📉 Groupes sous-représentés d’une consultation ouverte",
    ]
    await official.tap(AudienceCallback(flow="b", kind="t", code="urbanisme").pack())
    assert official.last_reply() == "Ce message sera envoyé à 2 habitants. L’envoyer\u202f?"
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
        assert draft is not None and draft.status == "draft"
        assert (
            await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind != MENU_KIND)) == 0
        )  # nothing before confirming (the official's own menu aside)

    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    assert official.last_reply().startswith(f"✅ La diffusion n°{draft.id} part vers 2 habitants.")
    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())  # double tap
    assert alerts(official)[-1] == "Cette diffusion a déjà été envoyée ou annulée."

    feeder = BroadcastFeeder(sessionmaker, build_i18n("fr"), settings)
    assert await feeder() is True
    assert await feeder() is False
    async with sessionmaker() as session:
        rows = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind != MENU_KIND).order_by(OutboxMessage.chat_id))
        ).all()
        audits = (await session.scalars(select(AuditEntry.action))).all()
    assert [(row.chat_id, row.payload["text"]) for row in rows] == [
        (
            4101,
            "📢 <b>Message de votre mairie</b>\n\nRéunion &lt;importante&gt; sur le PLU &amp; les pistes cyclables\n\n"
            "<i>Vous recevez ce message car vous suivez le thème «\u202fUrbanisme\u202f». "
            "Pour choisir ce que vous recevez\u00a0: ⚙️ Paramètres.</i>",
        ),
        (
            4102,
            "📢 <b>Message from your town hall</b>\n\nRéunion &lt;importante&gt; sur le PLU &amp; les pistes cyclables\n\n"
            "<i>You receive this message because you follow the topic “Urban planning”. To choose what you receive: ⚙️ Settings.</i>",
        ),
    ]
    assert "broadcast.confirm" in audits

    await official.send(f"/broadcast_status {draft.id}")
    assert official.last_reply() == (
        f"📊 <b>Diffusion n°{draft.id}</b>\nEnvoyés\u00a0: 0\nEn attente\u00a0: 2\nÉchecs\u00a0: 0\n"
        "Injoignables (bot bloqué)\u00a0: 0"
    )
    await official.send("/broadcast_status abc")
    assert official.last_reply().startswith("Utilisation\u00a0: /broadcast_status ID")


async def test_residents_cannot_broadcast_nor_confirm_someone_elses_draft(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    official, other_official, resident = resident_factory(4001), resident_factory(4002), resident_factory(4201)
    for person in (official, other_official, resident):
        await onboard(person)
    await make_official(sessionmaker, 4001)
    await make_official(sessionmaker, 4002)
    await resident.send("/broadcast")
    assert resident.last_reply() == "Désolé, cette commande est réservée aux élus et chargés de participation."
    await official.send("/broadcast")
    await official.send("Collecte des encombrants lundi")
    await official.tap(AudienceCallback(flow="b", kind="a").pack())
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None
    await resident.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    assert alerts(resident)[-1] == "Désolé, cette commande est réservée aux élus et chargés de participation."
    await other_official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    assert alerts(other_official)[-1] == "Cette diffusion a déjà été envoyée ou annulée."
    await official.tap(AudienceCallback(flow="b", kind="a").pack())  # an old audience button
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    await official.tap(BroadcastCallback(action="no", id=draft.id).pack())
    assert official.last_reply() == "Annulé\u00a0: rien n’a été envoyé."
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0


async def test_a_resident_with_notifications_off_is_not_counted(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, quiet, keen = resident_factory(4001), resident_factory(4301), resident_factory(4302)
    for person in (official, quiet, keen):
        await onboard(person)
    await make_official(sessionmaker, 4001)
    await quiet.send("/settings")
    await quiet.tap(SettingsCallback(action="off").pack())
    await official.send("/broadcast")
    await official.send("x" * 3501)
    assert official.last_reply() == "Un message compte au plus 3500 caractères. Merci de le raccourcir."
    await official.send("Fête de quartier samedi")
    await official.tap(AudienceCallback(flow="b", kind="a").pack())
    assert official.last_reply() == "Ce message sera envoyé à 2 habitants. L’envoyer\u202f?"  # the official and keen


async def test_a_photo_with_its_caption_is_broadcast_as_a_photo(resident_factory, sessionmaker: SessionMaker, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from aiogram.types import Message

    official, marie = resident_factory(4001), resident_factory(4401)
    for person in (official, marie):
        await onboard(person)
    await make_official(sessionmaker, 4001)
    await official.send("/broadcast")
    photo = {"file_id": "AgAD-photo", "file_unique_id": "u1", "width": 800, "height": 600}
    await official.feed(
        message=Message.model_validate(
            {
                "message_id": 2,
                "date": datetime.now(UTC),
                "chat": official.chat.model_dump(),
                "from": official.user.model_dump(),
                "photo": [photo],
                "caption": "Le nouveau parc ouvre samedi",
            }
        )
    )
    assert official.last_reply() == "👥 Qui doit le recevoir\u202f?"
    await official.tap(AudienceCallback(flow="b", kind="a").pack())
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None
    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    await BroadcastFeeder(sessionmaker, build_i18n("fr"), settings)()
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == 4401))
    assert row is not None and row.method == "sendPhoto"
    assert row.payload == {
        "photo": "AgAD-photo",
        "caption": "📢 <b>Message de votre mairie</b>\n\nLe nouveau parc ouvre samedi\n\n<i>Vous recevez ce message car vous avez "
        "accepté les annonces de la mairie. Pour choisir ce que vous recevez\u00a0: ⚙️ Paramètres.</i>",
    }


async def test_official_broadcasts_to_an_age_bracket(resident_factory, sessionmaker: SessionMaker, settings) -> None:  # type: ignore[no-untyped-def]
    official, young, older, eldest = (
        resident_factory(4001),
        resident_factory(4501),
        resident_factory(4502),
        resident_factory(4503),
    )
    for person in (official, young, older, eldest):
        await onboard(person)
    await make_official(sessionmaker, 4001)
    for person, code in ((young, "15-29"), (older, "75-plus"), (eldest, "75-plus")):
        await person.send("/settings")
        await person.tap(AgeBracketCallback(code=code).pack())
    await official.send("/broadcast")
    await official.send("Atelier numérique à la médiathèque")
    await official.tap(AudienceCallback(flow="b", kind="g", code="12-14").pack())  # forged
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    await official.tap(AudienceCallback(flow="b", kind="g", code="75-plus").pack())
    assert official.last_reply() == "Ce message sera envoyé à 2 habitants. L’envoyer\u202f?"
    async with sessionmaker() as session:
        draft = await session.scalar(select(Broadcast))
    assert draft is not None and (draft.audience_kind, draft.audience_value) == ("age", "75-plus")
    await official.tap(BroadcastCallback(action="ok", id=draft.id).pack())
    await BroadcastFeeder(sessionmaker, build_i18n("fr"), settings)()
    async with sessionmaker() as session:
        assert sorted((await session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.kind != MENU_KIND))).all()) == [
            4502,
            4503,
        ]


async def test_a_broadcast_to_nobody_is_refused_and_another_audience_can_be_chosen(
    resident_factory, sessionmaker: SessionMaker
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    official = resident_factory(4011)
    await make_official(sessionmaker, 4011)
    await onboard(official)
    await official.send("/broadcast")
    await official.send("Fête de quartier samedi")
    await official.tap(AudienceCallback(flow="b", kind="t", code="culture").pack())  # nobody follows « Culture »
    assert alerts(official)[-1] == (
        "Personne ne recevrait ce message\u00a0: aucun habitant de ce public n’accepte les annonces. Choisissez un autre public."
    )
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Broadcast)) == 0
    await official.tap(AudienceCallback(flow="b", kind="a").pack())  # everyone: the official at least
    assert official.last_reply() == "Ce message sera envoyé à 1 habitant. L’envoyer\u202f?"
