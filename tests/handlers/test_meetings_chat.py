"""Public meetings in the chat: the official announces, residents answer, the official sees the count."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.broadcasting import BroadcastFeeder
from bot.i18n import build_i18n
from handlers.callbacks import AudienceCallback, MeetingConfirmCallback
from notices.meetings import MeetingCallback
from storage.db import SessionMaker
from storage.models import AuditEntry, Meeting, OutboxMessage
from tests.handlers.notifications_helpers import alerts, import_lists, make_official, onboard


async def test_official_announces_a_meeting_residents_answer_and_the_count_shows(
    resident_factory, sessionmaker: SessionMaker, settings
) -> None:  # type: ignore[no-untyped-def]
    await import_lists(sessionmaker)
    official, marie, john = resident_factory(5001), resident_factory(5101), resident_factory(5102, "en")
    for person, language in ((official, "fr"), (marie, "fr"), (john, "en")):
        await onboard(person, language)
    await make_official(sessionmaker, 5001)
    when = (datetime.now(settings.tz) + timedelta(days=10)).replace(hour=18, minute=30, second=0, microsecond=0)

    await official.send("/meeting")
    assert official.last_reply().startswith("📅 Nouvelle réunion publique.")
    await official.send("Avenir de la place <du> marché")
    await official.send("demain soir")
    assert official.last_reply() == (
        "Nous n’avons pas compris cette date. Écrivez-la par exemple\u00a0: «\u202f1er décembre 18h30\u202f», «\u202f01/12/2026 18h30\u202f» ou «\u202f2026-12-01 18:30\u202f»."
    )
    await official.send("01/01/2020 18:30")
    assert official.last_reply() == "Cette date est passée. Indiquez une date à venir."
    await official.send(when.strftime("%d/%m/%Y %H:%M"))
    assert official.last_reply() == "📍 Où aura-t-elle lieu\u202f?"
    await official.send_sticker()
    assert official.last_reply() == "Merci de répondre par un texte. /annuler pour arrêter."
    await official.send("Salle des fêtes, 2 rue Pasteur")
    await official.tap(AudienceCallback(flow="m", kind="a").pack())
    summary = official.last_reply()
    assert "<b>Avenir de la place &lt;du&gt; marché</b>" in summary
    assert "à 18\u00a0h\u00a030" in summary and "L’invitation sera envoyée à 3 habitants." in summary
    await official.tap(MeetingConfirmCallback(ok=True).pack())
    assert official.last_reply().startswith("✅ Réunion annoncée\u00a0: l’invitation part vers 3 habitants.")
    await official.tap(MeetingConfirmCallback(ok=True).pack())  # double tap: one meeting only
    assert alerts(official)[-1] == "Ce bouton n’est plus valable."
    async with sessionmaker() as session:
        meetings = (await session.scalars(select(Meeting))).all()
    assert len(meetings) == 1 and meetings[0].starts_at == when

    # The invitation goes out through the outbox, in each resident's language, with its buttons.
    assert await BroadcastFeeder(sessionmaker, build_i18n("fr"), settings)() is True
    async with sessionmaker() as session:
        rows = {row.chat_id: row.payload for row in await session.scalars(select(OutboxMessage))}
        audits = (await session.scalars(select(AuditEntry.action))).all()
    assert rows[5101]["text"].startswith("📅 <b>Réunion publique</b>")
    assert "Viendrez-vous\u202f?" in rows[5101]["text"]
    assert rows[5102]["text"].endswith("Will you come?")
    labels = [b["text"] for row in rows[5102]["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["✅ I'll come", "❌ I can't"]
    assert "meeting.announce" in audits

    meeting_id = meetings[0].id
    await marie.tap(MeetingCallback(id=meeting_id, come=True).pack())
    assert alerts(marie)[-1] == "✅ C’est noté\u00a0: à bientôt\u202f! Vous recevrez un rappel la veille."
    await marie.tap(MeetingCallback(id=meeting_id, come=True).pack())  # twice: still one
    await john.tap(MeetingCallback(id=meeting_id, come=False).pack())
    assert alerts(john)[-1] == "Noted. Thank you for letting us know."
    await john.tap(MeetingCallback(id=meeting_id + 7, come=True).pack())
    assert alerts(john)[-1] == "This button is no longer valid."

    await official.send("/meetings")
    assert "1 viendront, 1 ne pourront pas." in official.last_reply()
    await marie.send("/meetings")
    assert marie.last_reply() == "Désolé, cette commande est réservée aux élus et chargés de participation."


async def test_cancel_leaves_nothing_behind(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official = resident_factory(5001)
    await onboard(official)
    await make_official(sessionmaker, 5001)
    await official.send("/meeting")
    await official.send("Conseil de quartier")
    await official.send("/cancel")
    assert official.last_reply() == "Annulé\u00a0: rien n’a été envoyé."
    await official.send("/settings")  # the flow is over: other commands work again
    assert official.last_reply().startswith("⚙️ <b>Paramètres</b>")
    await official.send("/meetings")
    assert official.last_reply() == "Aucune réunion publique n’est prévue."
    async with sessionmaker() as session:
        assert (await session.scalars(select(Meeting))).all() == []
