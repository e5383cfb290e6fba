"""Officials find their tools in the chat: roles with buttons, consultations picked from buttons, plain words.

Issue 15 item 8 and the review's rows 47–52 and 57: what an admin or an official reads, in French and
English; stale, forged and unauthorised taps change nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from handlers.callbacks import LanguageCallback
from notices.consultations_admin import PickFor
from notices.roles import RoleAction
from participation.audit import Source
from participation.roles import Role, grant_role
from storage.db import SessionMaker
from storage.models import AuditEntry, Consultation, OutboxMessage, Resident, RoleGrant
from storage.types import utcnow
from tests.consultation_helpers import add_consultation
from tests.handlers.notifications_helpers import alerts, buttons, import_lists, make_official, onboard
from tests.participation.test_publication import respond

NNBSP = "\u202f"
NBSP = "\u00a0"


async def queued(sessionmaker: SessionMaker, chat_id: int) -> list[tuple[str, dict[str, Any]]]:
    """(method, payload) of the outbox rows for `chat_id`, oldest first."""
    async with sessionmaker() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == chat_id).order_by(OutboxMessage.id))
        return [(row.method, row.payload) for row in rows]


async def grants(sessionmaker: SessionMaker) -> list[tuple[int, str]]:
    async with sessionmaker() as session:
        return [(g.telegram_id, g.role) for g in await session.scalars(select(RoleGrant).order_by(RoleGrant.telegram_id))]


def press(person, label: str) -> str:  # type: ignore[no-untyped-def]
    return dict(buttons(person))[label]


# --- Roles --------------------------------------------------------------------------------------


async def test_an_admin_grants_a_role_from_buttons_and_the_new_official_gets_their_commands(
    resident_factory, sessionmaker
) -> None:  # type: ignore[no-untyped-def]
    admin, lea = resident_factory(1), resident_factory(7002)
    await onboard(admin)
    await onboard(lea)
    await admin.send("/grant 7002")
    assert admin.last_reply() == f"Quel rôle donner à 7002{NNBSP}?"
    assert [text for text, _data in buttons(admin)] == ["agent de la mairie", "élu ou chargé de participation", "✖️ Annuler"]
    await admin.tap(press(admin, "élu ou chargé de participation"))
    assert admin.last_reply() == (
        f"✅ 7002 est maintenant «{NNBSP}élu ou chargé de participation{NNBSP}». Nous avons prévenu cette personne."
    )
    assert await grants(sessionmaker) == [(7002, "official")]
    async with sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "role.grant"))
    assert entry is not None and entry.actor_telegram_id == 1 and entry.subject == "7002" and entry.source == Source.CHAT

    sent = await queued(sessionmaker, 7002)
    news = [payload["text"] for method, payload in sent if method == "sendMessage"]
    assert len(news) == 1 and news[0].startswith(
        f"👋 Vous êtes maintenant «{NNBSP}élu ou chargé de participation{NNBSP}» sur Palabre. Vos commandes{NBSP}:\n"
    )
    assert "/results — Les résultats d’une consultation" in news[0] and "/grant" not in news[0]
    menus = [payload for method, payload in sent if method == "setMyCommands"]
    assert len(menus) == 1 and menus[0]["scope"] == {"type": "chat", "chat_id": 7002}
    names = [command["command"] for command in menus[0]["commands"]]
    assert "signaler" in names and "results" in names and "publish" in names and "grant" not in names

    await admin.send("/grant 7002 official")  # given twice: nothing changes, nothing is queued again
    assert admin.last_reply() == f"7002 est déjà «{NNBSP}élu ou chargé de participation{NNBSP}»{NBSP}: rien n’a changé."
    assert len(await queued(sessionmaker, 7002)) == 2


async def test_roles_in_english(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    admin, sam = resident_factory(1, "en"), resident_factory(7003, "en")
    await onboard(admin, "en")
    await onboard(sam, "en")
    await admin.send("/grant 7003 agent")
    assert admin.last_reply() == "✅ 7003 is now “town hall agent”. We let them know."
    news = [payload["text"] for method, payload in await queued(sessionmaker, 7003) if method == "sendMessage"]
    assert news == [
        "👋 You are now “town hall agent” on Palabre.\n"
        "New reports arrive in the agents' group, with buttons to change their status."
    ]
    await admin.send("/roles")
    assert admin.last_reply() == "👥 <b>Roles</b>\n• 1: administrator (set by ADMIN_IDS)\n• 7003: town hall agent"
    await admin.tap(press(admin, "➖ Take back: 7003, town hall agent"))
    assert admin.last_reply() == "Take the role “town hall agent” back from 7003? They will no longer have its commands."
    await admin.tap(press(admin, "✅ Take it back"))
    assert admin.last_reply() == "✅ 7003 is no longer “town hall agent”."


async def test_an_admin_revokes_after_confirming_and_the_menu_goes(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    admin, lea, official = resident_factory(1), resident_factory(7002), resident_factory(7004)
    for person in (admin, lea, official):
        await onboard(person)
    await make_official(sessionmaker, 7002)
    await make_official(sessionmaker, 7004)
    await admin.send("/roles")
    assert admin.last_reply() == (
        f"👥 <b>Rôles</b>\n• 1{NBSP}: administrateur (fixé par ADMIN_IDS)\n"
        f"• 7002{NBSP}: élu ou chargé de participation\n• 7004{NBSP}: élu ou chargé de participation"
    )
    revoke = press(admin, f"➖ Retirer{NBSP}: 7002, élu ou chargé de participation")
    await admin.tap(revoke)
    assert admin.last_reply() == (
        f"Retirer à 7002 le rôle «{NNBSP}élu ou chargé de participation{NNBSP}»{NNBSP}? Cette personne n’aura plus ses commandes."
    )
    assert await grants(sessionmaker) == [(7002, "official"), (7004, "official")]  # nothing before the confirmation
    await admin.tap(press(admin, "✖️ Annuler"))
    assert admin.last_reply() == f"Annulé{NBSP}: rien n’a changé."
    assert await grants(sessionmaker) == [(7002, "official"), (7004, "official")]

    await admin.tap(revoke)
    confirm = press(admin, "✅ Retirer le rôle")
    await admin.tap(confirm)
    assert admin.last_reply() == f"✅ 7002 n’est plus «{NNBSP}élu ou chargé de participation{NNBSP}»."
    assert await grants(sessionmaker) == [(7004, "official")]
    assert await queued(sessionmaker, 7002) == [("deleteMyCommands", {"scope": {"type": "chat", "chat_id": 7002}})]
    async with sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "role.revoke"))
    assert entry is not None and entry.actor_telegram_id == 1 and entry.subject == "7002"

    await admin.tap(confirm)  # the same button again: already done
    assert (
        admin.last_reply() == f"7002 n’est pas (ou plus) «{NNBSP}élu ou chargé de participation{NNBSP}»{NBSP}: rien n’a changé."
    )
    await admin.tap(RoleAction(a="y", u=1, r="admin").pack())  # forged: admins come from ADMIN_IDS
    assert alerts(admin)[-1] == "Ce bouton n’est plus valable."
    await admin.tap(RoleAction(a="q", u=7004, r="official").pack())
    assert alerts(admin)[-1] == "Ce bouton n’est plus valable."

    # An official is not an admin: the same buttons and commands are refused and change nothing.
    await official.tap(RoleAction(a="y", u=7004, r="official").pack())
    assert alerts(official)[-1] == "Désolé, cette commande est réservée aux administrateurs."
    await official.send("/roles")
    assert official.last_reply() == "Désolé, cette commande est réservée aux administrateurs."
    assert await grants(sessionmaker) == [(7004, "official")]


async def test_someone_who_never_wrote_gets_their_menu_at_start(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    admin, newcomer, resident = resident_factory(1), resident_factory(7999), resident_factory(7998)
    await onboard(admin)
    await admin.send("/grant 7999 official")
    assert admin.last_reply() == (
        f"✅ 7999 est maintenant «{NNBSP}élu ou chargé de participation{NNBSP}». "
        "Cette personne recevra ses commandes à sa première visite au bot (/start)."
    )
    assert await queued(sessionmaker, 7999) == []  # Telegram would answer « chat not found »
    await newcomer.send("/start")
    menus = [payload for method, payload in await queued(sessionmaker, 7999) if method == "setMyCommands"]
    assert len(menus) == 1 and "newconsultation" in [c["command"] for c in menus[0]["commands"]]
    assert "signaler" in [c["command"] for c in menus[0]["commands"]]  # the default language until they choose
    await newcomer.tap(LanguageCallback(code="en").pack())
    menus = [payload for method, payload in await queued(sessionmaker, 7999) if method == "setMyCommands"]
    assert len(menus) == 2 and "report" in [c["command"] for c in menus[1]["commands"]]
    assert "Create a consultation step by step" in [c["description"] for c in menus[1]["commands"]]
    await resident.send("/start")  # a resident has no menu of their own
    assert await queued(sessionmaker, 7998) == []


async def test_grant_usage_and_bad_input(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    admin = resident_factory(1)
    await onboard(admin)
    for typed in ("/grant", "/grant abc official", "/grant 12 official extra", "/grant 99999999999999999999 official"):
        await admin.send(typed)
        assert admin.last_reply().startswith(f"Utilisation{NBSP}: /grant IDENTIFIANT, puis choisissez le rôle")
    await admin.send("/grant 7005 admin")
    assert admin.last_reply() == "Rôle inconnu. Choisissez agent ou official."
    await admin.tap(RoleAction(a="g", u=7005, r="admin").pack())
    assert alerts(admin)[-1] == "Ce bouton n’est plus valable."
    assert await grants(sessionmaker) == []


# --- Consultations picked from buttons ------------------------------------------------------------


async def test_results_from_a_paginated_picker_newest_first(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    official, resident = resident_factory(7101), resident_factory(7102)
    await onboard(official)
    await onboard(resident)
    await make_official(sessionmaker, 7101)
    async with sessionmaker.begin() as session:
        for number in range(1, 11):
            consultation = await add_consultation(session, slug=f"projet-{number}", title={"fr": f"Projet {number}"})
            # Projet 10 opened last: newest first.
            await session.execute(
                update(Consultation)
                .where(Consultation.id == consultation.id)
                .values(opens_at=utcnow() - timedelta(days=20 - number))
            )
    await official.send("/results")
    assert official.last_reply() == f"Quelle consultation{NNBSP}? (page 1 sur 2)"
    labels = [text for text, _data in buttons(official)]
    assert labels == [f"Projet {n} (ouverte)" for n in range(10, 2, -1)] + ["Plus anciennes ➡️"]

    await official.tap(press(official, "Plus anciennes ➡️"))
    edit = official.session.requests[-1]
    assert type(edit).__name__ == "EditMessageText" and edit.text == f"Quelle consultation{NNBSP}? (page 2 sur 2)"
    assert [b.text for row in edit.reply_markup.inline_keyboard for b in row] == [
        "Projet 2 (ouverte)",
        "Projet 1 (ouverte)",
        "⬅️ Plus récentes",
    ]
    projet_2 = edit.reply_markup.inline_keyboard[0][0].callback_data
    await official.tap(projet_2)
    assert any(text.startswith("📊 <b>Projet 2</b>") for text in official.replies())

    before = len(official.replies())
    await official.tap(PickFor(a="r", cid=999_999).pack())  # forged or deleted
    assert alerts(official)[-1] == "Ce bouton n’est plus valable." and len(official.replies()) == before
    await official.tap(PickFor(a="z", cid=1).pack())  # an action that does not exist
    assert alerts(official)[-1] == "Ce bouton n’est plus valable." and len(official.replies()) == before
    await resident.tap(projet_2)  # a resident cannot use an official's button
    assert alerts(resident)[-1] == "Désolé, cette commande est réservée aux élus et chargés de participation."
    assert not any("Projet 2" in text for text in resident.replies())


async def test_results_name_neighbourhoods_and_count_answers_in_words(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    official, marie = resident_factory(7201), resident_factory(7202)
    await onboard(official)
    await onboard(marie)
    await make_official(sessionmaker, 7201)
    await import_lists(sessionmaker)
    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session)
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == 7202))
        assert resident is not None
        resident.neighbourhood = "centre"
        await respond(session, consultation, resident, frequence="hebdo")
    await official.send("/results")
    await official.tap(press(official, "Réaménagement de la place du marché (ouverte)"))
    summary = next(text for text in official.replies() if text.startswith("📊"))
    assert f"Par quartier (réponses complètes / commencées){NBSP}: Centre-ville 1/1" in summary
    assert "(1 réponse)" in summary and "(1 réponses)" not in summary


async def test_publish_and_poll_pick_only_what_fits(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    official = resident_factory(7301, "en")
    await onboard(official, "en")
    await make_official(sessionmaker, 7301)
    async with sessionmaker.begin() as session:
        await add_consultation(session)
        closed = await add_consultation(session, slug="ecole", title={"fr": "Cour de l’école", "en": "School yard"})
        await session.execute(
            update(Consultation)
            .where(Consultation.id == closed.id)
            .values(opens_at=utcnow() - timedelta(days=10), closes_at=utcnow() - timedelta(minutes=1))
        )
    await official.send("/publish")
    assert official.last_reply() == "Which consultation?"
    assert [text for text, _data in buttons(official)] == ["School yard (closed)"]
    await official.tap(press(official, "School yard (closed)"))
    assert official.last_reply().startswith("🏛 <b>School yard</b>\nType the council’s decision")
    await official.send("/cancel")
    await official.send("/poll")
    assert [text for text, _data in buttons(official)] == ["Redesign of the market square (open)"]
    await official.tap(press(official, "Redesign of the market square (open)"))
    assert official.last_reply() == "A native poll needs a consultation of exactly one question."


async def test_grant_news_reaches_an_official_in_their_language(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    """The CLI's and back office's path: the domain grants, notices queue the news (same function as the chat)."""
    from bot.i18n import build_i18n
    from notices.roles import after_role_change

    sam = resident_factory(7401, "en")
    await onboard(sam, "en")
    i18n = build_i18n("fr")
    async with sessionmaker.begin() as session:
        await grant_role(session, 7401, Role.OFFICIAL, granted_by=None, source=Source.CLI)
        with i18n.context():
            assert await after_role_change(session, 7401, [1], i18n, granted_role=Role.OFFICIAL)
    news = [payload["text"] for method, payload in await queued(sessionmaker, 7401) if method == "sendMessage"]
    assert news[0].startswith("👋 You are now “councillor or participation officer” on Palabre. Your commands:\n")
    menu = next(payload for method, payload in await queued(sessionmaker, 7401) if method == "setMyCommands")
    assert "report" in [c["command"] for c in menu["commands"]]  # English names for an English speaker


# --- A consultation created in the chat, in several languages -------------------------------------


async def test_a_consultation_created_in_the_chat_gets_its_english_version(resident_factory, sessionmaker) -> None:  # type: ignore[no-untyped-def]
    from participation import consultations

    admin, john = resident_factory(1), resident_factory(7501, "en")
    await onboard(admin)
    await onboard(john, "en")
    await admin.send("/newconsultation")
    await admin.send("Éclairage du parc")
    await admin.tap(press(admin, "Choix unique"))
    await admin.send("Faut-il éclairer le parc la nuit ?")
    await admin.send("Oui\nNon")
    await admin.tap(press(admin, "Échelle de 1 à 5"))
    await admin.send("Le parc est-il sûr ?")
    await admin.tap(press(admin, "✅ Terminer (pas d’autre question)"))
    assert admin.last_reply() == (
        f"Des habitants lisent Palabre en anglais. Ajouter la version en anglais du titre et des questions{NNBSP}? "
        "Les habitants qui lisent une autre langue voient l’original."
    )
    await admin.tap(press(admin, "➕ Ajouter la version en anglais"))
    assert admin.last_reply() == (f"Titre en anglais{NBSP}:\n<i>Éclairage du parc</i>\n(/passer garde l’original pour ce texte)")
    await admin.send("Lighting the park")
    assert admin.last_reply().startswith(f"Question 1 en anglais{NBSP}:\n<i>Faut-il éclairer le parc la nuit ?</i>")
    await admin.send("Should the park be lit at night?")
    assert admin.last_reply().startswith(f"Choix de la question 1 en anglais, un par ligne, dans le même ordre{NBSP}:")
    await admin.send("Yes")  # one choice for two: refused, nothing kept
    assert admin.last_reply() == "Envoyez 2 choix, un par ligne, dans le même ordre (ou /passer)."
    await admin.send("Yes\nNo")
    assert admin.last_reply().startswith(f"Question 2 en anglais{NBSP}:")
    await admin.send("/passer")  # this one stays in French for English readers
    await admin.tap(press(admin, "Maintenant"))
    await admin.send("31/12/2099 20:00")
    assert f"Langues{NBSP}: français, anglais" in admin.last_reply()
    await admin.tap(press(admin, "📢 Publier"))
    async with sessionmaker() as session:
        stored = await consultations.get_by_slug(session, "eclairage-du-parc")
    assert stored is not None
    assert stored.title == {"fr": "Éclairage du parc", "en": "Lighting the park"}
    assert stored.questions[0]["prompt"] == {"fr": "Faut-il éclairer le parc la nuit ?", "en": "Should the park be lit at night?"}
    assert [c["label"] for c in stored.questions[0]["choices"]] == [{"fr": "Oui", "en": "Yes"}, {"fr": "Non", "en": "No"}]
    assert stored.questions[1]["prompt"] == {"fr": "Le parc est-il sûr ?"}

    await john.send("/consultations")  # what an English resident reads
    assert "Lighting the park" in john.last_reply() or any("Lighting the park" in text for text, _d in buttons(john))


async def test_the_language_offer_in_english_and_a_stale_button(resident_factory) -> None:  # type: ignore[no-untyped-def]
    from notices.consultations_admin import Build

    admin = resident_factory(1, "en")
    await onboard(admin, "en")
    await admin.send("/newconsultation")
    await admin.send("Park lighting")
    await admin.tap(press(admin, "Yes / no"))
    await admin.send("Should the park be lit?")
    await admin.tap(press(admin, "✅ Finish (no other question)"))
    assert admin.last_reply().startswith("Some residents read Palabre in English.")  # the default locale is French
    await admin.tap(Build(a="l", v="de").pack())  # forged: a language nobody was offered
    assert alerts(admin)[-1] == "This button is no longer valid."
    await admin.tap(press(admin, "Skip ➡️"))
    assert admin.last_reply().startswith("When does it open?")
