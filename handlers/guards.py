"""Middlewares that guard the handlers' routers: who may use the officials', agents' and admins' commands (and, where present, the main menu before any flow)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from participation.roles import Role, allows, roles_of

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RequireRole(BaseMiddleware):
    """Guards a router: someone without the role gets a polite refusal instead of silence.

    Installed as an inner middleware, so it runs only when one of the router's handlers matched.
    """

    def __init__(self, role: Role, refusal: Callable[[Role], str]) -> None:
        self._role = role
        self._refusal = refusal

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        roles = await roles_of(data["session"], user.id, data["settings"].admin_ids) if user else frozenset()
        if allows(roles, self._role):
            data["roles"] = roles
            return await handler(event, data)
        text = self._refusal(self._role)
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message):
            await event.answer(text)
        return None


class MenuFirst(BaseMiddleware):
    """A main-menu button always opens its menu item, whatever the bot was waiting for.

    Flows that wait for typed text (a question, a report description, /feedback…) would otherwise
    take the button's label as the resident's words; leaving the flow here, before any filter runs,
    is one rule for every such state instead of a check in each handler.
    """

    def __init__(self, entries: Callable[[], Iterable[str]], keep: Callable[[str], bool]) -> None:
        self._entries = entries  # the menu labels in the update's locale
        self._keep = keep  # states a menu tap must not leave (onboarding: consent comes first)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state: FSMContext | None = data.get("state")
        raw_state = data.get("raw_state")
        if (
            isinstance(event, Message)
            and event.chat.type == "private"
            and state is not None
            and raw_state is not None
            and not self._keep(raw_state)
            and event.text in set(self._entries())
        ):
            await state.clear()
            data["raw_state"] = None
        return await handler(event, data)
