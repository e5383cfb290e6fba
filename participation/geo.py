"""Geometry for reports: coordinate checks, haversine distances, bounding boxes, point in polygon."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0


def valid_coordinates(lat: float, lon: float) -> bool:
    """WGS84 latitude in -90..90 and longitude in -180..180 (NaN and infinities refused)."""
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle: a cheap SQL prefilter."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, radius_m / (METRES_PER_DEGREE_LAT * cos_lat))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


Ring = Sequence[Sequence[float]]


def _in_ring(lon: float, lat: float, ring: Ring) -> bool:
    """Ray casting on one closed ring of [lon, lat] positions."""
    inside = False
    count = len(ring)
    for i in range(count):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[(i + 1) % count][0], ring[(i + 1) % count][1]
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
    return inside


def point_in_polygon(lon: float, lat: float, polygon_coordinates: Sequence[Ring]) -> bool:
    """True when the point is inside a GeoJSON Polygon's `coordinates` (outer ring minus holes)."""
    if not polygon_coordinates or not _in_ring(lon, lat, polygon_coordinates[0]):
        return False
    return not any(_in_ring(lon, lat, hole) for hole in polygon_coordinates[1:])


def point_in_area(lon: float, lat: float, area: Mapping[str, Any]) -> bool:
    """A GeoJSON Polygon or MultiPolygon geometry contains the point."""
    if area.get("type") == "Polygon":
        return point_in_polygon(lon, lat, area.get("coordinates") or [])
    if area.get("type") == "MultiPolygon":
        return any(point_in_polygon(lon, lat, polygon) for polygon in area.get("coordinates") or [])
    return False
