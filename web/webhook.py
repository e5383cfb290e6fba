"""The Telegram webhook endpoint: aiogram's handler, with a malformed body answered 400 instead of 500."""

from __future__ import annotations

import json
import logging

from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

log = logging.getLogger("palabre.webhook")


class CheckedRequestHandler(SimpleRequestHandler):
    """Checks the secret, then that the body is an Update, before aiogram handles it."""

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict):
                raise ValueError("not an object")
            update = Update.model_validate(data, context={"bot": bot})
        except ValueError:  # JSONDecodeError, UnicodeDecodeError and pydantic's ValidationError
            # Telegram never sends this; retrying would not help, so no 5xx.
            log.warning("webhook: a request with the right secret had a malformed body")
            return web.Response(text="Bad Request: the body is not a Telegram update", status=400)
        try:
            update.event_type  # noqa: B018 - reading it raises for a kind aiogram does not know
        except UpdateTypeLookupError:
            # A kind of update this aiogram does not know: nothing to do, and no reason to resend.
            return web.json_response({})
        return await super().handle(request)  # aiohttp keeps the body read above
