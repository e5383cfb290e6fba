"""Results of a consultation: counts, percentages, free texts, participation, and the exports.

Only submitted responses count. Residents appear in exports only by their pseudonym. The texts
of the exports (questions, choices) are the consultation's own, in the locale asked for; column
headings are fixed identifiers, so that a spreadsheet built on an export keeps working.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation.cells import safe_cell, safe_text
from participation.consultations import ResponseStatus, status_at
from participation.consultations.questions import OTHER, Question, Word, questions_of
from participation.languages import in_language
from participation.population import consultation_weights
from participation.weighting import TRIM_HIGH, TRIM_LOW, GroupFigure, margin_of_error
from storage.crypto import SEALED, decrypt, decrypted, unsealed
from storage.json_sql import decoded, json_object_of
from storage.models import Consultation, ConsultationAnswer, ConsultationResponse, Resident


@dataclass
class OptionCount:
    value: Any  # choice id, "yes"/"no", or the scale's number
    label: str
    count: int
    percent: float  # of the residents who answered the question
    mean_rank: float | None = None  # ranking only: average position (1 = first)
    weighted_percent: float | None = None  # with participants weighted to the population (issue 18)


@dataclass
class QuestionResult:
    id: str
    type: str
    prompt: str
    answered: int  # submitted responses with an answer (not skipped)
    skipped: int
    options: list[OptionCount] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # text answers and "other" free answers
    mean: float | None = None  # scale only
    weighted_mean: float | None = None  # scale only, weighted
    scale: tuple[int, int] | None = None  # scale only: its ends
    scale_labels: tuple[str, str] | None = None  # scale only: what its ends mean, when the file says
    n_effective: float | None = None  # Kish's effective size of the weighted answers
    margin_of_error: float | None = None  # 95 %, in percentage points, at p = 0.5
    ranked: bool = False  # the counts are of first choices (a ranking)
    several: bool = False  # one could tick several answers: the shares add up to more than 100 %
    written: bool = False  # answered by typing: the answers are read, not counted


@dataclass
class WeightingSummary:
    """How the participants were weighted to the population (docs/representativite.md)."""

    source: str
    weighted: int  # participants with a complete profile
    unweighted: int  # left out of the weighted figures
    n_effective: float
    design_effect: float | None
    margin_of_error: float | None
    trim: tuple[float, float]
    cell_weights: dict[tuple[str, str], float] = field(repr=False)
    groups: list[GroupFigure]
    empty_groups: list[GroupFigure]
    small_groups: list[GroupFigure]


@dataclass
class ResponseRow:
    pseudonym: str
    neighbourhood: str | None
    submitted_at: datetime | None
    answers: dict[str, Any]
    other_texts: dict[str, str]
    age_bracket: str | None = None  # only to find the weight; not exported as such


@dataclass
class Results:
    slug: str
    title: str
    status: str
    opens_at: datetime
    closes_at: datetime
    started: int
    finished: int
    by_neighbourhood: dict[str, tuple[int, int]]  # code ("" when unknown) -> (started, finished)
    questions: list[QuestionResult]
    responses: list[ResponseRow]
    weighting: WeightingSummary | None = None  # None without population margins


def _percent(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def _labels(question: Question, locale: str, default_locale: str, words: Mapping[Word, str]) -> list[tuple[Any, str]]:
    """Each option's value and its label in `locale` ("other" last, when the question has one)."""
    labels = [
        (
            option.value,
            words[option.label]
            if isinstance(option.label, Word)
            else in_language(option.label, locale, default_locale) or str(option.value),
        )
        for option in question.options()
    ]
    if question.has_other:
        labels.append((OTHER, words[Word.OTHER]))
    return labels


async def compute_results(
    session: AsyncSession,
    consultation: Consultation,
    *,
    locale: str,
    default_locale: str = "fr",
    yes: str = "Yes",
    no: str = "No",
    other: str = "Other",
    with_responses: bool = True,
) -> Results:
    """Everything an official wants to know about a consultation, in `locale`.

    Counts are aggregated by the database: loading every answer as an object took 27 s and
    1.8 GB for 100,000 residents × 10 questions (bench/results.py). `with_responses=False`
    leaves `responses` empty for callers that only show counts; exports of many responses
    stream them instead (`write_csv`).
    """
    submitted = col(ConsultationResponse.status) == ResponseStatus.SUBMITTED
    participation = (
        await session.execute(
            select(col(Resident.neighbourhood), col(ConsultationResponse.status), func.count())
            .join(Resident, col(Resident.id) == col(ConsultationResponse.resident_id))
            .where(col(ConsultationResponse.consultation_id) == consultation.id)
            .group_by(col(Resident.neighbourhood), col(ConsultationResponse.status))
        )
    ).all()
    by_neighbourhood: dict[str, tuple[int, int]] = {}
    for neighbourhood, status, count in participation:
        started, finished = by_neighbourhood.get(neighbourhood or "", (0, 0))
        done = count if status == ResponseStatus.SUBMITTED else 0
        by_neighbourhood[neighbourhood or ""] = (started + count, finished + done)

    submitted_ids = select(col(ConsultationResponse.id)).where(
        col(ConsultationResponse.consultation_id) == consultation.id, submitted
    )
    typed_questions = questions_of(consultation)
    text_ids = [q.id for q in typed_questions if q.typed]
    counted_ids = [q.id for q in typed_questions if not q.typed]

    # Distinct answer values per question with their counts: few rows whatever the participation.
    # Text questions are counted with their texts below: grouping by free texts would sort them all.
    grouped: dict[str, list[tuple[Any, int]]] = {}
    as_text = cast(col(ConsultationAnswer.value), String)
    # PostgreSQL's json has no equality: group by its text. SQLite groups the stored value, which
    # lets it read the answers in the order of ix_consultation_answer_question_value rather than
    # sort 1,000,000 of them (0.8 of the 1.5 s of /results for 100,000 residents).
    group_key = col(ConsultationAnswer.value) if session.get_bind().dialect.name == "sqlite" else as_text
    for qid, raw, count in (
        await session.execute(
            select(col(ConsultationAnswer.question_id), as_text, func.count())
            .where(col(ConsultationAnswer.question_id).in_(counted_ids), col(ConsultationAnswer.response_id).in_(submitted_ids))
            .group_by(col(ConsultationAnswer.question_id), group_key)
        )
    ).all():
        grouped.setdefault(qid, []).append((None if raw is None else json.loads(raw), count))

    # Text answers (with how many skipped) and "other" answers, in the order the responses were submitted.
    # The database extracts each sealed token (a skipped answer gives NULL), Python decrypts it:
    # decoding each JSON value in Python cost 0.3 s for 20,000 texts.
    text_value = col(ConsultationAnswer.value)[SEALED].as_string()
    texts: dict[str, list[str]] = {}
    skipped_texts: dict[str, int] = {}
    for qid, text, other_text in (
        await session.execute(
            select(col(ConsultationAnswer.question_id), text_value, col(ConsultationAnswer.other_text))
            .join(ConsultationResponse, col(ConsultationResponse.id) == col(ConsultationAnswer.response_id))
            .where(
                col(ConsultationResponse.consultation_id) == consultation.id,
                submitted,
                or_(col(ConsultationAnswer.question_id).in_(text_ids), col(ConsultationAnswer.other_text) != ""),
            )
            .order_by(col(ConsultationResponse.submitted_at), col(ConsultationResponse.id))
        )
    ).all():
        if qid in text_ids:
            if text is None:
                skipped_texts[qid] = skipped_texts.get(qid, 0) + 1
            else:
                texts.setdefault(qid, []).append(decrypt(text))
        else:
            texts.setdefault(qid, []).append(other_text)

    words = {Word.YES: yes, Word.NO: no, Word.OTHER: other}
    questions = []
    for question in typed_questions:
        qid = question.id
        counted = grouped.get(qid, [])
        values = [(v, n) for v, n in counted if v is not None]
        answered, skipped = sum(n for _, n in values), sum(n for v, n in counted if v is None)
        if question.typed:
            answered, skipped = len(texts.get(qid, [])), skipped_texts.get(qid, 0)
        result = QuestionResult(
            id=qid,
            type=question.type,
            prompt=in_language(question.prompt, locale, default_locale),
            answered=answered,
            skipped=skipped,
            texts=texts.get(qid, []),
            mean=question.mean(values, answered),
            scale=question.ends(),
            ranked=question.ordered,
            several=question.several and not question.ordered,
            written=question.typed,
        )
        for value, label in _labels(question, locale, default_locale, words):
            count = sum(n for v, n in values if question.matches(v, value))
            result.options.append(OptionCount(value, label, count, _percent(count, answered), question.mean_rank(value, values)))
        ends = question.end_labels()
        if ends is not None and ends[0] and ends[1]:
            result.scale_labels = (in_language(ends[0], locale, default_locale), in_language(ends[1], locale, default_locale))
        questions.append(result)

    weighting = await _weigh(session, consultation, typed_questions, questions, counted_ids, group_key, as_text)
    responses = [row async for row in iter_responses(session, consultation)] if with_responses else []
    return Results(
        slug=consultation.slug,
        title=in_language(consultation.title, locale, default_locale),
        status=status_at(consultation).value,
        opens_at=consultation.opens_at,
        closes_at=consultation.closes_at,
        started=sum(started for started, _ in by_neighbourhood.values()),
        finished=sum(finished for _, finished in by_neighbourhood.values()),
        by_neighbourhood=dict(sorted(by_neighbourhood.items())),
        questions=questions,
        responses=responses,
        weighting=weighting,
    )


def without_weighting(results: Results) -> Results:
    """The same results with the raw figures only."""
    for question in results.questions:
        question.weighted_mean = question.n_effective = question.margin_of_error = None
        for option in question.options:
            option.weighted_percent = None
    results.weighting = None
    return results


async def _weigh(
    session: AsyncSession,
    consultation: Consultation,
    typed_questions: list[Question],
    questions: list[QuestionResult],
    counted_ids: list[str],
    group_key: Any,
    as_text: Any,
) -> WeightingSummary | None:
    """Weighted percentages beside the raw ones, when the population margins are known.

    Raking gives one weight per (neighbourhood, age bracket) cell, so the database counts answers
    per cell and the weighting costs a few hundred rows whatever the participation.
    """
    weights = await consultation_weights(session, consultation)
    if weights is None:
        return None
    by_question: dict[str, list[tuple[Any, float, int]]] = {}
    if weights.weights:
        for qid, raw, hood, age, count in (
            await session.execute(
                select(
                    col(ConsultationAnswer.question_id),
                    as_text,
                    col(Resident.neighbourhood),
                    col(Resident.age_bracket),
                    func.count(),
                )
                .join(ConsultationResponse, col(ConsultationResponse.id) == col(ConsultationAnswer.response_id))
                .join(Resident, col(Resident.id) == col(ConsultationResponse.resident_id))
                .where(
                    col(ConsultationResponse.consultation_id) == consultation.id,
                    col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
                    col(ConsultationAnswer.question_id).in_(counted_ids),
                )
                .group_by(col(ConsultationAnswer.question_id), group_key, col(Resident.neighbourhood), col(Resident.age_bracket))
            )
        ).all():
            weight = weights.weights.get((hood, age))
            if raw is None or weight is None:
                continue
            value = json.loads(raw)
            if value is not None:
                by_question.setdefault(qid, []).append((value, weight, count))
    for definition, question in zip(typed_questions, questions, strict=True):
        rows = by_question.get(question.id, [])
        total = sum(w * n for _, w, n in rows)
        if not total:
            continue
        squares = sum(w * w * n for _, w, n in rows)
        question.n_effective = round(total * total / squares, 1)
        question.margin_of_error = margin_of_error(total * total / squares)
        if question.margin_of_error is not None:
            question.margin_of_error = round(question.margin_of_error, 1)
        for option in question.options:
            share = sum(w * n for v, w, n in rows if definition.matches(v, option.value)) / total
            option.weighted_percent = round(100 * share, 1)
        if definition.ends() is not None:  # a scale: its mean means something
            question.weighted_mean = round(sum(v * w * n for v, w, n in rows) / total, 2)
    return WeightingSummary(
        source=weights.source,
        weighted=weights.weighted,
        unweighted=weights.unweighted,
        n_effective=round(weights.n_effective, 1),
        design_effect=None if weights.design_effect is None else round(weights.design_effect, 2),
        margin_of_error=None if weights.margin_of_error is None else round(weights.margin_of_error, 1),
        trim=(TRIM_LOW, TRIM_HIGH),
        cell_weights=weights.weights,
        groups=weights.groups,
        empty_groups=weights.empty_groups,
        small_groups=weights.small_groups,
    )


async def iter_responses(session: AsyncSession, consultation: Consultation) -> AsyncIterator[ResponseRow]:
    """The submitted responses one by one, in the order they were submitted, streamed from the database.

    One row per response, its answers gathered by the database into JSON objects: reading one row
    per answer (1,000,000 for 100,000 residents × 10 questions) spent most of an export's time
    in the per-row work of the driver and SQLAlchemy, and decoding each value on its own.
    """
    answered = col(ConsultationAnswer.question_id).is_not(None)  # not the outer join's empty row
    query = (
        select(
            col(ConsultationResponse.id),
            col(Resident.pseudonym),
            col(Resident.neighbourhood),
            col(ConsultationResponse.submitted_at),
            col(Resident.age_bracket),
            json_object_of(session, col(ConsultationAnswer.question_id), col(ConsultationAnswer.value), answered),
            json_object_of(
                session,
                col(ConsultationAnswer.question_id),
                col(ConsultationAnswer.other_text),
                answered & (col(ConsultationAnswer.other_text) != ""),
            ),
        )
        .join(Resident, col(Resident.id) == col(ConsultationResponse.resident_id))
        .outerjoin(ConsultationAnswer, col(ConsultationAnswer.response_id) == col(ConsultationResponse.id))
        .where(
            col(ConsultationResponse.consultation_id) == consultation.id,
            col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
        )
        .group_by(
            col(ConsultationResponse.id),
            col(Resident.pseudonym),
            col(Resident.neighbourhood),
            col(ConsultationResponse.submitted_at),
            col(Resident.age_bracket),
        )
        .order_by(col(ConsultationResponse.submitted_at), col(ConsultationResponse.id))
        .execution_options(yield_per=2000)
    )
    # By partitions: awaiting row by row cost 7 of the 11 s of an export when it read one row per answer.
    async for partition in (await session.stream(query)).partitions():
        for _, pseudonym, neighbourhood, submitted_at, age_bracket, answers, other_texts in partition:
            yield ResponseRow(
                pseudonym=pseudonym,
                neighbourhood=neighbourhood,
                submitted_at=submitted_at,
                # Aggregated by the database, past the column types: the texts are decrypted here.
                answers=unsealed(decoded(answers)),
                other_texts=decrypted(decoded(other_texts)),
                age_bracket=age_bracket,
            )


# --- Exports ------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """An answer value as one spreadsheet cell: lists joined with ';' (in order, for rankings)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _columns(question_ids: list[str], has_other: set[str]) -> list[tuple[str, bool]]:
    """Each question's column, and whether an `<id>.other` column follows it."""
    return [(qid, qid in has_other) for qid in question_ids]


def _header(columns: list[tuple[str, bool]], weighted: bool = False) -> list[str]:
    header = ["resident", "neighbourhood", "submitted_at"]
    for qid, other in columns:
        header.append(qid)
        if other:
            header.append(f"{qid}.other")
    # Last, so that a spreadsheet built on an export without population margins keeps working.
    return [*header, "weight"] if weighted else header


def _weight_cell(response: ResponseRow, weights: dict[tuple[str, str], float]) -> str:
    """The participant's weight; empty when their profile is incomplete (left out of weighting)."""
    weight = weights.get((response.neighbourhood or "", response.age_bracket or ""))
    return "" if weight is None else f"{weight:.6f}"


def _row(response: ResponseRow, columns: list[tuple[str, bool]]) -> list[Any]:
    row: list[Any] = [
        response.pseudonym,
        safe_text(response.neighbourhood or ""),
        response.submitted_at.isoformat() if response.submitted_at else "",
    ]
    answers, other_texts = response.answers, response.other_texts
    for qid, other in columns:
        row.append(safe_text(_cell(answers.get(qid))))
        if other:
            row.append(safe_text(other_texts.get(qid, "")))
    return row


def _typed_row(response: ResponseRow, columns: list[tuple[str, bool]]) -> list[Any]:
    """`_row` for XLSX: integer answers (scales) stay numeric cells, every text made safe."""
    row: list[Any] = _row(response, columns)
    position = 3
    for qid, other in columns:
        value = response.answers.get(qid)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            row[position] = value
        position += 2 if other else 1
    return row


def response_table(results: Results) -> tuple[list[str], list[list[str]]]:
    """One row per submitted response: pseudonym, neighbourhood, time, then one column per question."""
    has_other = {q.id for q in results.questions if any(q.id in r.other_texts for r in results.responses)}
    columns = _columns([q.id for q in results.questions], has_other)
    return _header(columns), [_row(r, columns) for r in results.responses]


def to_csv(results: Results) -> bytes:
    """UTF-8 with a BOM, so that spreadsheet programs show the accents right."""
    header, rows = response_table(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


async def write_csv(session: AsyncSession, consultation: Consultation, out: BinaryIO) -> int:
    """The same CSV as `to_csv`, streamed from the database to `out`; returns how many responses.

    Memory stays flat in the number of responses, and no counts are needed: the columns are the
    consultation's questions.
    """
    has_other = set(
        await session.scalars(
            select(col(ConsultationAnswer.question_id))
            .join(ConsultationResponse, col(ConsultationResponse.id) == col(ConsultationAnswer.response_id))
            .where(
                col(ConsultationResponse.consultation_id) == consultation.id,
                col(ConsultationResponse.status) == ResponseStatus.SUBMITTED,
                col(ConsultationAnswer.other_text).is_not(None),
                col(ConsultationAnswer.other_text) != "",
            )
            .distinct()
        )
    )
    columns = _columns([q.id for q in questions_of(consultation)], has_other)
    found = await consultation_weights(session, consultation)
    weights = None if found is None else found.weights
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow(_header(columns, weighted=weights is not None))
        count = 0
        async for response in iter_responses(session, consultation):
            row = _row(response, columns)
            writer.writerow(row if weights is None else [*row, _weight_cell(response, weights)])
            count += 1
        text.flush()
    finally:
        text.detach()  # `out` belongs to the caller
    return count


def to_json(results: Results) -> str:
    data = asdict(results)
    data["by_neighbourhood"] = {
        code: {"started": started, "finished": finished} for code, (started, finished) in results.by_neighbourhood.items()
    }
    weights = None if results.weighting is None else results.weighting.cell_weights
    for response in data["responses"]:
        if weights is not None:
            response["weight"] = weights.get((response["neighbourhood"] or "", response["age_bracket"] or ""))
        del response["age_bracket"]  # the profile stays out of exports; the weight carries what is needed
    if results.weighting is not None:
        del data["weighting"]["cell_weights"]
        for group, source in zip(data["weighting"]["groups"], results.weighting.groups, strict=True):
            group["under_represented"] = source.under_represented
    return json.dumps(data, ensure_ascii=False, indent=2, default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))


def _safe_append(sheet: Any, values: list[Any]) -> None:
    """Append a row whose strings are text cells: openpyxl makes any string starting with = a formula."""
    sheet.append([safe_cell(value) for value in values])
    for cell in sheet[sheet.max_row] if values else ():
        if isinstance(cell.value, str):
            cell.data_type = "s"


def to_xlsx(results: Results) -> bytes:
    """A workbook with a summary sheet and a responses sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    summary = workbook.active
    assert summary is not None  # a new workbook has one sheet
    summary.title = "summary"
    append = _safe_append
    append(summary, ["consultation", results.slug, results.title])
    append(summary, ["started", results.started])
    append(summary, ["finished", results.finished])
    append(summary, [])
    append(summary, ["question", "answer", "label", "count", "percent", "weighted_percent"])
    for question in results.questions:
        for option in question.options:
            value = option.value if isinstance(option.value, int) and not isinstance(option.value, bool) else _cell(option.value)
            append(summary, [question.id, value, option.label, option.count, option.percent, option.weighted_percent])
        for text in question.texts:
            append(summary, [question.id, "text", text])
    append(summary, [])
    append(summary, ["neighbourhood", "started", "finished"])
    for code, (started, finished) in results.by_neighbourhood.items():
        append(summary, [code, started, finished])
    if results.weighting is not None:
        append(summary, [])
        append(summary, ["weighting_source", results.weighting.source])
        append(summary, ["weighted", results.weighting.weighted, "unweighted", results.weighting.unweighted])
        append(summary, ["n_effective", results.weighting.n_effective, "design_effect", results.weighting.design_effect])
        append(summary, ["margin_of_error_points", results.weighting.margin_of_error])
        append(summary, ["dimension", "group", "population", "population_share", "participants", "participant_share"])
        for group in results.weighting.groups:
            append(
                summary,
                [
                    group.dimension,
                    group.code,
                    group.population,
                    round(group.population_share, 4),
                    group.participants,
                    round(group.participant_share, 4),
                ],
            )
    sheet = workbook.create_sheet("responses")
    has_other = {q.id for q in results.questions if any(q.id in r.other_texts for r in results.responses)}
    columns = _columns([q.id for q in results.questions], has_other)
    weights = None if results.weighting is None else results.weighting.cell_weights
    append(sheet, _header(columns, weighted=weights is not None))
    for response in results.responses:
        row = _typed_row(response, columns)
        if weights is not None:
            weight = weights.get((response.neighbourhood or "", response.age_bracket or ""))
            row.append("" if weight is None else round(weight, 6))  # a number cell, as the other figures
        append(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _percent_label(share: float) -> str:
    return f"{100 * share:g} %"


def chart_png(
    question: QuestionResult,
    *,
    caption: str,
    format_share: Callable[[float], str] = _percent_label,
    weighted_word: str = "weighted",
    note: str = "",
    footer: str = "",
) -> bytes | None:
    """A horizontal bar chart of one question's counts (None for a text question).

    The caller gives the words and the number format of the reader's language: `note` under the
    title (several answers possible, what a scale's ends mean), `footer` at the bottom (n, dates,
    source). matplotlib's object API (no pyplot): no global state, safe in a thread beside the
    event loop.
    """
    if not question.options:
        return None
    import textwrap

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    options = list(question.options)
    if question.scale is not None:
        options.reverse()  # the top of the scale at the top: it reads upwards, like a thermometer
    labels = ["\n".join(textwrap.wrap(option.label, 28)) or "—" for option in options]
    counts = [option.count for option in options]
    lines = sum(label.count("\n") + 1 for label in labels)
    height = 1.9 + 0.32 * lines + 0.25 * len(labels) + (0.3 if note else 0) + (0.35 if footer else 0)
    figure = Figure(figsize=(8, height), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    positions = list(range(len(labels)))
    axes.barh(positions, counts, color="#2f6f9f")
    axes.set_yticks(positions, labels=labels)
    axes.invert_yaxis()
    title = "\n".join(textwrap.wrap(question.prompt, 70))
    if note:
        title += "\n" + "\n".join(textwrap.wrap(note, 90))
    axes.set_title(title, fontsize=11)
    axes.set_xlabel(caption)
    top = max(counts) if counts else 0
    axes.set_xlim(0, max(1, top) * 1.6)  # room for the count, the share and the weighted share
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts of people: no 0.2 ticks
    for position, option in zip(positions, options, strict=True):
        text = f" {option.count} ({format_share(option.percent / 100)})"
        if option.weighted_percent is not None:
            text += f" · {weighted_word} {format_share(option.weighted_percent / 100)}"
        axes.text(option.count, position, text, va="center", fontsize=9)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if footer:
        figure.text(0.01, 0.01, "\n".join(textwrap.wrap(footer, 130)), fontsize=7.5, color="#444444", va="bottom")
    figure.tight_layout(rect=(0, 0.06 if footer else 0, 1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def write_charts(
    results: Results, output: Path, *, caption: str, notes: dict[str, str] | None = None, footer: str = "", **options: Any
) -> list[Path]:
    """One PNG per question with counts: OUTPUT-<question id>.png (or inside OUTPUT if a directory)."""
    written = []
    for question in results.questions:
        png = chart_png(question, caption=caption, note=(notes or {}).get(question.id, ""), footer=footer, **options)
        if png is None:
            continue
        if output.is_dir():
            path = output / f"{results.slug}-{question.id}.png"
        else:
            path = output.with_name(f"{output.stem}-{question.id}.png")
        path.write_bytes(png)
        written.append(path)
    return written
