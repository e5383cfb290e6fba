"""The commune's population margins (YAML file), and who is under-represented among participants.

File format (PRODUCT.md, "Population file"): a `source`, then inhabitants aged 15 and over by
neighbourhood code and by age bracket; both margins must add up to the same total.
"""

from __future__ import annotations

from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.consultations import ResponseStatus
from participation.residents import AgeBracket
from participation.subscriptions import FileInvalid
from participation.weighting import CellWeights, GroupFigure, Margins, group_figures, weigh_cells
from storage.models import Consultation, ConsultationResponse, Neighbourhood, PopulationMargins, Resident
from storage.types import utcnow

MAX_SOURCE = 200
FIELDS = ("source", "neighbourhoods", "age_brackets")


def _counts(value: Any, key: str, expected: list[str], problems: list[str]) -> dict[str, int]:
    """A mapping code -> whole number above 0, with exactly the `expected` codes."""
    if not isinstance(value, dict) or not value:
        problems.append(f"{key}: a mapping of code to number of inhabitants is needed")
        return {}
    counts: dict[str, int] = {}
    for code, count in value.items():
        name = str(code)
        if name not in expected:
            problems.append(f"{key}.{name}: unknown code (known: {', '.join(expected) or 'none'})")
        elif isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            problems.append(f"{key}.{name}: a whole number of inhabitants above 0 is needed")
        else:
            counts[name] = count
    for code in expected:
        if code not in {str(c) for c in value}:
            problems.append(f"{key}.{code}: missing (every code needs its number of inhabitants)")
    return {code: counts[code] for code in expected if code in counts}


def parse_population(text: str, neighbourhood_codes: list[str]) -> Margins:
    """Validate a population file; raise FileInvalid listing every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FileInvalid([f"not valid YAML{where}"]) from exc
    if not isinstance(document, dict):
        raise FileInvalid(["a mapping with source, neighbourhoods and age_brackets is needed"])
    problems: list[str] = []
    if not neighbourhood_codes:
        problems.append("neighbourhoods: the commune has no neighbourhoods yet: run `palabre neighbourhoods import` first")
    source = document.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append('source: where the figures come from is needed, e.g. "Insee, recensement 2022"')
    elif len(source.strip()) > MAX_SOURCE:
        problems.append(f"source: longer than {MAX_SOURCE} characters")
    for field in sorted(set(map(str, document)) - set(FIELDS)):
        problems.append(f"{field}: unknown field")
    hoods = (
        _counts(document.get("neighbourhoods"), "neighbourhoods", neighbourhood_codes, problems) if neighbourhood_codes else {}
    )
    ages = _counts(document.get("age_brackets"), "age_brackets", [b.value for b in AgeBracket], problems)
    if not problems and sum(hoods.values()) != sum(ages.values()):
        problems.append(
            f"neighbourhoods add up to {sum(hoods.values())} inhabitants but age_brackets to {sum(ages.values())}: "
            "both must count the same inhabitants aged 15 and over"
        )
    if problems:
        raise FileInvalid(problems)
    return Margins(source=str(source).strip(), neighbourhoods=hoods, age_brackets=ages)


async def neighbourhood_codes(session: AsyncSession) -> list[str]:
    return list(
        await session.scalars(select(col(Neighbourhood.code)).order_by(col(Neighbourhood.position), col(Neighbourhood.code)))
    )


async def import_population(session: AsyncSession, text: str) -> Margins:
    """Replace the population margins with those of the file (all or nothing)."""
    margins = parse_population(text, await neighbourhood_codes(session))
    row = await session.get(PopulationMargins, 1)
    if row is None:
        row = PopulationMargins(id=1, source=margins.source)
    row.source = margins.source
    row.neighbourhoods = margins.neighbourhoods
    row.age_brackets = margins.age_brackets
    row.imported_at = utcnow()
    session.add(row)
    await session.flush()
    return margins


async def load_margins(session: AsyncSession) -> Margins | None:
    row = await session.get(PopulationMargins, 1)
    if row is None:
        return None
    return Margins(source=row.source, neighbourhoods=dict(row.neighbourhoods), age_brackets=dict(row.age_brackets))


async def participant_cells(
    session: AsyncSession, consultation_id: int, *, submitted_only: bool = True
) -> dict[tuple[str | None, str | None], int]:
    """How many participants of a consultation per (neighbourhood, age bracket) of their profile."""
    rows = (
        await session.execute(
            select(col(Resident.neighbourhood), col(Resident.age_bracket), func.count())
            .join(ConsultationResponse, col(Resident.id) == col(ConsultationResponse.resident_id))
            .where(
                col(ConsultationResponse.consultation_id) == consultation_id,
                *([col(ConsultationResponse.status) == ResponseStatus.SUBMITTED] if submitted_only else []),
            )
            .group_by(col(Resident.neighbourhood), col(Resident.age_bracket))
        )
    ).all()
    return {(hood, age): int(n) for hood, age, n in rows}


async def consultation_weights(session: AsyncSession, consultation: Consultation) -> CellWeights | None:
    """The weights of a consultation's participants (who submitted); None without population margins."""
    margins = await load_margins(session)
    if margins is None:
        return None
    assert consultation.id is not None  # a stored consultation
    return weigh_cells(margins, await participant_cells(session, consultation.id))


async def under_represented(session: AsyncSession, consultation: Consultation) -> list[GroupFigure] | None:
    """The groups with too few participants for their share of the population; None without margins."""
    margins = await load_margins(session)
    if margins is None:
        return None
    assert consultation.id is not None  # a stored consultation
    cells = await participant_cells(session, consultation.id)
    return [group for group in group_figures(margins, cells) if group.under_represented]
