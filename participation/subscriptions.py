"""Topics and neighbourhoods (imported from YAML), and what each resident chose to follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.languages import in_language
from storage.models import Neighbourhood, Resident, Subscription, Topic
from storage.upsert import insert_ignore, upsert

# At most 32 characters: codes travel in callback data, which Telegram caps at 64 bytes.
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
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


def _check_names(value: Any, path: str, problems: list[str]) -> dict[str, str]:
    """A name is a plain string (all languages) or a mapping locale -> text."""
    if isinstance(value, str):
        value = {"": value}
    if not isinstance(value, dict) or not value:
        problems.append(f"{path}: a text or a mapping of language to text is needed")
        return {}
    names: dict[str, str] = {}
    for locale, text in value.items():
        if locale != "" and not (isinstance(locale, str) and LOCALE_PATTERN.match(locale)):
            problems.append(f"{path}.{locale}: not a language code such as fr or en")
        elif not isinstance(text, str) or not text.strip():
            problems.append(f"{path}.{locale or 'name'}: an empty name")
        elif len(text) > MAX_NAME_LENGTH:
            problems.append(f"{path}.{locale or 'name'}: longer than {MAX_NAME_LENGTH} characters")
        else:
            names[locale] = text.strip()
    return names


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
    problems: list[str] = []
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(document[key]):
        path = f"{key}[{index}]"
        if not isinstance(item, dict):
            problems.append(f"{path}: a mapping with code and name is needed")
            continue
        code = item.get("code")
        if not isinstance(code, str) or not CODE_PATTERN.match(code):
            problems.append(f"{path}.code: letters a-z, digits, - and _ only (at most 32)")
        elif code in seen:
            problems.append(f"{path}.code: {code} appears twice")
        else:
            seen.add(code)
        names = _check_names(item.get("name"), f"{path}.name", problems)
        entry: dict[str, Any] = {"code": code, "names": names, "position": index}
        if key == "neighbourhoods":
            entry["area"] = _check_area(item.get("area"), f"{path}.area", problems)
        unknown = set(item) - {"code", "name", "area" if key == "neighbourhoods" else "name"}
        for field in sorted(unknown, key=str):
            problems.append(f"{path}.{field}: unknown field")
        entries.append(entry)
    if problems:
        raise FileInvalid(problems)
    return entries


async def import_topics(session: AsyncSession, text: str) -> ImportResult:
    """Create or update the topics of the file (all or nothing); topics absent from it are kept."""
    return await _import(session, parse_file(text, "topics"), Topic, ["names", "position"])


async def import_neighbourhoods(session: AsyncSession, text: str) -> ImportResult:
    return await _import(session, parse_file(text, "neighbourhoods"), Neighbourhood, ["names", "area", "position"])


async def _import(session: AsyncSession, entries: list[dict[str, Any]], model: Any, columns: list[str]) -> ImportResult:
    existing = set(await session.scalars(select(model.code)))
    for entry in entries:
        await upsert(session, model.__table__, entry, ["code"], columns)
    created = sum(1 for entry in entries if entry["code"] not in existing)
    return ImportResult(created=created, updated=len(entries) - created)


localized = in_language  # one fallback order for every text in several languages (participation/languages.py)


async def list_topics(session: AsyncSession) -> list[Topic]:
    return list(await session.scalars(select(Topic).order_by(Topic.position, Topic.code)))


async def list_neighbourhoods(session: AsyncSession) -> list[Neighbourhood]:
    return list(await session.scalars(select(Neighbourhood).order_by(Neighbourhood.position, Neighbourhood.code)))


async def subscribed_topics(session: AsyncSession, resident: Resident) -> set[str]:
    return set(await session.scalars(select(Subscription.topic_code).where(Subscription.resident_id == resident.id)))


async def toggle_topic(session: AsyncSession, resident: Resident, topic_code: str) -> bool | None:
    """Subscribe or unsubscribe; returns the new state, or None when the topic does not exist."""
    if await session.get(Topic, topic_code) is None:
        return None
    removed = await session.execute(
        delete(Subscription).where(Subscription.resident_id == resident.id, Subscription.topic_code == topic_code)
    )
    if removed.rowcount:
        return False
    await insert_ignore(
        session,
        Subscription.__table__,  # type: ignore[arg-type]
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
