"""Keep aiogram's answer models alive for the whole process.

aiogram parses every answer of the Bot API with the model Response[<the method's result type>],
which pydantic keeps only in a weak cache: once an answer is read nothing holds the model, the
garbage collector drops it, and a later answer builds it again (bench/RESULTS.md §6). Holding
them builds each once per process.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

_HELD: dict[Any, Any] = {}


def hold_response_model(returning: Any) -> None:
    """Build (once) and keep the answer model of methods returning `returning`."""
    if returning not in _HELD:
        _HELD[returning] = Response[returning]


class HoldResponseModels(BaseRequestMiddleware):
    """For a Bot's session: the answer model of every method it calls stays built."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        hold_response_model(method.__returning__)
        return await make_request(bot, method)
