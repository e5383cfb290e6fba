"""Consultations: import, schedule, audience, answering one question at a time, native polls.

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
from enum import StrEnum
from typing import Any

from sqlalchemy import ScalarSelect, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from participation import audit, outbox
from participation.consultation_file import OTHER, ConsultationSpec
from participation.languages import in_language
from participation.text import clean_text, clean_visible
from storage.crypto import FreeText, decrypted, unsealed
from storage.json_sql import decoded, json_object_of
from storage.models import (
    Consultation,
    ConsultationAnswer,
    ConsultationPoll,
    ConsultationResponse,
    Resident,
)
from storage.types import utcnow
from storage.upsert import insert_ignore, upsert


class Status(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


class ResponseStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Refusal(StrEnum):
    """Why an action on a consultation was refused; handlers turn each into a clear message."""

    UNKNOWN = "unknown"  # no such consultation or response, or not this resident's (forged data)
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    DRAFT = "draft"
    NOT_IN_AUDIENCE = "not_in_audience"
    STALE = "stale"  # an earlier message's button, or a second tap
    INVALID = "invalid"  # a value the question does not accept (forged data)
    TOO_MANY = "too_many"  # more ticks than the question's max
    TOO_LONG = "too_long"
    EMPTY = "empty"
    REQUIRED = "required"  # skipping a required question


class Refused(Exception):
    def __init__(self, reason: Refusal, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail or {}


class ConsultationLocked(Exception):
    """Re-importing a slug that residents have already answered."""

    def __init__(self, responses: int) -> None:
        super().__init__(f"{responses} responses")
        self.responses = responses


localized = in_language  # one fallback order for every text in several languages (participation/languages.py)


def status_at(consultation: Consultation, now: datetime | None = None) -> Status:
    """The status that counts: the times decide, whatever the scheduler has done yet."""
    now = now or utcnow()
    if consultation.status == Status.DRAFT:
        return Status.DRAFT
    if consultation.status == Status.CLOSED or now >= consultation.closes_at:
        return Status.CLOSED
    if now < consultation.opens_at:
        return Status.SCHEDULED
    return Status.OPEN


def in_audience(consultation: Consultation, resident: Resident) -> bool:
    """Everyone when no neighbourhood is set; otherwise residents of those neighbourhoods."""
    return not consultation.neighbourhoods or resident.neighbourhood in consultation.neighbourhoods


# --- Import and listing -------------------------------------------------------------------------


class ImportOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"


async def get_consultation(session: AsyncSession, consultation_id: int) -> Consultation | None:
    return await session.get(Consultation, consultation_id)


async def get_by_slug(session: AsyncSession, slug: str) -> Consultation | None:
    return await session.scalar(select(Consultation).where(Consultation.slug == slug))


async def count_responses(session: AsyncSession, consultation_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(ConsultationResponse).where(ConsultationResponse.consultation_id == consultation_id)
        )
        or 0
    )


async def import_consultation(
    session: AsyncSession,
    spec: ConsultationSpec,
    *,
    actor_telegram_id: int | None,
    source: audit.Source,
    draft: bool = False,
) -> tuple[Consultation, ImportOutcome]:
    """Create the consultation, or replace one of the same slug that nobody has answered yet."""
    existing = await get_by_slug(session, spec.slug)
    if existing is not None:
        responses = await count_responses(session, existing.id)  # type: ignore[arg-type]
        if responses:
            raise ConsultationLocked(responses)
    consultation = existing or Consultation(slug=spec.slug, opens_at=spec.opens_at, closes_at=spec.closes_at)
    consultation.title = spec.title
    consultation.description = spec.description
    consultation.topic = spec.topic
    consultation.neighbourhoods = spec.neighbourhoods
    consultation.opens_at = spec.opens_at
    consultation.closes_at = spec.closes_at
    consultation.reminders = spec.reminders
    consultation.questions = spec.questions
    consultation.status = Status.DRAFT if draft else Status.SCHEDULED
    consultation.updated_at = utcnow()
    if existing is None:
        consultation.created_by = actor_telegram_id
    session.add(consultation)
    await session.flush()
    outcome = ImportOutcome.UPDATED if existing is not None else ImportOutcome.CREATED
    await audit.record(
        session,
        actor_telegram_id=actor_telegram_id,
        source=source,
        action=f"consultation.{outcome.value}" if not draft else "consultation.draft",
        subject=spec.slug,
        detail={"questions": len(spec.questions)},
    )
    return consultation, outcome


async def publish(
    session: AsyncSession, consultation: Consultation, *, actor_telegram_id: int | None, source: audit.Source
) -> bool:
    """A draft built in the chat becomes scheduled (and opens at its time); False if not a draft."""
    result = await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation.id, Consultation.status == Status.DRAFT)
        .values(status=Status.SCHEDULED, updated_at=utcnow())
    )
    if not result.rowcount:
        return False
    await session.refresh(consultation)
    await audit.record(
        session, actor_telegram_id=actor_telegram_id, source=source, action="consultation.publish", subject=consultation.slug
    )
    return True


@dataclass(frozen=True)
class ConsultationRow:
    consultation: Consultation
    status: Status
    started: int
    submitted: int


async def list_consultations(session: AsyncSession, now: datetime | None = None) -> list[ConsultationRow]:
    """Every consultation with its status and participation, newest opening first."""
    counts = {
        (cid, status): count
        for cid, status, count in (
            await session.execute(
                select(ConsultationResponse.consultation_id, ConsultationResponse.status, func.count()).group_by(
                    ConsultationResponse.consultation_id, ConsultationResponse.status
                )
            )
        ).all()
    }
    rows = []
    for consultation in await session.scalars(select(Consultation).order_by(Consultation.opens_at.desc(), Consultation.id)):
        submitted = counts.get((consultation.id, ResponseStatus.SUBMITTED.value), 0)
        in_progress = counts.get((consultation.id, ResponseStatus.IN_PROGRESS.value), 0)
        rows.append(ConsultationRow(consultation, status_at(consultation, now), submitted + in_progress, submitted))
    return rows


@dataclass(frozen=True)
class OpenConsultation:
    consultation: Consultation
    response_status: ResponseStatus | None  # None when the resident has not started it


async def open_for(session: AsyncSession, resident: Resident, now: datetime | None = None) -> list[OpenConsultation]:
    """The consultations open now and meant for this resident, with where they stand in each."""
    now = now or utcnow()
    candidates = await session.scalars(
        select(Consultation)
        .where(
            Consultation.status.in_([Status.SCHEDULED, Status.OPEN]), Consultation.opens_at <= now, Consultation.closes_at > now
        )
        .order_by(Consultation.closes_at, Consultation.id)
    )
    mine = {
        cid: ResponseStatus(status)
        for cid, status in (
            await session.execute(
                select(ConsultationResponse.consultation_id, ConsultationResponse.status).where(
                    ConsultationResponse.resident_id == resident.id
                )
            )
        ).all()
    }
    return [OpenConsultation(c, mine.get(c.id)) for c in candidates if in_audience(c, resident)]  # type: ignore[arg-type]


# --- Answering ----------------------------------------------------------------------------------


def is_visible(question: dict[str, Any], answers: dict[str, Any]) -> bool:
    """A question with `when` is asked only when the earlier answer matches."""
    when = question.get("when")
    if not when:
        return True
    given = answers.get(when["question"])
    if given is None:
        return False
    if isinstance(given, list):
        return any(value in when["in"] for value in given)
    return given in when["in"]


@dataclass
class ResponseView:
    """Where a resident stands in a consultation: what to show them next."""

    consultation: Consultation
    response: ConsultationResponse
    answers: dict[str, Any]  # question id -> value (None: skipped)
    other_texts: dict[str, str] = field(default_factory=dict)

    @property
    def questions(self) -> list[dict[str, Any]]:
        return self.consultation.questions

    @property
    def current(self) -> dict[str, Any] | None:
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
        return self.questions[index]["id"] in self.answers

    def can_go_back(self) -> bool:
        cursor = self.response.cursor
        return any(i < cursor for i in self.visible_indexes()) if cursor is not None else bool(self.visible_indexes())

    def missing_required(self) -> list[int]:
        return [
            i
            for i in self.visible_indexes()
            if self.questions[i].get("required") and self.answers.get(self.questions[i]["id"]) is None
        ]


async def _answers(session: AsyncSession, response_id: int) -> tuple[dict[str, Any], dict[str, str]]:
    # Plain columns, not ORM objects: answers are written with an upsert (`_save`), which would
    # leave objects in the session's identity map stale.
    rows = (
        await session.execute(
            select(ConsultationAnswer.question_id, ConsultationAnswer.value, ConsultationAnswer.other_text).where(
                ConsultationAnswer.response_id == response_id
            )
        )
    ).all()
    return {qid: value for qid, value, _ in rows}, {qid: other for qid, _, other in rows if other}


def _answers_of_response(session: AsyncSession) -> tuple[ScalarSelect[str], ScalarSelect[str]]:
    """The answers and the "other" texts of the response selected alongside, each as one JSON object."""
    # Correlated with the response of the enclosing query, and read through the answers' index.
    mine = ConsultationAnswer.response_id == ConsultationResponse.id
    answers = select(json_object_of(session, ConsultationAnswer.question_id, ConsultationAnswer.value)).where(mine)
    others = select(json_object_of(session, ConsultationAnswer.question_id, ConsultationAnswer.other_text)).where(
        mine, ConsultationAnswer.other_text != ""
    )
    return answers.scalar_subquery(), others.scalar_subquery()


async def _view(session: AsyncSession, consultation: Consultation, response: ConsultationResponse) -> ResponseView:
    answers, others = await _answers(session, response.id)  # type: ignore[arg-type]
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
            ConsultationResponse.consultation_id == consultation_id, ConsultationResponse.resident_id == resident_id
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
    response = await find_response(session, consultation.id, resident.id)  # type: ignore[arg-type]
    if response is None:
        # Insert-or-ignore: a double tap on "open" must not create two responses.
        await insert_ignore(
            session,
            ConsultationResponse.__table__,  # type: ignore[arg-type]
            ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, cursor=0).model_dump(exclude={"id"}),  # type: ignore[arg-type]
            ["consultation_id", "resident_id"],
        )
        response = await find_response(session, consultation.id, resident.id)  # type: ignore[arg-type]
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
            .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
            .where(ConsultationResponse.id == response_id)
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
        saved = view.answers.get(view.questions[cursor]["id"])
        if isinstance(saved, list):
            draft = [str(value) for value in saved]
    return {"cursor": cursor, "draft": draft}


async def _take(session: AsyncSession, view: ResponseView, step: int, now: datetime, **changes: Any) -> None:
    """The claim: only one action may move a response on from a given step (double taps, two workers).

    The action's own changes to the response (`changes`: cursor, draft, status…) are written by the
    same conditional UPDATE, and copied to the loaded object without another SELECT.
    """
    values = {"step": step + 1, "updated_at": now, **changes}
    result = await session.execute(
        update(ConsultationResponse)
        .where(ConsultationResponse.id == view.response.id, ConsultationResponse.step == step)
        .values(**values)
        .execution_options(synchronize_session=False)
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
    qid = view.questions[index]["id"]
    view.answers[qid] = value
    if other_text:
        view.other_texts[qid] = other_text
    else:
        view.other_texts.pop(qid, None)


async def _save(session: AsyncSession, view: ResponseView, index: int, now: datetime) -> None:
    """Write the view's answer to question `index`: one upsert (a changed mind replaces it)."""
    qid = view.questions[index]["id"]
    value = view.answers[qid]
    if view.questions[index]["type"] == "text" and isinstance(value, str):
        value = FreeText(value)  # what a resident typed is stored encrypted; choices stay countable
    await upsert(
        session,
        ConsultationAnswer.__table__,  # type: ignore[arg-type]
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


def validate_value(question: dict[str, Any], value: Any, other_text: str | None = None) -> Any:
    """The value if the question accepts it; raises Refused otherwise."""
    qtype = question["type"]
    choice_ids = [choice["id"] for choice in question.get("choices", [])]
    if question.get("other"):
        choice_ids.append(OTHER)
    if qtype == "single":
        if value not in choice_ids:
            raise Refused(Refusal.INVALID)
    elif qtype == "multiple":
        if not isinstance(value, list) or not value or len(set(value)) != len(value) or any(v not in choice_ids for v in value):
            raise Refused(Refusal.EMPTY if value == [] else Refusal.INVALID)
        if question.get("max") and len(value) > question["max"]:
            raise Refused(Refusal.TOO_MANY, {"max": question["max"]})
    elif qtype == "ranking":
        if not isinstance(value, list) or not value or len(set(value)) != len(value) or any(v not in choice_ids for v in value):
            raise Refused(Refusal.EMPTY if value == [] else Refusal.INVALID)
    elif qtype == "yesno":
        if value not in ("yes", "no"):
            raise Refused(Refusal.INVALID)
    elif qtype == "scale":
        if isinstance(value, bool) or not isinstance(value, int) or not question["min"] <= value <= question["max"]:
            raise Refused(Refusal.INVALID)
    elif qtype == "text":
        if not isinstance(value, str) or clean_visible(value) is None:
            raise Refused(Refusal.EMPTY)
        value = clean_text(value)
        if len(value) > question["max_length"]:
            raise Refused(Refusal.TOO_LONG, {"max": question["max_length"], "length": len(value)})
    uses_other = value == OTHER or (isinstance(value, list) and OTHER in value)
    if uses_other and clean_visible(other_text) is None:
        raise Refused(Refusal.EMPTY)
    return value


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
        if other_text and len(other_text) > 1000:
            raise Refused(Refusal.TOO_LONG, {"max": 1000, "length": len(other_text)})
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
    question = view.questions[question_index]
    if question["type"] not in ("multiple", "ranking") or choice_id not in [c["id"] for c in question["choices"]]:
        raise Refused(Refusal.INVALID)
    draft = list(view.response.draft)
    if question["type"] == "ranking":
        if choice_id in draft:
            raise Refused(Refusal.INVALID)
        draft.append(choice_id)
    elif choice_id in draft:
        draft.remove(choice_id)
    else:
        if question.get("max") and len(draft) >= question["max"]:
            raise Refused(Refusal.TOO_MANY, {"max": question["max"]})
        draft.append(choice_id)
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
        other_text = view.other_texts.get(view.questions[question_index]["id"])
    if other_text:
        draft.append(OTHER)
    return await answer(session, resident, response_id, step, question_index, draft, other_text=other_text, now=now, claimed=view)


async def skip(
    session: AsyncSession, resident: Resident, response_id: int, step: int, question_index: int, *, now: datetime | None = None
) -> ResponseView:
    """Skip the current question (refused when it is required)."""
    now = now or utcnow()
    view = await claim(session, resident, response_id, step, question_index, now=now)
    if view.questions[question_index].get("required"):
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
    hidden = [q["id"] for i, q in enumerate(view.questions) if i not in view.visible_indexes()]
    if hidden:
        await session.execute(
            delete(ConsultationAnswer).where(
                ConsultationAnswer.response_id == response_id, ConsultationAnswer.question_id.in_(hidden)
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


# --- Participants (for reminders and publication) -----------------------------------------------


@dataclass(frozen=True)
class Participants:
    submitted: list[Resident]
    unfinished: list[Resident]  # started without submitting


async def participants(session: AsyncSession, consultation_id: int) -> Participants:
    """Who took part (submitted) and who started without finishing; erased residents are left out."""
    rows = (
        await session.execute(
            select(Resident, ConsultationResponse.status)
            .join(ConsultationResponse, ConsultationResponse.resident_id == Resident.id)
            .where(ConsultationResponse.consultation_id == consultation_id, Resident.erased_at.is_(None))
            .order_by(Resident.id)
        )
    ).all()
    return Participants(
        submitted=[r for r, status in rows if status == ResponseStatus.SUBMITTED],
        unfinished=[r for r, status in rows if status == ResponseStatus.IN_PROGRESS],
    )


# --- Schedule -----------------------------------------------------------------------------------


async def open_if_due(session: AsyncSession, consultation_id: int, now: datetime | None = None) -> bool:
    """Mark a scheduled consultation open once its time has come; False when already done."""
    now = now or utcnow()
    result = await session.execute(
        update(Consultation)
        .where(Consultation.id == consultation_id, Consultation.status == Status.SCHEDULED, Consultation.opens_at <= now)
        .values(status=Status.OPEN, updated_at=now)
    )
    return bool(result.rowcount)


async def close_if_due(session: AsyncSession, consultation_id: int, now: datetime | None = None) -> bool:
    """Close a consultation whose time is over and stop its native polls; False when already done."""
    now = now or utcnow()
    result = await session.execute(
        update(Consultation)
        .where(
            Consultation.id == consultation_id,
            Consultation.status.in_([Status.SCHEDULED, Status.OPEN]),
            Consultation.closes_at <= now,
        )
        .values(status=Status.CLOSED, updated_at=now)
    )
    if not result.rowcount:
        return False
    await stop_polls(session, consultation_id)
    return True


async def due_transitions(session: AsyncSession) -> list[tuple[int, str, datetime]]:
    """(consultation id, "open" or "close", when) for every transition still to make."""
    planned = []
    for consultation in await session.scalars(
        select(Consultation).where(Consultation.status.in_([Status.SCHEDULED, Status.OPEN]))
    ):
        if consultation.status == Status.SCHEDULED:
            planned.append((consultation.id, "open", consultation.opens_at))
        planned.append((consultation.id, "close", consultation.closes_at))
    return planned  # type: ignore[return-value]


# --- Native polls -------------------------------------------------------------------------------

POLL_TYPES = ("single", "yesno", "multiple")
POLL_KIND = "poll"
POLL_STOP_KIND = "poll_stop"


class PollRefusal(StrEnum):
    NOT_ONE_QUESTION = "not_one_question"
    WRONG_TYPE = "wrong_type"
    NOT_OPEN = "not_open"


def poll_refusal(consultation: Consultation, now: datetime | None = None) -> PollRefusal | None:
    """Why this consultation cannot go out as a native poll, or None when it can."""
    if len(consultation.questions) != 1:
        return PollRefusal.NOT_ONE_QUESTION
    question = consultation.questions[0]
    if question["type"] not in POLL_TYPES or question.get("other"):
        return PollRefusal.WRONG_TYPE
    if status_at(consultation, now) != Status.OPEN:
        return PollRefusal.NOT_OPEN
    return None


async def poll_audience(session: AsyncSession, consultation: Consultation) -> list[Resident]:
    """Residents who consented, are reachable, are in the audience and have no poll yet for it."""
    already = select(ConsultationPoll.resident_id).where(ConsultationPoll.consultation_id == consultation.id)
    residents = await session.scalars(
        select(Resident)
        .where(
            Resident.consent_at.is_not(None),
            Resident.erased_at.is_(None),
            Resident.unreachable_at.is_(None),
            Resident.telegram_id.is_not(None),
            Resident.id.not_in(already),
        )
        .order_by(Resident.id)
    )
    return [r for r in residents if in_audience(consultation, r)]


def poll_values(question: dict[str, Any]) -> list[Any]:
    """The answer value behind each option of the native poll, in order."""
    if question["type"] == "yesno":
        return ["yes", "no"]
    return [choice["id"] for choice in question["choices"]]


def poll_dedupe_key(consultation_id: int, resident_id: int) -> str:
    return f"poll:{consultation_id}:{resident_id}"


async def register_poll(session: AsyncSession, consultation: Consultation, resident: Resident) -> bool:
    """Remember that a poll goes to this resident; False when one already did (nothing to send)."""
    return await insert_ignore(
        session,
        ConsultationPoll.__table__,  # type: ignore[arg-type]
        ConsultationPoll(consultation_id=consultation.id, resident_id=resident.id, chat_id=resident.telegram_id).model_dump(
            exclude={"id"}
        ),  # type: ignore[arg-type]
        ["consultation_id", "resident_id"],
    )


async def record_poll_sent(session: AsyncSession, message: Any, result: Any) -> None:
    """Outbox hook for kind "poll": remember the poll id Telegram gave, to count its answers."""
    key = message.dedupe_key or ""
    parts = key.split(":")
    poll = getattr(result, "poll", None)
    if len(parts) != 3 or poll is None:
        return
    await session.execute(
        update(ConsultationPoll)
        .where(ConsultationPoll.consultation_id == int(parts[1]), ConsultationPoll.resident_id == int(parts[2]))
        .values(poll_id=poll.id, message_id=result.message_id, status="open")
    )
    # Delivered after the consultation closed (a long queue): stop it at once like the others.
    consultation = await session.get(Consultation, int(parts[1]))
    if consultation is not None and status_at(consultation) == Status.CLOSED:
        await stop_polls(session, consultation.id)  # type: ignore[arg-type]


class PollOutcome(StrEnum):
    RECORDED = "recorded"
    RETRACTED = "retracted"
    IGNORED = "ignored"  # someone else's poll, a closed consultation, an impossible option
    # No poll with that id (yet): the sender records a poll's id just after Telegram accepted it,
    # so a very quick vote can arrive before that record is committed.
    UNKNOWN_POLL = "unknown_poll"


async def record_poll_answer(
    session: AsyncSession, poll_id: str, resident: Resident | None, option_ids: list[int], now: datetime | None = None
) -> PollOutcome:
    """Count a `poll_answer` in the same tables as the conversational answers, once per resident."""
    now = now or utcnow()
    poll = await session.scalar(select(ConsultationPoll).where(ConsultationPoll.poll_id == poll_id))
    if poll is None:
        return PollOutcome.UNKNOWN_POLL
    if resident is None or poll.resident_id != resident.id:
        return PollOutcome.IGNORED
    consultation = await session.get(Consultation, poll.consultation_id)
    if consultation is None or status_at(consultation, now) != Status.OPEN:
        return PollOutcome.IGNORED
    question = consultation.questions[0]
    values = poll_values(question)
    if any(not 0 <= i < len(values) for i in option_ids):
        return PollOutcome.IGNORED
    chosen = [values[i] for i in option_ids]
    await insert_ignore(
        session,
        ConsultationResponse.__table__,  # type: ignore[arg-type]
        ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, cursor=None).model_dump(exclude={"id"}),  # type: ignore[arg-type]
        ["consultation_id", "resident_id"],
    )
    response = await find_response(session, consultation.id, resident.id)  # type: ignore[arg-type]
    assert response is not None
    view = await _view(session, consultation, response)
    if not chosen:  # the resident took their vote back
        await session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.response_id == response.id))
        response.status = ResponseStatus.IN_PROGRESS
        response.submitted_at = None
        outcome = PollOutcome.RETRACTED
    else:
        value = chosen if question["type"] == "multiple" else chosen[0]
        if question["type"] == "multiple" and question.get("max") and len(chosen) > question["max"]:
            value = chosen[: question["max"]]
        _remember(view, 0, value)
        await _save(session, view, 0, now)
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at = now
        outcome = PollOutcome.RECORDED
    response.cursor = None
    response.step += 1
    response.updated_at = now
    session.add(response)
    await session.flush()
    return outcome


async def stop_polls(session: AsyncSession, consultation_id: int) -> int:
    """Queue stopPoll for every native poll of a consultation still open; returns how many."""
    polls = (
        await session.scalars(
            select(ConsultationPoll).where(ConsultationPoll.consultation_id == consultation_id, ConsultationPoll.status == "open")
        )
    ).all()
    for poll in polls:
        await outbox.enqueue(
            session,
            chat_id=poll.chat_id,
            method="stopPoll",
            payload={"chat_id": poll.chat_id, "message_id": poll.message_id},
            resident_id=poll.resident_id,
            kind=POLL_STOP_KIND,
            dedupe_key=f"pollstop:{poll.id}",
        )
        poll.status = "stopped"
        session.add(poll)
    await session.flush()
    return len(polls)


# --- Privacy (/mydata, /forget) -----------------------------------------------------------------


async def personal_data(session: AsyncSession, resident: Resident) -> list[dict[str, Any]]:
    """The resident's responses, for the /mydata file: consultation, status and every answer."""
    responses = (
        await session.execute(
            select(ConsultationResponse, Consultation.slug)
            .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
            .where(ConsultationResponse.resident_id == resident.id)
            .order_by(ConsultationResponse.id)
        )
    ).all()
    data = []
    for response, slug in responses:
        answers = await session.scalars(
            select(ConsultationAnswer).where(ConsultationAnswer.response_id == response.id).order_by(ConsultationAnswer.id)
        )
        data.append(
            {
                "consultation": slug,
                "status": response.status,
                "started_at": response.started_at.isoformat(),
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": a.question_id, "value": a.value, "other": a.other_text, "answered_at": a.answered_at.isoformat()}
                    for a in answers
                ],
            }
        )
    return data


async def erase_personal_data(session: AsyncSession, resident: Resident) -> None:
    """On /forget: what the resident typed goes; their choices stay, as anonymous counts.

    Native polls are forgotten too: their rows hold the resident's chat id.
    """
    response_ids = select(ConsultationResponse.id).where(ConsultationResponse.resident_id == resident.id)
    typed = []
    for answer, questions in (
        await session.execute(
            select(ConsultationAnswer, Consultation.questions)
            .join(ConsultationResponse, ConsultationResponse.id == ConsultationAnswer.response_id)
            .join(Consultation, Consultation.id == ConsultationResponse.consultation_id)
            .where(ConsultationAnswer.response_id.in_(response_ids))
        )
    ).all():
        types = {q["id"]: q["type"] for q in questions}
        if types.get(answer.question_id) == "text":
            typed.append(answer.id)
    if typed:
        await session.execute(delete(ConsultationAnswer).where(ConsultationAnswer.id.in_(typed)))
    await session.execute(
        update(ConsultationAnswer).where(ConsultationAnswer.response_id.in_(response_ids)).values(other_text=None)
    )
    await session.execute(delete(ConsultationPoll).where(ConsultationPoll.resident_id == resident.id))
