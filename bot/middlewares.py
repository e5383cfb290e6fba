"""Outer middlewares: one database session per update, the resident, the roles, the log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.types import TelegramObject, Update, User

from bot.fsm_storage import UPDATE_SESSION
from bot.pipeline import ATTEMPT_KEY, mark_processed
from participation.outbox import WAKE_SENDER_KEY, commit_so_far, mark_reachable
from participation.residents import get_or_create_resident, note_activity
from participation.text import strip_controls
from storage.db import SessionMaker

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
log = logging.getLogger("palabre.updates")


class UpdateLockMiddleware(BaseMiddleware):
    """Two updates of one resident are never handled at once (double taps, fast typing).

    aiogram's FSM middleware would take this lock itself, then read the conversation state in a
    session of its own before the update's session exists. Here the lock is taken first, around
    the update's session and its commit; the FSM middleware, placed inside the session and given
    no lock of its own, then reads the state within the update's transaction, once (the storage
    caches it for the update). The next update of the same resident still starts only after the
    commit.
    """

    def __init__(self, fsm: FSMContextMiddleware, isolation: BaseEventIsolation) -> None:
        self._fsm = fsm  # only to find the key, the same way aiogram does
        self._isolation = isolation

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = self._fsm.resolve_event_context(data["bot"], data)
        if context is None:
            return await handler(event, data)
        async with self._isolation.lock(key=context.key):
            return await handler(event, data)


class CleanTextMiddleware(BaseMiddleware):
    """Removes control characters from what residents type before any handler or storage sees it."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        message = event.message if isinstance(event, Update) else None
        if message is not None:
            changes = {
                name: strip_controls(value)
                for name in ("text", "caption")
                if (value := getattr(message, name)) and strip_controls(value) != value
            }
            if changes:
                event = event.model_copy(update={"message": message.model_copy(update=changes)})
        return await handler(event, data)


class DbSessionMiddleware(BaseMiddleware):
    """Opens the update's session, commits when the handler succeeded, rolls back otherwise.

    The update's writes are also committed before each Bot API call made while handling it
    (bot/pipeline.py), so the commit here stores only what was decided after the last call. The
    update is marked processed in the same transaction: delivered again, it is handled once.
    """

    def __init__(self, sessionmaker: SessionMaker, wake_sender: Callable[[], None] | None = None) -> None:
        self._sessionmaker = sessionmaker
        self._wake_sender = wake_sender

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self._sessionmaker() as session:
            data["session"] = session
            if self._wake_sender is not None:
                session.info[WAKE_SENDER_KEY] = self._wake_sender
            # A retry of an update whose first try already committed part of it must go on.
            if isinstance(event, Update) and not await mark_processed(session, event) and not data.get(ATTEMPT_KEY):
                await session.rollback()
                log.info("update id=%s already handled; ignored", event.update_id)
                context = data.get("log_context")
                if context is not None:
                    context["handler"] = "duplicate"
                return None
            token = UPDATE_SESSION.set(session)
            try:
                result = await handler(event, data)
            except Exception:
                await session.rollback()
                raise
            finally:
                UPDATE_SESSION.reset(token)
            # Messages the handler queued exist for the sender only now that they are committed.
            await commit_so_far(session)
            return result


class ResidentMiddleware(BaseMiddleware):
    """Loads (or creates, with nothing but the Telegram id) the resident behind a private update."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        # Group messages (the agents' group) do not make their authors residents.
        if user is not None and not user.is_bot and (chat is None or chat.type == "private"):
            resident = await get_or_create_resident(data["session"], user.id)
            await mark_reachable(data["session"], resident)
            await note_activity(data["session"], resident)
            data["resident"] = resident
        else:
            data["resident"] = None
        return await handler(event, data)


class UpdateLogMiddleware(BaseMiddleware):
    """One line per update: its kind, the handler, the outcome and the time. No personal data.

    Outer middleware on `dp.update`; HandlerNameMiddleware fills in which handler ran, since only
    the inner layer knows it.
    """

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        started = time.perf_counter()
        context: dict[str, str] = {"handler": "-"}
        data["log_context"] = context
        outcome = "error"
        user = data.get("event_from_user")
        # At DEBUG, who (by id) and what kind of update: never its text, name or place.
        log.debug("update id=%s type=%s from user id=%s", event.update_id, event.event_type, user.id if user else "-")
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            log.info(
                "update id=%s type=%s handler=%s outcome=%s ms=%.1f",
                event.update_id,
                event.event_type,
                context["handler"],
                outcome,
                (time.perf_counter() - started) * 1000,
            )


class HandlerNameMiddleware(BaseMiddleware):
    """Inner middleware: tells UpdateLogMiddleware which handler took the update."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        context = data.get("log_context")
        callback = getattr(data.get("handler"), "callback", None)
        if context is not None and callback is not None:
            context["handler"] = f"{callback.__module__}.{callback.__qualname__}"
        return await handler(event, data)
