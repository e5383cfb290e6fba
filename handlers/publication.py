"""Results publication by officials (/publish SLUG → decision → preview → confirm), and its rendering.

Also renders, in the current locale, what residents receive: the outcome of a consultation and
the reminders before it closes (used by bot/publishing.py and scheduler/reminders.py).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.publication import (
    compute,
    outcome_texts,
)
from participation import publication as domain
from participation.audit import Source
from participation.publication import PublishRefusal, PublishRefused

router = Router(name=__name__)


class PublishFlow(StatesGroup):
    decision = State()


class PublishCallback(CallbackData, prefix="pb"):
    """Confirm (ok) or cancel (no) the publication of consultation `cid`."""

    action: str
    cid: int


# --- What residents receive ---------------------------------------------------------------------


# --- Officials ----------------------------------------------------------------------------------


def refusal_text(reason: PublishRefusal) -> str:
    return {
        PublishRefusal.UNKNOWN: _("No consultation has this slug (see /consultations_admin)."),
        PublishRefusal.NOT_CLOSED: _("This consultation is not closed yet: its outcome can be published once it closes."),
        PublishRefusal.ALREADY_PUBLISHED: _(
            "The outcome of this consultation was already published. To add something, send a broadcast to its participants (/broadcast)."
        ),
        PublishRefusal.EMPTY: _("Please type the council’s decision as text."),
        PublishRefusal.TOO_LONG: _("The decision can be at most {limit} characters. Please shorten it.").format(
            limit=domain.MAX_DECISION
        ),
    }[reason]


@router.message(Command("publish"))
async def cmd_publish(message: Message, command: CommandObject, session: AsyncSession, state: FSMContext) -> None:
    """/publish SLUG: publish the outcome of a closed consultation with the council's decision."""
    slug = (command.args or "").strip()
    if not slug or len(slug) > 60:
        await message.answer(_("Usage: /publish SLUG, for a closed consultation."))
        return
    try:
        consultation = await domain.publishable(session, slug)
    except PublishRefused as refused:
        await message.answer(refusal_text(refused.reason))
        return
    await state.set_state(PublishFlow.decision)
    await state.update_data(cid=consultation.id, slug=consultation.slug)
    await message.answer(
        _(
            "🏛 Type the council’s decision on this consultation, as residents will read it (at most {limit} characters). /cancel to stop."
        ).format(limit=domain.MAX_DECISION)
    )


@router.message(StateFilter(PublishFlow), Command("cancel", "annuler"))
async def cmd_cancel_publish(message: Message, state: FSMContext) -> None:
    """/cancel while writing the decision: nothing is published."""
    await state.clear()
    await message.answer(_("Cancelled: nothing was published."))


@router.message(StateFilter(PublishFlow.decision), F.text)
async def on_decision(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The decision typed: show the message residents will receive, and how many."""
    data = await state.get_data()
    try:
        decision = domain.check_decision(message.text or "")
        consultation = await domain.publishable(session, data.get("slug", ""))
    except PublishRefused as refused:
        await message.answer(refusal_text(refused.reason))
        if refused.reason not in (PublishRefusal.EMPTY, PublishRefusal.TOO_LONG):
            await state.clear()
        return
    await state.update_data(decision=decision)
    results = await compute(session, consultation, i18n.current_locale, settings.default_locale)
    for text in outcome_texts(results, decision, i18n.current_locale):
        await message.answer(text)
    count = await domain.count_recipients(session, consultation)
    await message.answer(
        ngettext(
            "Above is the message (with one chart per question). It will be sent to {count} resident, in their language. Publish it?",
            "Above is the message (with one chart per question). It will be sent to {count} residents, each in their language. Publish it?",
            count,
        ).format(count=count),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("✅ Publish"), callback_data=PublishCallback(action="ok", cid=consultation.id).pack()
                    ),  # type: ignore[arg-type]
                    InlineKeyboardButton(
                        text=_("✖️ Cancel"), callback_data=PublishCallback(action="no", cid=consultation.id).pack()
                    ),  # type: ignore[arg-type]
                ]
            ]
        ),
    )


@router.message(StateFilter(PublishFlow.decision))
async def on_decision_other(message: Message) -> None:
    """A sticker, a photo… where the decision was expected."""
    await message.answer(_("Please type the council’s decision as text. /cancel to stop."))


@router.callback_query(PublishCallback.filter(F.action == "ok"))
async def on_publish_confirm(
    query: CallbackQuery, callback_data: PublishCallback, state: FSMContext, session: AsyncSession
) -> None:
    """Confirmation: the outcome goes out (once, whatever the number of taps)."""
    data = await state.get_data()
    if await state.get_state() != PublishFlow.decision.state or data.get("cid") != callback_data.cid or "decision" not in data:
        await query.answer(_("This button is no longer valid."))
        return
    try:
        published = await domain.publish(
            session, data["slug"], data["decision"], actor_telegram_id=query.from_user.id, source=Source.CHAT
        )
    except PublishRefused as refused:
        await state.clear()
        await query.answer(refusal_text(refused.reason), show_alert=True)
        return
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            ngettext(
                "✅ Published: the outcome is on its way to {count} resident.",
                "✅ Published: the outcome is on its way to {count} residents.",
                published.recipient_count,
            ).format(count=published.recipient_count)
        )


@router.callback_query(PublishCallback.filter(F.action == "no"))
async def on_publish_cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel before confirming."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Cancelled: nothing was published."))
