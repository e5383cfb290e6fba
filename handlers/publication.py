"""Results publication by officials: /publish (a consultation picked from buttons, or typed) → decision → preview → confirm.

What residents receive is composed in notices/publication.py and queued by bot/publishing.py.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.consultations_admin import picked, show_picker
from notices import publication as screens
from notices.consultations_admin import PickFor
from notices.publication import PublishCallback, compute, outcome_texts
from participation import publication as domain
from participation.audit import Source
from participation.publication import PublishRefusal, PublishRefused

router = Router(name=__name__)


class PublishFlow(StatesGroup):
    decision = State()


@router.message(Command("publish"))
async def cmd_publish(message: Message, command: CommandObject, session: AsyncSession, state: FSMContext) -> None:
    """/publish [SLUG]: publish the outcome of a closed consultation with the council's decision."""
    slug = (command.args or "").strip()
    if not slug:
        await show_picker(message, session, "p")
        return
    await ask_decision(message, slug[:60], session, state)


@router.callback_query(PickFor.filter(F.a == "p"))
async def on_pick_publish(query: CallbackQuery, callback_data: PickFor, session: AsyncSession, state: FSMContext) -> None:
    """A consultation picked for /publish."""
    consultation = await picked(query, callback_data, session)
    if consultation is not None and isinstance(query.message, Message):
        await ask_decision(query.message, consultation.slug, session, state)


async def ask_decision(message: Message, slug: str, session: AsyncSession, state: FSMContext) -> None:
    try:
        consultation = await domain.publishable(session, slug)
    except PublishRefused as refused:
        await message.answer(screens.refusal_text(refused.reason))
        return
    await state.set_state(PublishFlow.decision)
    await state.update_data(cid=consultation.id, slug=consultation.slug)
    await message.answer(screens.ask_decision(consultation))


@router.message(StateFilter(PublishFlow), Command("cancel", "annuler"))
async def cmd_cancel_publish(message: Message, state: FSMContext) -> None:
    """/cancel while writing the decision: nothing is published."""
    await state.clear()
    await message.answer(screens.cancelled())


@router.message(StateFilter(PublishFlow.decision), F.text)
async def on_decision(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The decision typed: show the message residents will receive, and how many."""
    data = await state.get_data()
    try:
        decision = domain.check_decision(message.text or "")
        consultation = await domain.publishable(session, data.get("slug", ""))
    except PublishRefused as refused:
        await message.answer(screens.refusal_text(refused.reason))
        if refused.reason not in (PublishRefusal.EMPTY, PublishRefusal.TOO_LONG):
            await state.clear()
        return
    assert consultation.id is not None
    await state.update_data(decision=decision)
    results = await compute(session, consultation, i18n.current_locale, settings.default_locale)
    for text in outcome_texts(results, decision, i18n.current_locale):
        await message.answer(text)
    screen = screens.confirm_screen(await domain.count_recipients(session, consultation), consultation.id)
    await message.answer(screen.text, reply_markup=screen.reply_markup)


@router.message(StateFilter(PublishFlow.decision))
async def on_decision_other(message: Message) -> None:
    """A sticker, a photo… where the decision was expected."""
    await message.answer(screens.decision_as_text())


@router.callback_query(PublishCallback.filter(F.action == "ok"))
async def on_publish_confirm(
    query: CallbackQuery, callback_data: PublishCallback, state: FSMContext, session: AsyncSession
) -> None:
    """Confirmation: the outcome goes out (once, whatever the number of taps)."""
    data = await state.get_data()
    if await state.get_state() != PublishFlow.decision.state or data.get("cid") != callback_data.cid or "decision" not in data:
        await query.answer(screens.stale_button())
        return
    try:
        published = await domain.publish(
            session, data["slug"], data["decision"], actor_telegram_id=query.from_user.id, source=Source.CHAT
        )
    except PublishRefused as refused:
        await state.clear()
        await query.answer(screens.refusal_text(refused.reason), show_alert=True)
        return
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.published(published.recipient_count))


@router.callback_query(PublishCallback.filter(F.action == "no"))
async def on_publish_cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel before confirming."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.cancelled())
