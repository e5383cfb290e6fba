"""Answering one question at a time: the response, its drafts, visibility, and every action on it.

Answers are written to the database as they are given (one `ConsultationResponse` per resident and
consultation, one `ConsultationAnswer` per question), so that leaving half-way, a restart of the
bot, or changing one's mind before closing all work from the same rows the results count.

Every action on a response names the `step` it was offered at and the question it is about; the
step is bumped with a conditional UPDATE, so an old button, a double tap or forged data is refused
(`Refused`) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, cast

from sqlalchemy import CursorResult, ScalarSelect, Table, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel, col

from participation.consultations.catalog import ResponseStatus, Status, in_audience, status_at
from participation.consultations.questions import MAX_OTHER_LENGTH, OTHER, Question, is_visible, questions_of
from participation.consultations.refusals import Refusal, Refused
from participation.text import clean_text
from storage.crypto import FreeText, decrypted, unsealed
from storage.json_sql import decoded, json_object_of
from storage.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationResponse,
    Resident,
)
from storage.types import utcnow
from storage.upsert import insert_ignore, upsert


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Table, typed: SQLModel sets `__table__` at run time only."""
    return cast(Table, inspect(model).local_table)


@dataclass
class ResponseView:
    """Where a resident stands in a consultation: what to show them next."""

    consultation: Consultation
    response: ConsultationResponse
    answers: dict[str, Any]  # question id -> value (None: skipped)
    other_texts: dict[str, str] = field(default_factory=dict)

    @cached_property
    def questions(self) -> list[Question]:
        return questions_of(self.consultation)

    @property
    def current(self) -> Question | None:
        cursor = self.response.cursor
        return None if cursor is None else self.questions[cursor]

    def visible_indexes(self) -> list[int]:
        return [i for i, q in enumerate(self.questions) if is_visible(q, self.answers)]

    def position(self) -> tuple[int, int]:
        """(number of the current question among those asked, how many are asked) for "Question 2/5"."""
        visible = self.visible_indexes()
        cursor = self.response.cursor
        number = visible.index(cursor) + 1 if cursor in visible else len(visible)
        return number, len(visible)

    def answered(self, index: int) -> bool:
        return self.questions[index].id in self.answers

    def can_go_back(self) -> bool:
        cursor = self.response.cursor
        return any(i < cursor for i in self.visible_indexes()) if cursor is not None else bool(self.visible_indexes())

    def missing_required(self) -> list[int]:
        return [
            i for i in self.visible_indexes() if self.questions[i].required and self.answers.get(self.questions[i].id) is None
        ]


async def _answers(session: AsyncSession, response_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    # Plain columns, not ORM objects: answers are written with an upsert (`_save`), which would
    # leave objects in the session's identity map stale.
    rows = (
        await session.execute(
            select(col(ConsultationAnswer.question_id), col(ConsultationAnswer.value), col(ConsultationAnswer.other_text)).where(
                col(ConsultationAnswer.response_id) == response_id
            )
        )
    ).all()
    return {qid: value for qid, value, _ in rows}, {qid: other for qid, _, other in rows if other}


def _answers_of_response(session: AsyncSession) -> tuple[ScalarSelect[str], ScalarSelect[str]]:
    """The answers and the "other" texts of the response selected alongside, each as one JSON object."""
    # Correlated with the response of the enclosing query, and read through the answers' index.
    mine = col(ConsultationAnswer.response_id) == col(ConsultationResponse.id)
    answers = select(json_object_of(session, col(ConsultationAnswer.question_id), col(ConsultationAnswer.value))).where(mine)
    others = select(json_object_of(session, col(ConsultationAnswer.question_id), col(ConsultationAnswer.other_text))).where(
        mine, col(ConsultationAnswer.other_text) != ""
    )
    return answers.scalar_subquery(), others.scalar_subquery()


async def _view(session: AsyncSession, consultation: Consultation, response: ConsultationResponse) -> ResponseView:
    assert response.id is not None  # loaded from the database
    answers, others = await _answers(session, response.id)
    return ResponseView(consultation, response, answers, others)


def _check_open(consultation: Consultation, now: datetime) -> None:
    status = status_at(consultation, now)
    if status == Status.CLOSED:
        raise Refused(Refusal.CLOSED, {"closes_at": consultation.closes_at})
    if status == Status.SCHEDULED:
        raise Refused(Refusal.NOT_OPEN_YET, {"opens_at": consultation.opens_at})
    if status == Status.DRAFT:
        raise Refused(Refusal.DRAFT)


async def find_response(session: AsyncSession, consultation_id: int, resident_id: int) -> ConsultationResponse | None:
    return await session.scalar(
        select(ConsultationResponse).where(
            col(ConsultationResponse.consultation_id) == consultation_id, col(ConsultationResponse.resident_id) == resident_id
        )
    )


async def begin(
    session: AsyncSession, consultation: Consultation, resident: Resident, now: datetime | None = None
) -> ResponseView:
    """Open a consultation for a resident: their response so far, or a new one at question 1."""
    now = now or utcnow()
    _check_open(consultation, now)
    if not in_audience(consultation, resident):
        raise Refused(Refusal.NOT_IN_AUDIENCE)
    assert consultation.id is not None and resident.id is not None  # both stored
    response = await find_response(session, consultation.id, resident.id)
    if response is None:
        # Insert-or-ignore: a double tap on "open" must not create two responses.
        await insert_ignore(
            session,
            table_of(ConsultationResponse),
            ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, cursor=0).model_dump(exclude={"id"}),
            ["consultation_id", "resident_id"],
        )
        response = await find_response(session, consultation.id, resident.id)
        assert response is not None
        view = await _view(session, consultation, response)
        first = view.visible_indexes()[0] if view.visible_indexes() else None
        await _move(session, view, first)
        return view
    view = await _view(session, consultation, response)
    if response.status == ResponseStatus.SUBMITTED and response.cursor is not None:
        # Someone who submitted and left in the middle of an edit is shown the summary again.
        await _move(session, view, None)
    return view


async def claim(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int | None,
    *,
    now: datetime | None = None,
) -> ResponseView:
    """Load the response for an action, refusing anything that is not allowed right now.

    Nothing is changed yet: the action checks its value, then calls `_take` before writing. The
    chat handler claims once, turns the button's number into a value with the view, then passes
    the view on (`answer(..., claimed=view)`) rather than loading it twice.
    """
    now = now or utcnow()
    # The response, its consultation and its answers in one statement: a tap's cost is mostly
    # its statements (bench/answers.py).
    answers, others = _answers_of_response(session)
    row = (
        await session.execute(
            select(ConsultationResponse, Consultation, answers, others)
            .join(Consultation, col(Consultation.id) == col(ConsultationResponse.consultation_id))
            .where(col(ConsultationResponse.id) == response_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None or row[0].resident_id != resident.id:
        raise Refused(Refusal.UNKNOWN)
    response, consultation, answered, other_texts = row
    _check_open(consultation, now)
    if response.step != step or response.cursor != question_index:
        raise Refused(Refusal.STALE)
    # Aggregated by the database, past the column types: the texts are decrypted here.
    return ResponseView(consultation, response, unsealed(decoded(answered)), decrypted(decoded(other_texts)))


async def _claimed(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int,
    now: datetime,
    claimed: ResponseView | None,
) -> ResponseView:
    """The view the caller already claimed for this very action, or a fresh claim."""
    if claimed is None:
        return await claim(session, resident, response_id, step, question_index, now=now)
    if (claimed.response.id, claimed.response.step, claimed.response.cursor) != (response_id, step, question_index):
        raise Refused(Refusal.STALE)
    return claimed


def _shown(view: ResponseView, cursor: int | None) -> dict[str, Any]:
    """The columns that show question `cursor` next (None: the summary); its draft starts from the saved answer."""
    draft: list[str] = []
    if cursor is not None:
        saved = view.answers.get(view.questions[cursor].id)
        if isinstance(saved, list):
            draft = [str(value) for value in saved]
    return {"cursor": cursor, "draft": draft}


async def _take(session: AsyncSession, view: ResponseView, step: int, now: datetime, **changes: Any) -> None:
    """The claim: only one action may move a response on from a given step (double taps, two workers).

    The action's own changes to the response (`changes`: cursor, draft, status…) are written by the
    same conditional UPDATE, and copied to the loaded object without another SELECT.
    """
    values = {"step": step + 1, "updated_at": now, **changes}
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update(ConsultationResponse)
            .where(col(ConsultationResponse.id) == view.response.id, col(ConsultationResponse.step) == step)
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if not result.rowcount:
        raise Refused(Refusal.STALE)
    for name, value in values.items():
        set_committed_value(view.response, name, value)


async def _move(session: AsyncSession, view: ResponseView, cursor: int | None) -> None:
    """Show question `cursor` next, without claiming a step (opening a consultation)."""
    response = view.response
    for name, value in _shown(view, cursor).items():
        setattr(response, name, value)
    response.updated_at = utcnow()
    session.add(response)
    await session.flush()


def _next_after(view: ResponseView, index: int) -> int | None:
    """The next question to ask after `index`: the first visible one not answered yet."""
    for i in view.visible_indexes():
        if i > index and not view.answered(i):
            return i
    return None


def _remember(view: ResponseView, index: int, value: Any, other_text: str | None = None) -> None:
    """Put an answer in the view, so that the next question is chosen knowing it."""
    qid = view.questions[index].id
    view.answers[qid] = value
    if other_text:
        view.other_texts[qid] = other_text
    else:
        view.other_texts.pop(qid, None)


async def _save(session: AsyncSession, view: ResponseView, index: int, now: datetime) -> None:
    """Write the view's answer to question `index`: one upsert (a changed mind replaces it)."""
    qid = view.questions[index].id
    value = view.answers[qid]
    if view.questions[index].typed and isinstance(value, str):
        value = FreeText(value)  # what a resident typed is stored encrypted; choices stay countable
    await upsert(
        session,
        table_of(ConsultationAnswer),
        {
            "response_id": view.response.id,
            "question_id": qid,
            "value": value,
            "other_text": view.other_texts.get(qid),
            "answered_at": now,
        },
        ["response_id", "question_id"],
        ["value", "other_text", "answered_at"],
    )


def validate_value(question: Question, value: Any, other_text: str | None = None) -> Any:
    """The value if the question accepts it; raises Refused otherwise."""
    return question.validate_value(value, other_text)


async def answer(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int,
    value: Any,
    *,
    other_text: str | None = None,
    now: datetime | None = None,
    claimed: ResponseView | None = None,
) -> ResponseView:
    """Record the answer to the current question and move on to the next one (or the summary).

    `claimed`: the view `claim` returned for this same action, when the caller needed it first.
    """
    now = now or utcnow()
    view = await _claimed(session, resident, response_id, step, question_index, now, claimed)
    question = view.questions[question_index]
    value = validate_value(question, value, other_text)
    if other_text is not None:
        other_text = clean_text(other_text)[:4000]
        if other_text and len(other_text) > MAX_OTHER_LENGTH:
            raise Refused(Refusal.TOO_LONG, {"max": MAX_OTHER_LENGTH, "length": len(other_text)})
    _remember(view, question_index, value, other_text if _uses_other(value) else None)
    await _take(session, view, step, now, **_shown(view, _next_after(view, question_index)))
    await _save(session, view, question_index, now)
    return view


def _uses_other(value: Any) -> bool:
    return value == OTHER or (isinstance(value, list) and OTHER in value)


async def toggle(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int,
    choice_id: str,
    *,
    now: datetime | None = None,
    claimed: ResponseView | None = None,
) -> ResponseView:
    """Tick or untick a choice of a `multiple` question, or add one to a `ranking` (not saved as an answer yet)."""
    now = now or utcnow()
    view = await _claimed(session, resident, response_id, step, question_index, now, claimed)
    draft = view.questions[question_index].toggled(list(view.response.draft), choice_id)
    await _take(session, view, step, now, draft=draft)
    return view


async def reset_draft(
    session: AsyncSession, resident: Resident, response_id: int, step: int, question_index: int, *, now: datetime | None = None
) -> ResponseView:
    """Start a ranking again."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, question_index, now=now)
    await _take(session, view, step, now, draft=[])
    return view


async def validate_draft(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int,
    *,
    other_text: str | None = None,
    now: datetime | None = None,
) -> ResponseView:
    """ "Validate" under a multiple or ranking question: the ticks become the answer."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, question_index, now=now)
    # "Other" comes back in the draft of a revisited question: keep its saved text unless a new one is typed.
    draft = [value for value in view.response.draft if value != OTHER]
    if not other_text and OTHER in view.response.draft:
        other_text = view.other_texts.get(view.questions[question_index].id)
    if other_text:
        draft.append(OTHER)
    return await answer(session, resident, response_id, step, question_index, draft, other_text=other_text, now=now, claimed=view)


async def skip(
    session: AsyncSession, resident: Resident, response_id: int, step: int, question_index: int, *, now: datetime | None = None
) -> ResponseView:
    """Skip the current question (refused when it is required)."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, question_index, now=now)
    if view.questions[question_index].required:
        raise Refused(Refusal.REQUIRED)
    _remember(view, question_index, None)
    await _take(session, view, step, now, **_shown(view, _next_after(view, question_index)))
    await _save(session, view, question_index, now)
    return view


async def back(
    session: AsyncSession,
    resident: Resident,
    response_id: int,
    step: int,
    question_index: int | None,
    *,
    now: datetime | None = None,
) -> ResponseView:
    """Back to the previous question asked (from the summary: the last one)."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, question_index, now=now)
    earlier = [i for i in view.visible_indexes() if question_index is None or i < question_index]
    if not earlier:
        raise Refused(Refusal.STALE)
    await _take(session, view, step, now, **_shown(view, earlier[-1]))
    return view


async def edit(
    session: AsyncSession, resident: Resident, response_id: int, step: int, question_index: int, *, now: datetime | None = None
) -> ResponseView:
    """From the summary: answer question `question_index` again."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, None, now=now)
    if not 0 <= question_index < len(view.questions) or question_index not in view.visible_indexes():
        raise Refused(Refusal.INVALID)
    await _take(session, view, step, now, **_shown(view, question_index))
    return view


async def submit(
    session: AsyncSession, resident: Resident, response_id: int, step: int, *, now: datetime | None = None
) -> ResponseView:
    """Submit from the summary; answers to questions no longer asked (`when`) are dropped."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, None, now=now)
    missing = view.missing_required()
    if missing:
        # Taken (the step moves on) and committed by the caller: the resident is shown the question.
        await _take(session, view, step, now, **_shown(view, missing[0]))
        raise Refused(Refusal.REQUIRED, {"question": missing[0]})
    await _take(session, view, step, now, status=ResponseStatus.SUBMITTED, submitted_at=now)
    hidden = [q.id for i, q in enumerate(view.questions) if i not in view.visible_indexes()]
    if hidden:
        await session.execute(
            delete(ConsultationAnswer).where(
                col(ConsultationAnswer.response_id) == response_id, col(ConsultationAnswer.question_id).in_(hidden)
            )
        )
        for qid in hidden:
            view.answers.pop(qid, None)
    return view


async def current_view(session: AsyncSession, resident: Resident, response_id: int) -> ResponseView | None:
    """The response as it stands (to redraw it), if it is this resident's."""
    response = await session.get(ConsultationResponse, response_id, populate_existing=True)
    if response is None or response.resident_id != resident.id:
        return None
    consultation = await session.get(Consultation, response.consultation_id)
    assert consultation is not None
    return await _view(session, consultation, response)


async def expecting_text(session: AsyncSession, resident: Resident, response_id: int, question_index: int) -> ResponseView:
    """Check that a typed answer for `question_index` is still expected (the question is current)."""
    response = await session.get(ConsultationResponse, response_id, populate_existing=True)
    if response is None or response.resident_id != resident.id:
        raise Refused(Refusal.UNKNOWN)
    consultation = await session.get(Consultation, response.consultation_id)
    assert consultation is not None
    _check_open(consultation, utcnow())
    if response.cursor != question_index:
        raise Refused(Refusal.STALE)
    return await _view(session, consultation, response)
