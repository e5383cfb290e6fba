"""/web in the chat: a one-time sign-in link for staff, a polite refusal for residents."""

from __future__ import annotations

from sqlalchemy import func, select

from participation.web_access import digest
from storage.models import WebSignInToken


async def test_staff_get_a_link_residents_a_refusal_and_nothing_when_disabled(resident_factory, sessionmaker, settings) -> None:  # type: ignore[no-untyped-def]
    resident, admin = resident_factory(3001), resident_factory(1)
    await admin.send("/web")
    assert admin.last_reply() == "L’espace agents n’est pas activé pour cette commune."

    settings.web_enabled, settings.web_base_url = True, "https://palabre.example.fr/"
    await resident.send("/web")
    assert resident.last_reply() == "Désolé, l’espace agents est réservé au personnel et aux élus de la mairie."
    await admin.send("/web")
    reply = admin.last_reply()
    assert "valable une fois pendant 10 minutes" in reply
    link = next(word for word in reply.split() if word.startswith("https://"))
    assert link.startswith("https://palabre.example.fr/backoffice/signin/")
    async with sessionmaker() as session:
        hashes = list(await session.scalars(select(WebSignInToken.token_hash)))
        assert hashes == [digest(link.rsplit("/", 1)[1])]
        assert (
            await session.scalar(select(func.count()).select_from(WebSignInToken).where(WebSignInToken.telegram_id == 3001)) == 0
        )
