"""Consultations for residents: the list, then one question at a time, a summary, and submitting.

The domain (participation/consultations.py) keeps the answers and refuses stale or forged taps;
this module only parses buttons and typed answers, calls it, and draws the question or the summary.
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.menu import MENU_CONSULTATIONS
from notices.consultations import PickConsultation, current_locale, fallback_locale, tr, when
from participation import consultations as domain
from participation.consultation_file import OTHER
from participation.consultations import Refusal, Refused, ResponseStatus, ResponseView
from storage.models import Consultation, Resident

router = Router(name=__name__)

SUMMARY = -1  # the question index that stands for the summary in callback data
MAX_SHOWN_TEXT = 300  # a typed answer quoted in the summary is cut here
SAFE_MESSAGE_LENGTH = 4000  # Telegram refuses messages over 4096 characters (after entities)


class Act(CallbackData, prefix="ca"):
    """A tap under a question or the summary: response, step, question, action, value."""

    r: int
    s: int
    q: int
    a: str  # c choose · t toggle · v validate · k skip · b back · e edit · u submit · o other · z reset
    v: int = 0


class Answering(StatesGroup):
    text = State()  # a typed answer (text question, or the "other" free answer) is expected


# --- Rendering ----------------------------------------------------------------------------------


def refusal_text(error: Refused, settings: Settings) -> str:
    reason, detail = error.reason, error.detail
    if reason == Refusal.CLOSED:
        return _("This consultation closed on {date}. Thank you for your interest!").format(
            date=when(detail["closes_at"], settings)
        )
    if reason == Refusal.NOT_OPEN_YET:
        return _("This consultation opens on {date}. Come back then!").format(date=when(detail["opens_at"], settings))
    if reason == Refusal.DRAFT:
        return _("This consultation is not published yet.")
    if reason == Refusal.NOT_IN_AUDIENCE:
        return _("This consultation is meant for the residents of other neighbourhoods.")
    if reason == Refusal.STALE:
        return _("This button belongs to an earlier step: nothing was changed. Please use the latest message.")
    if reason == Refusal.TOO_MANY:
        return _("You can choose at most {max} answers.").format(max=detail["max"])
    if reason == Refusal.TOO_LONG:
        return _("Your answer is {length} characters long: please keep it to {max} characters.").format(
            length=detail["length"], max=detail["max"]
        )
    if reason == Refusal.EMPTY:
        return _("Please choose or type an answer first.")
    if reason == Refusal.REQUIRED:
        return _("This question needs an answer.")
    return _("This button is no longer valid.")


def answer_text(question: dict[str, Any], value: Any, other_text: str | None, *, limit: int = MAX_SHOWN_TEXT) -> str:
    """An answer as the summary shows it (typed texts cut at `limit` characters)."""
    if value is None:
        return _("(skipped)")
    labels = {c["id"]: tr(c["label"]) for c in question.get("choices", [])}
    other = other_text or ""
    labels[OTHER] = _("Other: {text}").format(text=html.escape(other if len(other) <= limit else other[:limit] + "…"))
    qtype = question["type"]
    if qtype == "yesno":
        return _("Yes") if value == "yes" else _("No")
    if qtype == "scale":
        return f"{value}/{question['max']}"
    if qtype == "text":
        text = str(value)
        return html.escape(text if len(text) <= limit else text[:limit] + "…")
    if qtype == "ranking":
        return ", ".join(f"{i}. {labels.get(v, '?')}" for i, v in enumerate(value, start=1))
    if isinstance(value, list):
        return ", ".join(labels.get(v, "?") for v in value)
    return labels.get(value, "?")


def _button(text: str, view: ResponseView, action: str, value: int = 0, q: int | None = None) -> InlineKeyboardButton:
    index = view.response.cursor if q is None else q
    data = Act(r=view.response.id, s=view.response.step, q=SUMMARY if index is None else index, a=action, v=value)  # type: ignore[arg-type]
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def question_screen(view: ResponseView) -> tuple[str, InlineKeyboardMarkup]:
    """The current question: title, progress line, prompt, hint, and its buttons."""
    question = view.current
    assert question is not None
    number, total = view.position()
    qtype = question["type"]
    saved = view.answers.get(question["id"])
    draft = view.response.draft
    lines = [
        f"<b>{tr(view.consultation.title)}</b>",
        _("Question {number}/{total}").format(number=number, total=total),
        "",
        f"<b>{tr(question['prompt'])}</b>",
    ]
    rows: list[list[InlineKeyboardButton]] = []
    choices = question.get("choices", [])
    if qtype == "single":
        for i, choice in enumerate(choices):
            mark = "✓ " if saved == choice["id"] else ""
            rows.append([_button(mark + tr(choice["label"]), view, "c", i)])
    elif qtype == "multiple":
        if question.get("max"):
            lines.append(_("<i>Tick up to {max} answers, then tap “Validate”.</i>").format(max=question["max"]))
        else:
            lines.append(_("<i>Tick one or more answers, then tap “Validate”.</i>"))
        for i, choice in enumerate(choices):
            mark = "✓ " if choice["id"] in draft else ""
            rows.append([_button(mark + tr(choice["label"]), view, "t", i)])
    elif qtype == "ranking":
        lines.append(_("<i>Tap the choices in your order of preference, then tap “Validate”.</i>"))
        labels = {c["id"]: tr(c["label"]) for c in choices}
        for position, choice_id in enumerate(draft, start=1):
            lines.append(f"{position}. {labels.get(choice_id, '?')}")
        for i, choice in enumerate(choices):
            if choice["id"] not in draft:
                rows.append([_button(tr(choice["label"]), view, "t", i)])
        if draft:
            rows.append([_button(_("↩️ Start again"), view, "z")])
    elif qtype == "yesno":
        rows.append(
            [
                _button(("✓ " if saved == "yes" else "") + _("Yes"), view, "c", 0),
                _button(("✓ " if saved == "no" else "") + _("No"), view, "c", 1),
            ]
        )
    elif qtype == "scale":
        labels = question.get("labels") or {}
        if labels:
            low = tr(labels.get("min")) or str(question["min"])
            high = tr(labels.get("max")) or str(question["max"])
            lines.append(
                _("<i>{min} = {min_label} · {max} = {max_label}</i>").format(
                    min=question["min"], min_label=low, max=question["max"], max_label=high
                )
            )
        buttons = [
            _button(("✓ " if saved == value else "") + str(value), view, "c", value)
            for value in range(question["min"], question["max"] + 1)
        ]
        rows.extend(buttons[i : i + 6] for i in range(0, len(buttons), 6))
    elif qtype == "text":
        lines.append(_("<i>Type your answer below (at most {max} characters).</i>").format(max=question["max_length"]))
        if saved:
            lines.append(_("Your current answer: {answer}").format(answer=answer_text(question, saved, None)))
    if question.get("other"):
        chosen = OTHER in draft if qtype in ("multiple", "ranking") else saved == OTHER
        rows.append([_button(("✓ " if chosen else "") + _("✏️ Other…"), view, "o")])
    if qtype in ("multiple", "ranking"):
        rows.append([_button(_("✅ Validate"), view, "v")])
    navigation = []
    if view.can_go_back():
        navigation.append(_button(_("⬅️ Back"), view, "b"))
    if not question.get("required"):
        navigation.append(_button(_("Skip ➡️"), view, "k"))
    if navigation:
        rows.append(navigation)
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


def summary_screen(view: ResponseView, settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    """Every answer given, with a button to change each, and "submit"."""
    # A long consultation with long typed answers must still fit in one message (4096 characters).
    for limit in (MAX_SHOWN_TEXT, 60, 15):
        text, markup = _summary(view, settings, limit)
        if len(text) <= SAFE_MESSAGE_LENGTH:
            break
    return text, markup


def _summary(view: ResponseView, settings: Settings, limit: int) -> tuple[str, InlineKeyboardMarkup]:
    submitted = view.response.status == ResponseStatus.SUBMITTED
    lines = [f"<b>{tr(view.consultation.title)}</b>"]
    if submitted:
        lines.append(
            _("✅ Your answers are recorded. You can change them until {date}.").format(
                date=when(view.consultation.closes_at, settings)
            )
        )
    else:
        lines.append(_("Here are your answers. Check them, then tap “Submit”."))
    lines.append("")
    edit_buttons = []
    for number, index in enumerate(view.visible_indexes(), start=1):
        question = view.questions[index]
        if question["id"] in view.answers:
            given = answer_text(question, view.answers[question["id"]], view.other_texts.get(question["id"]), limit=limit)
        else:
            given = _("(not answered yet)")
        prompt = domain.localized(question["prompt"], current_locale(), fallback_locale())
        if limit < MAX_SHOWN_TEXT and len(prompt) > 2 * limit:
            prompt = prompt[: 2 * limit] + "…"
        lines.append(f"{number}. {html.escape(prompt)}\n→ {given}")
        edit_buttons.append(_button(_("✏️ {number}").format(number=number), view, "e", index, q=None))
    rows = [edit_buttons[i : i + 5] for i in range(0, len(edit_buttons), 5)]
    if not submitted:
        rows.append([_button(_("⬅️ Back"), view, "b"), _button(_("📨 Submit"), view, "u")])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _clear(state: FSMContext) -> None:
    """Forget a pending typed answer. Most taps have none: one read instead of two upserts (bench/RESULTS.md §6)."""
    if await state.get_state() is not None or await state.get_data():
        await state.clear()


async def show(target: Message, view: ResponseView, state: FSMContext, settings: Settings, *, edit: bool) -> None:
    """Draw where the resident stands: the current question or the summary."""
    if view.current is None:
        await _clear(state)
        text, markup = summary_screen(view, settings)
    else:
        text, markup = question_screen(view)
        if view.current["type"] == "text":
            await state.set_state(Answering.text)
            await state.set_data({"r": view.response.id, "q": view.response.cursor, "other": False})
        else:
            await _clear(state)
    if edit:
        try:
            await target.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
    await target.answer(text, reply_markup=markup)


async def open_consultation(
    message: Message,
    consultation: Consultation,
    *,
    session: AsyncSession,
    resident: Resident,
    state: FSMContext,
    settings: Settings,
) -> None:
    """Open a consultation for the resident: the intro, then where they stand in it."""
    try:
        view = await domain.begin(session, consultation, resident)
    except Refused as error:
        await message.answer(refusal_text(error, settings))
        return
    if view.response.status != ResponseStatus.SUBMITTED and not view.answers:
        intro = [f"🗳 <b>{tr(consultation.title)}</b>"]
        if consultation.description:
            intro.append(tr(consultation.description))
        intro.append(
            _("Open until {date}. One question at a time; you can change your answers until then.").format(
                date=when(consultation.closes_at, settings)
            )
        )
        await message.answer("\n\n".join(intro))
    elif view.response.status != ResponseStatus.SUBMITTED:
        await message.answer(_("Welcome back! Your earlier answers are saved; let us continue."))
    await show(message, view, state, settings, edit=False)


# --- Handlers -----------------------------------------------------------------------------------


@router.message(Command("consultations"))
@router.message(F.text == MENU_CONSULTATIONS)
async def cmd_consultations(message: Message, session: AsyncSession, resident: Resident, state: FSMContext) -> None:
    """/consultations or the menu entry: the consultations open to this resident."""
    await state.clear()
    available = await domain.open_for(session, resident)
    if not available:
        await message.answer(_("There is no consultation open for you at the moment. We will let you know!"))
        return
    rows = []
    for item in available:
        mark = {ResponseStatus.SUBMITTED: "✅ ", ResponseStatus.IN_PROGRESS: "⏳ "}.get(item.response_status, "🗳 ")  # type: ignore[arg-type]
        rows.append(
            [
                InlineKeyboardButton(
                    text=mark + tr(item.consultation.title), callback_data=PickConsultation(cid=item.consultation.id).pack()
                )
            ]
        )  # type: ignore[arg-type]
    await message.answer(_("Consultations open to you:"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(PickConsultation.filter())
async def on_pick(
    query: CallbackQuery,
    callback_data: PickConsultation,
    session: AsyncSession,
    resident: Resident,
    state: FSMContext,
    settings: Settings,
) -> None:
    """A consultation chosen in the list."""
    consultation = await domain.get_consultation(session, callback_data.cid)
    if consultation is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    await open_consultation(query.message, consultation, session=session, resident=resident, state=state, settings=settings)


@router.callback_query(Act.filter())
async def on_act(
    query: CallbackQuery, callback_data: Act, session: AsyncSession, resident: Resident, state: FSMContext, settings: Settings
) -> None:
    """A tap under a question or the summary; the domain re-checks that it is still allowed."""
    data = callback_data
    question = None if data.q == SUMMARY else data.q
    try:
        view = await _act(session, resident, data, question, state)
    except Refused as error:
        await query.answer(refusal_text(error, settings), show_alert=error.reason not in (Refusal.STALE,))
        if error.reason == Refusal.REQUIRED and "question" in error.detail and isinstance(query.message, Message):
            fresh = await domain.current_view(session, resident, data.r)
            if fresh is not None:
                await show(query.message, fresh, state, settings, edit=True)
        return
    if view is None:  # "other": a typed answer is asked for
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(_("Type your answer below, in a few words."))
        return
    if view.current is None and view.response.status == ResponseStatus.SUBMITTED and data.a == "u":
        await query.answer(_("Thank you! Your answers are recorded."))
    else:
        await query.answer()
    if isinstance(query.message, Message):
        await show(query.message, view, state, settings, edit=True)


async def _act(
    session: AsyncSession, resident: Resident, data: Act, question: int | None, state: FSMContext
) -> ResponseView | None:
    if data.a == "c" and question is not None:
        # Claimed once: the view turns the button's number into a value, then is passed on.
        current = await domain.claim(session, resident, data.r, data.s, question)
        value = _choice_value(current.questions[question], data.v)
        return await domain.answer(session, resident, data.r, data.s, question, value, claimed=current)
    if data.a == "t" and question is not None:
        current = await domain.claim(session, resident, data.r, data.s, question)
        choices = current.questions[question].get("choices", [])
        if not 0 <= data.v < len(choices):
            raise Refused(Refusal.INVALID)
        return await domain.toggle(session, resident, data.r, data.s, question, choices[data.v]["id"], claimed=current)
    if data.a == "v" and question is not None:
        return await domain.validate_draft(session, resident, data.r, data.s, question)
    if data.a == "z" and question is not None:
        return await domain.reset_draft(session, resident, data.r, data.s, question)
    if data.a == "k" and question is not None:
        return await domain.skip(session, resident, data.r, data.s, question)
    if data.a == "b":
        return await domain.back(session, resident, data.r, data.s, question)
    if data.a == "e" and question is None:
        return await domain.edit(session, resident, data.r, data.s, data.v)
    if data.a == "u" and question is None:
        return await domain.submit(session, resident, data.r, data.s)
    if data.a == "o" and question is not None:
        view = await domain.expecting_text(session, resident, data.r, question)
        if view.response.step != data.s or not view.questions[question].get("other"):
            raise Refused(Refusal.STALE if view.response.step != data.s else Refusal.INVALID)
        await state.set_state(Answering.text)
        await state.set_data({"r": data.r, "q": question, "other": True})
        return None
    raise Refused(Refusal.INVALID)


def _choice_value(question: dict[str, Any], index: int) -> Any:
    """The answer value behind a button's number; Refused when no such button exists."""
    qtype = question["type"]
    if qtype == "single":
        choices = question["choices"]
        if 0 <= index < len(choices):
            return choices[index]["id"]
    elif qtype == "yesno" and index in (0, 1):
        return ("yes", "no")[index]
    elif qtype == "scale" and question["min"] <= index <= question["max"]:
        return index
    raise Refused(Refusal.INVALID)


# Menu buttons never get here (handlers.guards.MenuFirst); commands are not answers either.
@router.message(StateFilter(Answering.text), F.text, ~F.text.startswith("/"))
async def on_typed_answer(
    message: Message, session: AsyncSession, resident: Resident, state: FSMContext, settings: Settings
) -> None:
    """A typed answer: to a text question, or the "other" free answer of a choice question."""
    assert message.text is not None
    data = await state.get_data()
    try:
        view = await domain.expecting_text(session, resident, int(data.get("r", 0)), int(data.get("q", -1)))
        index = int(data["q"])
        question = view.questions[index]
        if data.get("other"):
            if len(message.text) > 1000:
                raise Refused(Refusal.TOO_LONG, {"length": len(message.text), "max": 1000})
            if question["type"] == "multiple":
                ticked = [value for value in view.response.draft if value != OTHER]  # a new "other" text replaces the old one
                if question.get("max") and len(ticked) + 1 > question["max"]:
                    raise Refused(Refusal.TOO_MANY, {"max": question["max"]})
                view = await domain.validate_draft(
                    session, resident, view.response.id, view.response.step, index, other_text=message.text
                )  # type: ignore[arg-type]
            else:
                view = await domain.answer(
                    session, resident, view.response.id, view.response.step, index, OTHER, other_text=message.text
                )  # type: ignore[arg-type]
        else:
            view = await domain.answer(session, resident, view.response.id, view.response.step, index, message.text)  # type: ignore[arg-type]
    except Refused as error:
        if error.reason in (Refusal.TOO_LONG, Refusal.EMPTY, Refusal.TOO_MANY):
            await message.answer(refusal_text(error, settings))
            return
        await state.clear()
        await message.answer(
            refusal_text(error, settings)
            if error.reason in (Refusal.CLOSED, Refusal.NOT_OPEN_YET)
            else _("This question is no longer waiting for an answer. Open the consultation again with /consultations.")
        )
        return
    await message.answer(_("✅ Noted."))
    await show(message, view, state, settings, edit=False)


@router.message(StateFilter(Answering.text), ~F.text)
async def on_not_text(message: Message) -> None:
    """A sticker, photo… where a typed answer is expected."""
    await message.answer(_("Please type your answer as text (or use the buttons of the question)."))
