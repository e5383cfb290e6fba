"""The categories file: every problem reported with its path, nothing half-imported."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.categories import (
    CategoryFileError,
    import_categories,
    import_sample_categories,
    parse_categories,
)
from participation.languages import in_language
from storage.models import ReportCategory
from tests.participation.reports_support import CATEGORIES_YAML


def test_valid_file_is_parsed_with_requirements() -> None:
    specs = parse_categories(CATEGORIES_YAML)
    assert [s.code for s in specs] == ["voirie-chaussee", "proprete-depot", "bruit"]
    assert specs[1].photo_required and specs[1].location_required
    assert not specs[2].location_required
    assert in_language(specs[0].name, "en") == "Pothole"
    assert in_language(specs[0].name, "de") == "Nid-de-poule"  # falls back to the default locale


def test_every_problem_is_listed_with_its_path() -> None:
    source = """
categories:
  - code: "bad code!"
    group: {fr: Voirie}
    name: {fr: ""}
    photo: maybe
  - code: ok
    name: Trou
  - code: ok
    group: G
    name: {xyz: Nom}
    colour: red
"""
    with pytest.raises(CategoryFileError) as caught:
        parse_categories(source)
    assert caught.value.problems == [
        "categories[0].code: expected a code of 1 to 32 lowercase letters, digits, - or _",
        "categories[0].name.fr: empty text",
        "categories[0].photo: must be required or optional",
        "categories[1].group: missing",
        "categories[2].colour: unknown key",
        "categories[2].code: ok appears twice",
        "categories[2].name.xyz: not a locale code (such as fr or en)",
    ]


def test_malformed_yaml_is_one_clear_line() -> None:
    with pytest.raises(CategoryFileError) as caught:
        parse_categories("categories: [\n  - code: x")
    assert caught.value.problems[0].startswith("not valid YAML (line ")


async def test_import_creates_then_updates_by_code(session: AsyncSession) -> None:
    first = await import_categories(session, parse_categories(CATEGORIES_YAML))
    again = await import_categories(session, parse_categories(CATEGORIES_YAML.replace("Bruit", "Tapage")))
    assert (first.created, first.updated) == (3, 0)
    assert (again.created, again.updated) == (0, 3)
    bruit = await session.scalar(select(ReportCategory).where(ReportCategory.code == "bruit"))
    assert bruit is not None and bruit.name == {"fr": "Tapage", "en": "Noise"}


async def test_sample_categories_cover_the_demo_groups_in_french_and_english(session: AsyncSession) -> None:
    result = await import_sample_categories(session)
    assert result.created >= 5
    rows = (await session.scalars(select(ReportCategory))).all()
    groups = {in_language(r.group_name, "en") for r in rows}
    assert {"Roads", "Street lighting", "Cleanliness", "Green spaces", "Peace and quiet"} <= groups
    assert all(set(r.name) == {"fr", "en"} for r in rows)
    assert await session.scalar(select(func.count()).select_from(ReportCategory)) == result.created


async def test_demo_step_imports_the_sample_categories(session: AsyncSession) -> None:
    from participation.demo import DEMO_STEPS

    lines = [await step(session, "fr", ZoneInfo("Europe/Paris")) for step in DEMO_STEPS]
    assert any(line.startswith("Report categories: 10 new") for line in lines)
    assert await session.scalar(select(func.count()).select_from(ReportCategory)) == 10
