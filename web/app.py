"""The aiohttp application served on HTTP_HOST:HTTP_PORT."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import ping
from web.open311 import Open311Context, add_open311_routes

if TYPE_CHECKING:
    from web.backoffice import BackofficeContext

ENGINE_KEY = web.AppKey("engine", AsyncEngine)
# Why this process leads but its outbox sender does not run; None when it runs or another process leads.
SENDER_PROBLEM_KEY: web.AppKey[Callable[[], str | None]] = web.AppKey("sender_problem")


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers and, on the leader, the sender runs; 503 with the reason otherwise."""
    body = {"status": "ok", "database": "ok", "sender": "ok"}
    if not await ping(request.app[ENGINE_KEY]):
        body["status"], body["database"] = "error", "unreachable"
    problem = request.app[SENDER_PROBLEM_KEY]()
    if problem is not None:
        body["status"], body["sender"] = "error", "not running: " + problem
    return web.json_response(body, status=200 if body["status"] == "ok" else 503)


def build_web_app(
    engine: AsyncEngine,
    *,
    open311: Open311Context | None = None,
    backoffice: BackofficeContext | None = None,
    sender_problem: Callable[[], str | None] = lambda: None,
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[ENGINE_KEY] = engine
    app[SENDER_PROBLEM_KEY] = sender_problem
    app.router.add_get("/healthz", healthz)
    if open311 is not None:
        add_open311_routes(app, open311)
    if backoffice is not None:  # only with WEB_ENABLED=true: nothing of it is reachable otherwise
        from web.backoffice import add_backoffice_routes

        add_backoffice_routes(app, backoffice)
    return app
