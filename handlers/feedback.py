"""Feedback on the channel: /feedback for residents; /feedbacks and answers for officials."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import feedback as say
from notices.feedback import FeedbackCallback, FeedbackCancel, answer_and_queue, refusal_text, submit_and_tell
from participation import feedback
from participation.audit import Source
from storage.models import Feedback, Resident

router = Router(name=__name__)  # residents (needs consent)
officials_router = Router(name=__name__ + ".officials")


class FeedbackFlow(StatesGroup):
    writing = State()
    answering = State()


@router.message(Command("feedback"))
async def cmd_feedback(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/feedback [text]: an idea or a complaint about the service."""
    if command.args:
        await _save(message, command.args, state, session, resident, settings, i18n)
        return
    await ask_feedback(message, state)


async def ask_feedback(message: Message, state: FSMContext) -> None:
    """Wait for the resident's feedback, in one message (from /feedback or « Write to the town hall »)."""
    await state.set_state(FeedbackFlow.writing)
    text, keyboard = say.feedback_prompt()
    await message.answer(text, reply_markup=keyboard)


@router.message(StateFilter(FeedbackFlow.writing), Command("cancel", "annuler"))
async def cmd_cancel_feedback(message: Message, state: FSMContext) -> None:
    """/cancel while writing a feedback."""
    await state.clear()
    await message.answer(say.cancelled())


@router.callback_query(FeedbackCancel.filter(), StateFilter(FeedbackFlow.writing))
async def on_cancel_feedback(query: CallbackQuery, state: FSMContext) -> None:
    """« Cancel » under the prompt while writing a feedback."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(say.cancelled())


@router.message(StateFilter(FeedbackFlow.writing))
async def on_feedback_text(
    message: Message, state: FSMContext, session: AsyncSession, resident: Resident, settings: Settings, i18n: I18n
) -> None:
    """The resident's feedback, in one message."""
    await _save(message, message.text, state, session, resident, settings, i18n)


async def _save(
    message: Message,
    text: str | None,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    settings: Settings,
    i18n: I18n,
) -> None:
    try:
        await submit_and_tell(session, resident, text, settings, i18n)
    except feedback.FeedbackRefused as refused:
        await message.answer(refusal_text(refused.reason, len(text or "")))
        return
    await state.clear()
    await message.answer(say.feedback_passed_on())


@officials_router.message(Command("feedbacks"))
async def cmd_feedbacks(message: Message, session: AsyncSession, settings: Settings, i18n: I18n) -> None:
    """/feedbacks: the feedback waiting for an answer, each with an answer button."""
    rows = await feedback.list_feedback(session, unanswered_only=True, limit=10)
    if not rows:
        await message.answer(say.nothing_waiting())
        return
    for row in rows:
        text, keyboard = say.feedback_item(row, settings, i18n.current_locale)
        await message.answer(text, reply_markup=keyboard)


@officials_router.callback_query(FeedbackCallback.filter())
async def on_answer_button(
    query: CallbackQuery, callback_data: FeedbackCallback, state: FSMContext, session: AsyncSession
) -> None:
    """An official chose to answer a feedback: ask for the text."""
    row = await session.get(Feedback, callback_data.id)
    if row is None or row.answered_at is not None:
        reason = feedback.FeedbackRefusal.UNKNOWN if row is None else feedback.FeedbackRefusal.ALREADY_ANSWERED
        await query.answer(refusal_text(reason), show_alert=True)
        return
    await state.set_state(FeedbackFlow.answering)
    await state.update_data(feedback_id=row.id)
    await query.answer()
    if query.message is not None:
        await query.message.answer(say.answer_prompt(callback_data.id))


@officials_router.message(StateFilter(FeedbackFlow.answering), Command("cancel", "annuler"))
async def cmd_cancel_answer(message: Message, state: FSMContext) -> None:
    """/cancel while answering a feedback."""
    await state.clear()
    await message.answer(say.cancelled())


@officials_router.message(StateFilter(FeedbackFlow.answering))
async def on_answer_text(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n) -> None:
    """The official's answer: it goes to the resident who wrote the feedback."""
    feedback_id = (await state.get_data()).get("feedback_id")
    try:
        reached = await answer_and_queue(
            session,
            int(feedback_id or 0),
            message.text,
            actor_telegram_id=message.from_user.id if message.from_user else None,
            source=Source.CHAT,
            i18n=i18n,
        )
    except feedback.FeedbackRefused as refused:
        await message.answer(refusal_text(refused.reason, len(message.text or "")))
        if refused.reason is not feedback.FeedbackRefusal.EMPTY and refused.reason is not feedback.FeedbackRefusal.TOO_LONG:
            await state.clear()
        return
    await state.clear()
    await message.answer(say.answer_sent(reached))
