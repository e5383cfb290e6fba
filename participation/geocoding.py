"""Addresses and positions through the Base Adresse Nationale (GEOCODER_URL): a typed address placed
on the map, a sent position named by its street.

Called by handlers outside any write transaction; any failure (no network, a slow or odd answer)
gives None and the report goes on with what the resident typed or sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from participation.geo import valid_coordinates

log = logging.getLogger("palabre.geocoding")

TIMEOUT_SECONDS = 3.0  # a resident is waiting for the bot's answer
MIN_SCORE = 0.4  # below this the BAN's best match is a guess, not the typed address


@dataclass(frozen=True)
class Place:
    label: str  # « 12 Rue des Lilas 63000 Clermont-Ferrand »
    lat: float
    lon: float
    street: str | None = None
    city: str | None = None


def _first_place(body: Any, *, min_score: float = 0.0) -> Place | None:
    """The first feature of a GeoJSON answer of the BAN, if it is a usable point."""
    try:
        feature = body["features"][0]
        lon, lat = (float(v) for v in feature["geometry"]["coordinates"][:2])
        properties = feature.get("properties") or {}
        label = str(properties["label"]).strip()
        score = float(properties.get("score", 1.0))
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if not label or not valid_coordinates(lat, lon) or score < min_score:
        return None
    return Place(
        label=label[:300],
        lat=lat,
        lon=lon,
        street=properties.get("street") or properties.get("name"),
        city=properties.get("city"),
    )


async def _get(base_url: str, path: str, params: dict[str, Any], transport: httpx.AsyncBaseTransport | None = None) -> Any:
    async with httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=TIMEOUT_SECONDS, transport=transport) as client:
        response = await client.get(path, params=params)
        response.raise_for_status()
        return response.json()


async def search(base_url: str, address: str, *, transport: httpx.AsyncBaseTransport | None = None) -> Place | None:
    """The place of a typed address (GET /search/?q=…&limit=1); None when off, unknown or unreachable."""
    if not base_url:
        return None
    try:
        body = await _get(base_url, "/search/", {"q": address, "limit": 1}, transport)
    except (httpx.HTTPError, ValueError):
        log.warning("geocoder: address search failed", exc_info=False)  # never the address itself
        return None
    return _first_place(body, min_score=MIN_SCORE)


async def reverse(base_url: str, lat: float, lon: float, *, transport: httpx.AsyncBaseTransport | None = None) -> Place | None:
    """The nearest address of a position (GET /reverse/?lon=…&lat=…); None when off or unreachable."""
    if not base_url or not valid_coordinates(lat, lon):
        return None
    try:
        body = await _get(base_url, "/reverse/", {"lon": lon, "lat": lat}, transport)
    except (httpx.HTTPError, ValueError):
        log.warning("geocoder: reverse search failed", exc_info=False)
        return None
    place = _first_place(body)
    # The position the resident sent stays the report's position; only the name comes from the BAN.
    return None if place is None else Place(place.label, lat, lon, place.street, place.city)
