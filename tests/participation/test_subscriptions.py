"""Topics and neighbourhoods files, and residents' choices."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from participation import subscriptions
from participation.languages import in_language
from participation.residents import get_or_create_resident
from storage.db import SessionMaker
from storage.models import Neighbourhood, Topic

TOPICS = """
topics:
  - code: urbanisme
    name: {fr: Urbanisme, en: Urban planning}
  - code: culture
    name: Culture
"""

NEIGHBOURHOODS = """
neighbourhoods:
  - code: centre
    name: {fr: Centre-ville, en: City centre}
    area: {type: Polygon, coordinates: [[[3.08, 45.77], [3.09, 45.77], [3.09, 45.78], [3.08, 45.77]]]}
  - code: nord
    name: {fr: Quartier nord, en: North}
"""


async def test_topics_and_neighbourhoods_import_then_update(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        first = await subscriptions.import_topics(session, TOPICS)
        await subscriptions.import_neighbourhoods(session, NEIGHBOURHOODS)
    async with sessionmaker.begin() as session:
        again = await subscriptions.import_topics(session, TOPICS.replace("Culture", "Culture et sports"))
    assert (first.created, first.updated, again.created, again.updated) == (2, 0, 0, 2)
    async with sessionmaker() as session:
        topics = await subscriptions.list_topics(session)
        centre = await session.get(Neighbourhood, "centre")
    assert [(t.code, in_language(t.names, "en")) for t in topics] == [
        ("urbanisme", "Urban planning"),
        ("culture", "Culture et sports"),  # a plain string serves every language
    ]
    assert centre is not None and centre.area is not None and centre.area["type"] == "Polygon"
    assert in_language(centre.names, "de") == "Centre-ville"  # unknown language: the default one


async def test_a_bad_file_lists_every_problem_with_its_path_and_imports_nothing(sessionmaker: SessionMaker) -> None:
    bad = """
neighbourhoods:
  - code: Centre Ville
    name: {fr: ""}
  - code: nord
    name: {fr: Nord}
    area: {type: Point, coordinates: [3.0, 45.0]}
  - code: nord
    name: Nord bis
    colour: red
"""
    with pytest.raises(subscriptions.FileInvalid) as caught:
        async with sessionmaker.begin() as session:
            await subscriptions.import_neighbourhoods(session, bad)
    assert caught.value.problems == [
        "neighbourhoods[0].code: expected a code of 1 to 32 lowercase letters, digits, - or _",
        "neighbourhoods[0].name.fr: an empty name",
        "neighbourhoods[1].area: a GeoJSON Polygon or MultiPolygon is needed",
        "neighbourhoods[2].code: nord appears twice",
        "neighbourhoods[2].colour: unknown field",
    ]
    with pytest.raises(subscriptions.FileInvalid) as not_yaml:
        subscriptions.parse_file("topics: [a, {", "topics")
    assert not_yaml.value.problems[0].startswith("not valid YAML")
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Neighbourhood)) == 0
        assert await session.scalar(select(func.count()).select_from(Topic)) == 0


async def test_toggling_a_topic_and_choosing_a_neighbourhood(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        await subscriptions.import_neighbourhoods(session, NEIGHBOURHOODS)
        resident = await get_or_create_resident(session, 42)
        assert await subscriptions.toggle_topic(session, resident, "culture") is True
        assert await subscriptions.toggle_topic(session, resident, "urbanisme") is True
        assert await subscriptions.toggle_topic(session, resident, "culture") is False
        assert await subscriptions.toggle_topic(session, resident, "forged") is None
        assert await subscriptions.set_neighbourhood(session, resident, "nord") is True
        assert await subscriptions.set_neighbourhood(session, resident, "nowhere") is False
    async with sessionmaker() as session:
        resident = await get_or_create_resident(session, 42)
        assert await subscriptions.subscribed_topics(session, resident) == {"urbanisme"}
        assert resident.neighbourhood == "nord"
