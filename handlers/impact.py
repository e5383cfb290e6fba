"""/impact for residents, the satisfaction question and its answers, /stats for officials."""

from __future__ import annotations

import asyncio
import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import impact as say
from notices.dates import period_refusal
from notices.impact import CommentSkip, SatisfactionCallback, neighbourhood_names, render_impact
from notices.menu import MENU_IMPACT
from notices.stats_report import render_pdf, render_text
from participation import impact, satisfaction, stats
from participation.dates import DateRefused, parse_period, split_period
from storage.models import Resident
from storage.types import utcnow

router = Router(name=__name__)  # residents (needs consent)
officials_router = Router(name=__name__ + ".officials")

MAX_COMMENT = satisfaction.MAX_COMMENT


class SatisfactionFlow(StatesGroup):
    comment = State()


# --- My impact ----------------------------------------------------------------------------------


@router.message(Command("impact"))
@router.message(F.text == MENU_IMPACT)
async def cmd_impact(message: Message, session: AsyncSession, resident: Resident, settings: Settings, i18n: I18n) -> None:
    """/impact or its menu entry: what the resident's participation changed."""
    result = await impact.impact_of(session, resident, now=utcnow())
    await message.answer(render_impact(result, i18n.current_locale, settings.default_locale))


# --- Satisfaction -------------------------------------------------------------------------------


@router.callback_query(SatisfactionCallback.filter())
async def on_satisfaction(
    query: CallbackQuery,
    callback_data: SatisfactionCallback,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    settings: Settings,
) -> None:
    """A score tapped under the satisfaction question (the last tap of the period counts)."""
    outcome = await satisfaction.record_answer(
        session, resident, callback_data.period, callback_data.score, settings.satisfaction_interval_days
    )
    if outcome is not satisfaction.AnswerOutcome.RECORDED:
        await query.answer(say.satisfaction_closed(), show_alert=True)
        return
    await query.answer(say.satisfaction_thanks())
    await state.set_state(SatisfactionFlow.comment)
    await state.update_data(period=callback_data.period)
    if query.message is not None:
        text, keyboard = say.comment_prompt(callback_data.period)
        await query.message.answer(text, reply_markup=keyboard)


@router.message(StateFilter(SatisfactionFlow.comment), Command("skip", "cancel", "passer", "annuler"))
async def cmd_skip_comment(message: Message, state: FSMContext) -> None:
    """/skip: no comment with the satisfaction answer."""
    await state.clear()
    await message.answer(say.comment_skipped())


@router.callback_query(CommentSkip.filter(), StateFilter(SatisfactionFlow.comment))
async def on_skip_comment(query: CallbackQuery, state: FSMContext) -> None:
    """« Skip » under the invitation to comment."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(say.comment_skipped())


@router.message(StateFilter(SatisfactionFlow.comment))
async def on_satisfaction_comment(message: Message, state: FSMContext, session: AsyncSession, resident: Resident) -> None:
    """The optional comment that goes with the satisfaction answer."""
    if not message.text or not message.text.strip():
        await message.answer(say.comment_as_text_please())
        return
    if len(message.text) > MAX_COMMENT:
        await message.answer(say.comment_too_long(len(message.text), MAX_COMMENT))
        return
    period = int((await state.get_data()).get("period", -1))
    await satisfaction.record_comment(session, resident, period, message.text)
    await state.clear()
    await message.answer(say.comment_recorded())


# --- Figures for officials ----------------------------------------------------------------------


@officials_router.message(Command("stats"))
async def cmd_stats(message: Message, command: CommandObject, session: AsyncSession, settings: Settings, i18n: I18n) -> None:
    """/stats [FROM [TO]]: the council's figures as text and the one-page report as an image."""
    try:
        start, end = parse_period(*split_period(command.args or "", settings.tz), settings)
    except DateRefused as refused:
        await message.answer(period_refusal(refused))
        return
    figures = await stats.compute_stats(session, start, end, now=utcnow(), interval_days=settings.satisfaction_interval_days)
    locale = i18n.current_locale
    names = await neighbourhood_names(session, locale, settings.default_locale)
    text = render_text(figures, locale=locale, tz=settings.tz, hood_names=names)
    await message.answer(html.escape(text[:4000]))
    # Drawn in a thread (the Figure API holds no global state): the event loop keeps serving others.
    pdf = await asyncio.to_thread(
        render_pdf, figures, locale=locale, tz=settings.tz, hood_names=names, commune=settings.commune_name
    )
    await message.answer_document(BufferedInputFile(pdf, filename="palabre-stats.pdf"))
