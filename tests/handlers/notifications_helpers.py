"""Shared steps for the notification handler tests."""

from __future__ import annotations

from handlers.callbacks import ConsentCallback, LanguageCallback
from participation import subscriptions
from participation.audit import Source
from participation.roles import Role, grant_role
from storage.db import SessionMaker

TOPICS = "topics:\n  - code: urbanisme\n    name: {fr: Urbanisme, en: Urban planning}\n  - {code: culture, name: Culture}\n"
NEIGHBOURHOODS = (
    "neighbourhoods:\n  - code: centre\n    name: {fr: Centre-ville, en: City centre}\n  - {code: nord, name: Nord}\n"
)


async def onboard(person, language: str = "fr") -> None:  # type: ignore[no-untyped-def]
    await person.send("/start")
    await person.tap(LanguageCallback(code=language).pack())
    await person.tap(ConsentCallback(accept=True).pack())


async def import_lists(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        await subscriptions.import_neighbourhoods(session, NEIGHBOURHOODS)


async def make_official(sessionmaker: SessionMaker, telegram_id: int) -> None:
    async with sessionmaker.begin() as session:
        await grant_role(session, telegram_id, Role.OFFICIAL, granted_by=None, source=Source.CLI)


def buttons(person) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(text, callback_data) of the inline keyboard of the last message or edit sent to `person`."""
    for request in reversed(person.session.requests):
        if getattr(request, "chat_id", None) != person.user_id:
            continue
        markup = getattr(request, "reply_markup", None)
        if markup is not None and hasattr(markup, "inline_keyboard"):
            return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]
    return []


def alerts(person) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.text for r in person.session.requests if type(r).__name__ == "AnswerCallbackQuery" and r.text]
