"""Distances, coordinate checks and neighbourhood areas."""

from __future__ import annotations

import math

from participation.geo import bounding_box, haversine_m, point_in_area, point_in_polygon, valid_coordinates

SQUARE = [[[3.08, 45.77], [3.09, 45.77], [3.09, 45.78], [3.08, 45.78], [3.08, 45.77]]]
HOLE = [[3.084, 45.774], [3.086, 45.774], [3.086, 45.776], [3.084, 45.776], [3.084, 45.774]]


def test_haversine_matches_known_distances() -> None:
    # One thousandth of a degree of latitude is about 111 m anywhere.
    assert 110 < haversine_m(45.7772, 3.0870, 45.7782, 3.0870) < 112
    # Paris - Clermont-Ferrand is about 347 km as the crow flies.
    assert 340_000 < haversine_m(48.8566, 2.3522, 45.7772, 3.0870) < 355_000


def test_bounding_box_contains_the_circle() -> None:
    min_lat, max_lat, min_lon, max_lon = bounding_box(45.7772, 3.0870, 50)
    assert haversine_m(45.7772, 3.0870, max_lat, 3.0870) >= 49.9
    assert haversine_m(45.7772, 3.0870, 45.7772, max_lon) >= 49.9
    assert min_lat < 45.7772 < max_lat and min_lon < 3.0870 < max_lon


def test_coordinates_out_of_range_are_invalid() -> None:
    assert valid_coordinates(45.0, 3.0) and valid_coordinates(-90, 180)
    assert not valid_coordinates(90.5, 3.0)
    assert not valid_coordinates(45.0, -180.01)
    assert not valid_coordinates(math.nan, 3.0)


def test_point_in_polygon_with_a_hole() -> None:
    assert point_in_polygon(3.081, 45.771, SQUARE)
    assert not point_in_polygon(3.095, 45.775, SQUARE)
    assert not point_in_polygon(3.085, 45.775, [SQUARE[0], HOLE])
    assert point_in_area(3.081, 45.771, {"type": "MultiPolygon", "coordinates": [SQUARE]})
    assert not point_in_area(3.081, 45.771, {"type": "Point", "coordinates": [3.081, 45.771]})
