"""Report categories: validated from a YAML file (PRODUCT.md, "Categories file") and imported."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.codes import CODE_PROBLEM, is_code
from participation.file_problems import problem, problem_lines
from storage.models import ReportCategory

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


def _texts(value: Any) -> Any:
    """A plain string (any language) or a mapping locale -> text."""
    if isinstance(value, str):
        value = {ANY_LOCALE: value}
    if not isinstance(value, dict) or not value:
        raise problem("a text or a mapping locale -> text is needed")
    return value


def _locale(value: Any) -> str:
    if value != ANY_LOCALE and not (isinstance(value, str) and LOCALE.fullmatch(value)):
        raise problem("not a locale code (such as fr or en)")
    return str(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem("empty text")
    if len(value.strip()) > MAX_NAME:
        raise problem("at most {max} characters", max=MAX_NAME)
    return value.strip()


def _requirement(value: Any) -> bool:
    if value not in REQUIREMENT:
        raise problem("must be required or optional")
    return bool(value == "required")


def _code(value: Any, info: ValidationInfo) -> str:
    if not is_code(value):
        raise problem(CODE_PROBLEM)
    seen: set[str] = info.context["seen"] if isinstance(info.context, dict) else set()
    if value in seen:
        raise problem("{code} appears twice", code=value)
    seen.add(value)
    return str(value)


def _mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        raise problem("a mapping is needed")
    return value


def _count(value: Any) -> Any:
    if not value:
        raise problem("at least 1 needed")
    if len(value) > MAX_CATEGORIES:
        raise problem("at most {max}", max=MAX_CATEGORIES)
    return value


Texts = Annotated[dict[Annotated[str, BeforeValidator(_locale)], Annotated[str, BeforeValidator(_text)]], BeforeValidator(_texts)]
Requirement = Annotated[bool, BeforeValidator(_requirement)]


class _Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, BeforeValidator(_code)]
    group: Texts
    name: Texts
    photo: Requirement = False
    location: Requirement = False

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any) -> Any:
        return _mapping(value)


class _CategoriesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: Annotated[list[_Category], BeforeValidator(_count)]


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
    try:
        read = _CategoriesFile.model_validate(document, context={"seen": set()})
    except ValidationError as error:
        raise CategoryFileError(problem_lines(error, missing="missing", unknown="unknown key", unknown_first=True)) from None
    return [CategorySpec(c.code, c.group, c.name, c.photo, c.location) for c in read.categories]


async def import_categories(session: AsyncSession, specs: list[CategorySpec]) -> ImportResult:
    """Create or update each category by code, in the file's order. Nothing is deleted."""
    created = updated = 0
    for position, spec in enumerate(specs):
        row = await session.scalar(select(ReportCategory).where(col(ReportCategory.code) == spec.code))
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
            select(ReportCategory)
            .where(col(ReportCategory.active).is_(True))
            .order_by(col(ReportCategory.position), col(ReportCategory.id))
        )
    )


async def category_by_code(session: AsyncSession, code: str) -> ReportCategory | None:
    return await session.scalar(select(ReportCategory).where(col(ReportCategory.code) == code))


async def demo_categories(session: AsyncSession, default_locale: str, tz: object) -> str:
    """The `palabre demo` step (participation/demo.py): sample categories, one line to say so."""
    result = await import_sample_categories(session)
    return (
        f"Report categories: {result.created} new, {result.updated} updated (roads, lighting, cleanliness, green spaces, noise)."
    )
