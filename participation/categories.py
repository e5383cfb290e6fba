"""Report categories: validated from a YAML file (PRODUCT.md, "Categories file") and imported."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.languages import in_language
from storage.models import ReportCategory

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LOCALE = re.compile(r"^[a-z]{2}$")
MAX_NAME = 60  # a category is a button: longer names are cut by Telegram clients
MAX_CATEGORIES = 200
REQUIREMENT = ("required", "optional")
ANY_LOCALE = "*"


class CategoryFileError(ValueError):
    """The file does not follow the format; `problems` has one line per problem, with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CategorySpec:
    code: str
    group: dict[str, str]
    name: dict[str, str]
    photo_required: bool
    location_required: bool


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


localized = in_language  # one fallback order for every text in several languages (participation/languages.py)


def _text(value: Any, path: str, problems: list[str]) -> dict[str, str]:
    if isinstance(value, str):
        value = {ANY_LOCALE: value}
    if not isinstance(value, dict) or not value:
        problems.append(f"{path}: a text or a mapping locale -> text is needed")
        return {}
    texts: dict[str, str] = {}
    for locale, text in value.items():
        if locale != ANY_LOCALE and not (isinstance(locale, str) and LOCALE.fullmatch(locale)):
            problems.append(f"{path}.{locale}: not a locale code (such as fr or en)")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"{path}.{locale}: empty text")
        elif len(text.strip()) > MAX_NAME:
            problems.append(f"{path}.{locale}: at most {MAX_NAME} characters")
        else:
            texts[str(locale)] = text.strip()
    return texts


def _requirement(item: dict[str, Any], key: str, path: str, problems: list[str]) -> bool:
    value = item.get(key, "optional")
    if value not in REQUIREMENT:
        problems.append(f"{path}.{key}: must be required or optional")
        return False
    return value == "required"


def parse_categories(source: str) -> list[CategorySpec]:
    """Validate a categories file; raises CategoryFileError listing every problem."""
    try:
        document = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise CategoryFileError([f"not valid YAML{where}"]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("categories"), list):
        raise CategoryFileError(["categories: a list of categories is needed"])
    items = document["categories"]
    problems: list[str] = []
    if not items:
        problems.append("categories: at least 1 needed")
    if len(items) > MAX_CATEGORIES:
        problems.append(f"categories: at most {MAX_CATEGORIES}")
    for key in document:
        if key != "categories":
            problems.append(f"{key}: unknown key")
    specs: list[CategorySpec] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        path = f"categories[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: a mapping is needed")
            continue
        for key in item:
            if key not in ("code", "group", "name", "photo", "location"):
                problems.append(f"{path}.{key}: unknown key")
        code = item.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            problems.append(f"{path}.code: 1 to 64 characters of A-Z a-z 0-9 _ . - are needed")
            code = None
        elif code in seen:
            problems.append(f"{path}.code: {code} appears twice")
        else:
            seen.add(code)
        if "group" not in item:
            problems.append(f"{path}.group: missing")
        if "name" not in item:
            problems.append(f"{path}.name: missing")
        group = _text(item.get("group"), f"{path}.group", problems) if "group" in item else {}
        name = _text(item.get("name"), f"{path}.name", problems) if "name" in item else {}
        photo = _requirement(item, "photo", path, problems)
        location = _requirement(item, "location", path, problems)
        if code is not None:
            specs.append(CategorySpec(code, group, name, photo, location))
    if problems:
        raise CategoryFileError(problems)
    return specs


async def import_categories(session: AsyncSession, specs: list[CategorySpec]) -> ImportResult:
    """Create or update each category by code, in the file's order. Nothing is deleted."""
    created = updated = 0
    for position, spec in enumerate(specs):
        row = await session.scalar(select(ReportCategory).where(ReportCategory.code == spec.code))
        if row is None:
            row = ReportCategory(code=spec.code)
            created += 1
        else:
            updated += 1
        row.group_name = spec.group
        row.name = spec.name
        row.photo_required = spec.photo_required
        row.location_required = spec.location_required
        row.position = position
        row.active = True
        session.add(row)
    await session.flush()
    return ImportResult(created=created, updated=updated)


def sample_categories_yaml() -> str:
    return resources.files("participation").joinpath("samples/categories.yaml").read_text(encoding="utf-8")


async def import_sample_categories(session: AsyncSession) -> ImportResult:
    """The demo's categories (roads, lighting, cleanliness, green spaces, noise) in fr and en."""
    return await import_categories(session, parse_categories(sample_categories_yaml()))


async def active_categories(session: AsyncSession) -> list[ReportCategory]:
    return list(
        await session.scalars(
            select(ReportCategory).where(ReportCategory.active.is_(True)).order_by(ReportCategory.position, ReportCategory.id)
        )
    )


async def category_by_code(session: AsyncSession, code: str) -> ReportCategory | None:
    return await session.scalar(select(ReportCategory).where(ReportCategory.code == code))


async def demo_categories(session: AsyncSession, default_locale: str, tz: object) -> str:
    """The `palabre demo` step (participation/demo.py): sample categories, one line to say so."""
    result = await import_sample_categories(session)
    return (
        f"Report categories: {result.created} new, {result.updated} updated (roads, lighting, cleanliness, green spaces, noise)."
    )
