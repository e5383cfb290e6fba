"""Consultations for residents: the list, then one question at a time, a summary, and submitting.

The domain (participation/consultations/) keeps the answers and refuses stale or forged taps;
this module only parses buttons and typed answers, calls it, and shows what notices/consultations.py
composed (the question or the summary).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.consultations import (
    SUMMARY,
    Act,
    PickConsultation,
    noted,
    open_list,
    opening_text,
    question_screen,
    refusal_text,
    submitted_thanks,
    summary_screen,
    text_expected,
    type_other_prompt,
    typed_text_refusal,
)
from notices.menu import MENU_CONSULTATIONS
from notices.screens import stale_button
from participation import consultations as domain
from participation.consultations import Refusal, Refused, ResponseStatus, ResponseView
from participation.consultations.questions import MAX_OTHER_LENGTH, OTHER
from storage.models import Consultation, Resident

router = Router(name=__name__)


class Answering(StatesGroup):
    text = State()  # a typed answer (text question, or the "other" free answer) is expected


# --- Showing ------------------------------------------------------------------------------------


async def _clear(state: FSMContext) -> None:
    """Forget a pending typed answer. Most taps have none: one read instead of two upserts (bench/RESULTS.md §6)."""
    if await state.get_state() is not None or await state.get_data():
        await state.clear()


async def show(target: Message, view: ResponseView, state: FSMContext, settings: Settings, *, edit: bool) -> None:
    """Draw where the resident stands: the current question or the summary."""
    if view.current is None:
        await _clear(state)
        screen = summary_screen(view, settings)
    else:
        screen = question_screen(view)
        if view.current.typed:
            await state.set_state(Answering.text)
            await state.set_data({"r": view.response.id, "q": view.response.cursor, "other": False})
        else:
            await _clear(state)
    if edit:
        try:
            await target.edit_text(screen.text, reply_markup=screen.reply_markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
    await target.answer(screen.text, reply_markup=screen.reply_markup)


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
    opening = opening_text(view, settings)
    if opening is not None:
        await message.answer(opening)
    await show(message, view, state, settings, edit=False)


# --- Handlers -----------------------------------------------------------------------------------


@router.message(Command("consultations"))
@router.message(F.text == MENU_CONSULTATIONS)
async def cmd_consultations(message: Message, session: AsyncSession, resident: Resident, state: FSMContext) -> None:
    """/consultations or the menu entry: the consultations open to this resident."""
    await state.clear()
    screen = open_list(await domain.open_for(session, resident))
    await message.answer(screen.text, reply_markup=screen.reply_markup)


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
        await query.answer(stale_button())
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
            await query.message.answer(type_other_prompt())
        return
    if view.current is None and view.response.status == ResponseStatus.SUBMITTED and data.a == "u":
        await query.answer(submitted_thanks())
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
        value = current.questions[question].tapped(data.v)
        return await domain.answer(session, resident, data.r, data.s, question, value, claimed=current)
    if data.a == "t" and question is not None:
        current = await domain.claim(session, resident, data.r, data.s, question)
        options = current.questions[question].options()
        if not 0 <= data.v < len(options):
            raise Refused(Refusal.INVALID)
        return await domain.toggle(session, resident, data.r, data.s, question, str(options[data.v].value), claimed=current)
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
        if view.response.step != data.s or not view.questions[question].has_other:
            raise Refused(Refusal.STALE if view.response.step != data.s else Refusal.INVALID)
        await state.set_state(Answering.text)
        await state.set_data({"r": data.r, "q": question, "other": True})
        return None
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
        response_id = int(data["r"])  # the response expecting_text just checked
        if data.get("other"):
            if len(message.text) > MAX_OTHER_LENGTH:
                raise Refused(Refusal.TOO_LONG, {"length": len(message.text), "max": MAX_OTHER_LENGTH})
            if question.several:
                ticked = [value for value in view.response.draft if value != OTHER]  # a new "other" text replaces the old one
                if question.max_choices and len(ticked) + 1 > question.max_choices:
                    raise Refused(Refusal.TOO_MANY, {"max": question.max_choices})
                view = await domain.validate_draft(
                    session, resident, response_id, view.response.step, index, other_text=message.text
                )
            else:
                view = await domain.answer(
                    session, resident, response_id, view.response.step, index, OTHER, other_text=message.text
                )
        else:
            view = await domain.answer(session, resident, response_id, view.response.step, index, message.text)
    except Refused as error:
        if error.reason in (Refusal.TOO_LONG, Refusal.EMPTY, Refusal.TOO_MANY):
            await message.answer(refusal_text(error, settings))
            return
        await state.clear()
        await message.answer(typed_text_refusal(error, settings))
        return
    await message.answer(noted())
    await show(message, view, state, settings, edit=False)


@router.message(StateFilter(Answering.text), ~F.text)
async def on_not_text(message: Message) -> None:
    """A sticker, photo… where a typed answer is expected."""
    await message.answer(text_expected())
