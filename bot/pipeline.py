"""Decide, commit, then speak: an update's writes are stored before the bot says anything of them.

Three pieces, assembled in bot/app.py:

- `CommitBeforeSpeaking`, a request middleware of the reply Bot's session: when a Bot API call is
  made while an update is handled, the update's transaction is committed first, so a resident is
  only ever shown what is stored, and no transaction stays open across a network round trip
  (on SQLite the only write lock would be held for it). A reply that fails for a passing reason
  (network, Telegram 5xx) is sent again there, after the commit, without handling the update twice.
- `UpdateRetryMiddleware`, outside the update's session: an update that failed for a passing
  reason (database locked or unreachable) is handled again with a fresh session; one that keeps
  failing is recorded without its content and the person gets one sentence instead of silence.
- `mark_processed`, called by DbSessionMiddleware in the update's own transaction: the same update
  delivered twice (webhook retries, several workers, a restart) is handled once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import delete
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.fsm_storage import UPDATE_SESSION
from bot.i18n import locale_for
from participation.outbox import commit_so_far
from storage.db import SessionMaker
from storage.models import FailedUpdate, ProcessedUpdate
from storage.types import utcnow
from storage.upsert import insert_ignore

log = logging.getLogger("palabre.updates")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
ATTEMPT_KEY = "update_attempt"  # in the handler data: 0 the first time an update is handled
PROCESSED_KEEP = timedelta(days=7)  # Telegram gives up redelivering an update within a day
PURGE_EVERY = 1000  # one update in this many purges the old processed_update rows
FIRST_PAUSE = 0.05
LONGEST_PAUSE = 5.0


def is_telegram_trouble(error: BaseException) -> bool:
    """Telegram slow, unreachable or asking to wait: retried per request, after the commit."""
    return isinstance(error, TelegramRetryAfter | TelegramNetworkError | TelegramServerError)


def is_database_trouble(error: BaseException) -> bool:
    """The database locked, unreachable or gone mid-query: the whole update is handled again."""
    if isinstance(error, sa_exc.DBAPIError):
        return error.connection_invalidated or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError | ConnectionError | TimeoutError):
        return True
    # asyncpg raises its own connection errors when the server goes away mid-query.
    return type(error).__module__.startswith("asyncpg") and "Connection" in type(error).__name__


async def mark_processed(session: AsyncSession, update: Update) -> bool:
    """Record the update as handled, in its own transaction; False when it already was."""
    fresh = await insert_ignore(
        session,
        ProcessedUpdate,
        {"update_id": update.update_id, "at": utcnow()},
        ["update_id"],
    )
    if fresh and update.update_id % PURGE_EVERY == 0:
        await session.execute(delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < utcnow() - PROCESSED_KEEP))
    return fresh


class CommitBeforeSpeaking(BaseRequestMiddleware):
    """For the reply Bot: commit the update's session before any Bot API call made during it."""

    def __init__(self, retry_seconds: float) -> None:
        self._retry_seconds = retry_seconds

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        session = UPDATE_SESSION.get()
        if session is None:  # not during an update (start-up, command menus): nothing to commit
            return await make_request(bot, method)
        await commit_so_far(session)
        deadline = time.monotonic() + self._retry_seconds
        pause = FIRST_PAUSE
        while True:
            try:
                return await make_request(bot, method)
            except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as error:
                # Not the whole update again: what it decided is committed, and would be refused as done.
                wait = max(pause, float(error.retry_after)) if isinstance(error, TelegramRetryAfter) else pause
                if time.monotonic() + wait > deadline:
                    raise
                log.warning("reply %s failed (%s); sending again in %.2fs", type(method).__name__, type(error).__name__, wait)
                await asyncio.sleep(wait)
                pause = min(pause * 2, LONGEST_PAUSE)


class UpdateRetryMiddleware(BaseMiddleware):
    """Outer middleware around the update's session: passing failures are retried, others told."""

    def __init__(self, sessionmaker: SessionMaker, i18n: I18n, default_locale: str, retry_seconds: float) -> None:
        self._sessionmaker = sessionmaker
        self._i18n = i18n
        self._default_locale = default_locale
        self._retry_seconds = retry_seconds

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        deadline = time.monotonic() + self._retry_seconds
        pause = FIRST_PAUSE
        attempt = 0
        while True:
            # A copy per attempt: what the inner middlewares put there belongs to one session.
            attempt_data = {**data, ATTEMPT_KEY: attempt}
            try:
                return await handler(event, attempt_data)
            except Exception as error:
                if is_database_trouble(error) and time.monotonic() + pause <= deadline:
                    log.warning(
                        "update id=%s failed (%s); handling it again in %.2fs", event.update_id, type(error).__name__, pause
                    )
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, LONGEST_PAUSE)
                    attempt += 1
                    continue
                # The traceback helps with a bug; a passing failure needs only its name.
                log.error(
                    "update id=%s type=%s given up after %d tries: %s",
                    event.update_id,
                    event.event_type,
                    attempt + 1,
                    type(error).__name__,
                    exc_info=None if is_database_trouble(error) or is_telegram_trouble(error) else error,
                )
                await self._record(event, error)
                await self._tell(data, error)
                return None

    async def _record(self, update: Update, error: BaseException) -> None:
        try:
            async with self._sessionmaker.begin() as session:
                session.add(
                    FailedUpdate(update_id=update.update_id, kind=update.event_type[:40], error=type(error).__name__[:120])
                )
        except Exception as failure:  # noqa: BLE001 - the database may be what failed
            log.error("update id=%s: the failure could not be recorded (%s)", update.update_id, type(failure).__name__)

    async def _tell(self, data: dict[str, Any], error: BaseException) -> None:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None or user.is_bot or chat is None or chat.type != "private":
            return
        with self._i18n.context(), self._i18n.use_locale(locale_for(None, user, self._default_locale)):
            text = _(
                "😕 Sorry, we could not handle your last message because of a technical problem. "
                "Please try again in a few minutes."
            )
        try:
            await data["bot"].send_message(chat.id, text)
        except Exception as failure:  # noqa: BLE001 - Telegram may be what failed
            log.error("could not tell chat of update about its failure (%s)", type(failure).__name__)
