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
