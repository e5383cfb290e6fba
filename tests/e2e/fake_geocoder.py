"""A local stand-in for the Base Adresse Nationale (GEOCODER_URL): /search/ and /reverse/ as the BAN answers them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.e2e.harness import free_port


def feature(label: str, lon: float, lat: float, *, score: float = 0.9, street: str = "", city: str = "") -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"label": label, "score": score, "street": street, "city": city},
    }


class FakeGeocoder:
    """Known addresses and positions; records every query it received."""

    def __init__(self) -> None:
        self.addresses: dict[str, dict[str, Any]] = {}
        self.positions: list[dict[str, Any]] = []
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _search(self, request: web.Request) -> web.Response:
        self.queries.append(("search", dict(request.query)))
        found = self.addresses.get(request.query.get("q", "").lower())
        return web.json_response({"type": "FeatureCollection", "features": [found] if found else []})

    async def _reverse(self, request: web.Request) -> web.Response:
        self.queries.append(("reverse", dict(request.query)))
        return web.json_response({"type": "FeatureCollection", "features": self.positions[:1]})

    async def start(self) -> FakeGeocoder:
        app = web.Application()
        app.router.add_get("/search/", self._search)
        app.router.add_get("/reverse/", self._reverse)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
