"""Topics and neighbourhoods (imported from YAML), and what each resident chose to follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.codes import CODE_PROBLEM, is_code
from participation.file_problems import problem, problem_lines
from storage.models import Neighbourhood, Resident, Subscription, Topic
from storage.upsert import affected_rows, insert_ignore, upsert

LOCALE_PATTERN = re.compile(r"^[a-z]{2}$")
MAX_NAME_LENGTH = 60  # a name is a button label


class FileInvalid(ValueError):
    """A topics or neighbourhoods file with problems: one line per problem, with its path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _names(value: Any) -> Any:
    """A name is a plain string (all languages) or a mapping locale -> text."""
    if isinstance(value, str):
        value = {"": value}
    if not isinstance(value, dict) or not value:
        raise problem("a text or a mapping of language to text is needed")
    return value


def _locale(value: Any) -> str:
    if value != "" and not (isinstance(value, str) and LOCALE_PATTERN.match(value)):
        raise problem("not a language code such as fr or en")
    return str(value)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem("an empty name")
    if len(value) > MAX_NAME_LENGTH:
        raise problem("longer than {max} characters", max=MAX_NAME_LENGTH)
    return value.strip()


def _code(value: Any, info: ValidationInfo) -> str:
    if not is_code(value):
        raise problem(CODE_PROBLEM)
    seen: set[str] = info.context["seen"] if isinstance(info.context, dict) else set()
    if value in seen:
        raise problem("{code} appears twice", code=value)
    seen.add(value)
    return str(value)


def _area(value: Any) -> dict[str, Any] | None:
    found: list[str] = []
    area = _check_area(value, "", found)
    if found:
        at, _, message = found[0].partition(": ")
        raise problem(message, at=at)
    return area


def _mapping(value: Any) -> Any:
    if not isinstance(value, dict):
        raise problem("a mapping with code and name is needed")
    return value


Names = Annotated[dict[Annotated[str, BeforeValidator(_locale)], Annotated[str, BeforeValidator(_name)]], BeforeValidator(_names)]


class _Topic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, BeforeValidator(_code)]
    name: Names = Field(default=None, validate_default=True)

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any) -> Any:
        return _mapping(value)


class _Neighbourhood(_Topic):
    area: Annotated[dict[str, Any] | None, BeforeValidator(_area)] = None


class _TopicsFile(BaseModel):
    topics: list[_Topic]


class _NeighbourhoodsFile(BaseModel):
    neighbourhoods: list[_Neighbourhood]


def _check_area(value: Any, path: str, problems: list[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(f"{path}: a GeoJSON Polygon or MultiPolygon is needed")
        return None
    polygons = value.get("coordinates")
    if value["type"] == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not polygons:
        problems.append(f"{path}.coordinates: missing")
        return None
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            problems.append(f"{path}.coordinates: a polygon needs at least one ring")
            return None
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                problems.append(f"{path}.coordinates: a ring needs at least 4 positions")
                return None
            for position in ring:
                if not (
                    isinstance(position, list)
                    and len(position) >= 2
                    and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in position[:2])
                    and -180 <= position[0] <= 180
                    and -90 <= position[1] <= 90
                ):
                    problems.append(f"{path}.coordinates: {position!r} is not a [longitude, latitude] position")
                    return None
    return {"type": value["type"], "coordinates": value["coordinates"]}


def parse_file(text: str, key: str) -> list[dict[str, Any]]:
    """Validate a topics (`key="topics"`) or neighbourhoods file; raise FileInvalid listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FileInvalid([f"not valid YAML{where}"]) from exc
    if not isinstance(document, dict) or not isinstance(document.get(key), list) or not document[key]:
        raise FileInvalid([f"{key}: a non-empty list is needed"])
    model = _TopicsFile if key == "topics" else _NeighbourhoodsFile
    try:
        read = model.model_validate({key: document[key]}, context={"seen": set()})
    except ValidationError as error:
        raise FileInvalid(problem_lines(error, missing="required", unknown="unknown field", unknown_first=False)) from None
    entries: list[dict[str, Any]] = []
    items: list[_Topic] = list(read.topics) if isinstance(read, _TopicsFile) else list(read.neighbourhoods)
    for index, item in enumerate(items):
        entry: dict[str, Any] = {"code": item.code, "names": item.name, "position": index}
        if isinstance(item, _Neighbourhood):
            entry["area"] = item.area
        entries.append(entry)
    return entries


async def import_topics(session: AsyncSession, text: str) -> ImportResult:
    """Create or update the topics of the file (all or nothing); topics absent from it are kept."""
    return await _import(session, parse_file(text, "topics"), Topic, ["names", "position"])


async def import_neighbourhoods(session: AsyncSession, text: str) -> ImportResult:
    return await _import(session, parse_file(text, "neighbourhoods"), Neighbourhood, ["names", "area", "position"])


async def _import(
    session: AsyncSession, entries: list[dict[str, Any]], model: type[Topic] | type[Neighbourhood], columns: list[str]
) -> ImportResult:
    existing = set(await session.scalars(select(col(model.code))))
    for entry in entries:
        await upsert(session, model, entry, ["code"], columns)
    created = sum(1 for entry in entries if entry["code"] not in existing)
    return ImportResult(created=created, updated=len(entries) - created)


async def list_topics(session: AsyncSession) -> list[Topic]:
    return list(await session.scalars(select(Topic).order_by(col(Topic.position), col(Topic.code))))


async def list_neighbourhoods(session: AsyncSession) -> list[Neighbourhood]:
    return list(await session.scalars(select(Neighbourhood).order_by(col(Neighbourhood.position), col(Neighbourhood.code))))


async def subscribed_topics(session: AsyncSession, resident: Resident) -> set[str]:
    return set(await session.scalars(select(col(Subscription.topic_code)).where(col(Subscription.resident_id) == resident.id)))


async def toggle_topic(session: AsyncSession, resident: Resident, topic_code: str) -> bool | None:
    """Subscribe or unsubscribe; returns the new state, or None when the topic does not exist."""
    if await session.get(Topic, topic_code) is None:
        return None
    assert resident.id is not None  # a resident who taps buttons is stored
    removed = await session.execute(
        delete(Subscription).where(col(Subscription.resident_id) == resident.id, col(Subscription.topic_code) == topic_code)
    )
    if affected_rows(removed):
        return False
    await insert_ignore(
        session,
        Subscription,
        Subscription(resident_id=resident.id, topic_code=topic_code).model_dump(exclude={"id"}),
        ["resident_id", "topic_code"],
    )
    return True


async def set_neighbourhood(session: AsyncSession, resident: Resident, code: str | None) -> bool:
    """Choose a neighbourhood (None: none); False when it does not exist."""
    if code is not None and await session.get(Neighbourhood, code) is None:
        return False
    resident.neighbourhood = code
    session.add(resident)
    await session.flush()
    return True


async def set_notifications(session: AsyncSession, resident: Resident, enabled: bool) -> None:
    resident.notifications_enabled = enabled
    session.add(resident)
    await session.flush()
