"""Direct replies wait out a short 429 instead of failing the update.

A reply is part of handling an update: if Telegram answers 429 ("retry after N"), failing would
roll back what the resident just did. For a short pause the reply is sent again once; a long one
fails as before. The outbox sender does not use this: it has its own pacing and postpones instead.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger("palabre.retry")

MAX_WAIT_SECONDS = 5


class RetryShortFloodWait(BaseRequestMiddleware):
    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as exc:
            if exc.retry_after > MAX_WAIT_SECONDS:
                raise
            log.warning("reply: Telegram asked to wait %ss; sending again once", exc.retry_after)
            await asyncio.sleep(exc.retry_after)
            return await make_request(bot, method)
