"""The aiohttp application served on HTTP_HOST:HTTP_PORT."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import ping
from web.open311 import Open311Context, add_open311_routes

if TYPE_CHECKING:
    from web.backoffice import BackofficeContext

ENGINE_KEY = web.AppKey("engine", AsyncEngine)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, 503 otherwise (for load balancers and monitoring)."""
    if await ping(request.app[ENGINE_KEY]):
        return web.json_response({"status": "ok", "database": "ok"})
    return web.json_response({"status": "error", "database": "unreachable"}, status=503)


def build_web_app(
    engine: AsyncEngine, *, open311: Open311Context | None = None, backoffice: BackofficeContext | None = None
) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[ENGINE_KEY] = engine
    app.router.add_get("/healthz", healthz)
    if open311 is not None:
        add_open311_routes(app, open311)
    if backoffice is not None:  # only with WEB_ENABLED=true: nothing of it is reachable otherwise
        from web.backoffice import add_backoffice_routes

        add_backoffice_routes(app, backoffice)
    return app
