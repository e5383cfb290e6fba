"""Officials find their tools: /help lists the commands of their role; residents see none of them."""

from __future__ import annotations

from storage.db import SessionMaker
from tests.handlers.notifications_helpers import make_official, onboard


async def test_help_shows_staff_commands_to_officials_only(resident_factory, sessionmaker: SessionMaker) -> None:  # type: ignore[no-untyped-def]
    official, resident = resident_factory(4301), resident_factory(4302)
    await make_official(sessionmaker, 4301)
    await onboard(official)
    await onboard(resident)
    await official.send("/aide")
    assert "<b>Vos commandes d’agent ou d’élu</b>" in official.last_reply()
    assert "/newconsultation — Créer une consultation pas à pas" in official.last_reply()
    assert "/grant" not in official.last_reply()  # an admin's command
    await resident.send("/aide")
    assert "Comment fonctionne Palabre" in resident.last_reply() and "/newconsultation" not in resident.last_reply()


async def test_help_lists_every_menu_item_and_the_emergency_numbers(resident_factory) -> None:  # type: ignore[no-untyped-def]
    resident = resident_factory(4303)
    await onboard(resident)
    await resident.send("/aide")
    help_text = resident.last_reply()
    for item in (
        "🗳 <b>Consultations</b>",
        "📍 <b>Signaler un problème</b>",
        "🌱 <b>Mon impact</b>",
        "💬 <b>Écrire à la mairie</b>",
    ):
        assert item in help_text
    assert "/mesdonnees" in help_text and "/oublier" in help_text and "/privacy" not in help_text
    assert help_text.endswith(
        "🚨 En cas d’urgence, n’écrivez pas ici\u00a0: appelez le 17 (police), le 18 (pompiers), le 15 (Samu) ou le 112."
    )
