"""Feedback as people receive it: the officials' notice of a new message and the answer queued to its author."""

from __future__ import annotations

import html
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import spoken_date
from notices.locales import recipient_locale
from participation import feedback, outbox
from participation.audit import Source
from storage.models import Feedback, Resident


class FeedbackCallback(CallbackData, prefix="fba"):
    id: int


class FeedbackCancel(CallbackData, prefix="fbx"):
    """« Cancel » under the feedback prompt: nothing is sent."""

    action: str = "cancel"


def answer_keyboard(feedback_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("✍️ Answer"), callback_data=FeedbackCallback(id=feedback_id).pack())]]
    )


def render_new_feedback(row: Feedback) -> dict[str, Any]:
    """The notice officials get of a new feedback, in the current locale."""
    assert row.id is not None  # a stored feedback
    return {
        "text": _("💬 <b>New feedback #{id}</b>\n\n{text}").format(id=row.id, text=html.escape(row.text, quote=False)),
        "reply_markup": answer_keyboard(row.id).model_dump(exclude_none=True),
    }


def render_answer(row: Feedback) -> dict[str, Any]:
    """The official's answer as the resident receives it, in the current locale."""
    return {
        "text": _("💬 <b>The town hall answered your feedback</b>\n\n«\u202f{feedback}\u202f»\n\n{answer}").format(
            feedback=html.escape(row.text[:300], quote=False), answer=html.escape(row.answer or "", quote=False)
        )
    }


async def submit_and_tell(
    session: AsyncSession, resident: Resident, text: str | None, settings: Settings, i18n: I18n
) -> Feedback:
    """Record the feedback and queue a notice to every official, each in their language."""
    row = await feedback.submit(session, resident, text)
    for official in await feedback.officials_to_tell(session, settings.admin_ids):
        with i18n.use_locale(recipient_locale(official.locale, i18n)):
            payload = render_new_feedback(row)
        await outbox.enqueue(
            session,
            chat_id=official.telegram_id,
            method="sendMessage",
            payload=payload,
            kind="feedback",
            dedupe_key=f"fb:{row.id}:{official.telegram_id}",
        )
    return row


async def answer_and_queue(
    session: AsyncSession, feedback_id: int, text: str | None, *, actor_telegram_id: int | None, source: Source, i18n: I18n
) -> bool:
    """Answer a feedback and queue the answer to its author; False when they can no longer be reached."""
    delivery = await feedback.answer(session, feedback_id, text, actor_telegram_id=actor_telegram_id, source=source)
    if delivery.chat_id is None:
        return False
    with i18n.use_locale(recipient_locale(delivery.locale, i18n)):
        payload = render_answer(delivery.feedback)
    await outbox.enqueue(
        session,
        chat_id=delivery.chat_id,
        method="sendMessage",
        payload=payload,
        resident_id=delivery.resident_id,
        kind="feedback-answer",
        dedupe_key=f"fba:{feedback_id}",
    )
    return True


def refusal_text(reason: feedback.FeedbackRefusal, length: int = 0) -> str:
    """Why a feedback or an answer was refused; `length` is what was typed, for « too long »."""
    if reason is feedback.FeedbackRefusal.TOO_LONG:
        return _("Your message is too long ({length} characters out of {max} allowed). Shorten it, then send it again.").format(
            length=length, max=feedback.MAX_LENGTH
        )
    return {
        feedback.FeedbackRefusal.EMPTY: _("Please write your message as text."),
        feedback.FeedbackRefusal.UNKNOWN: _("This feedback no longer exists."),
        feedback.FeedbackRefusal.ALREADY_ANSWERED: _("This feedback has already been answered."),
    }[reason]


def feedback_prompt() -> tuple[str, InlineKeyboardMarkup]:
    """Ask for the feedback, with a button to give up (no command to remember)."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("❌ Cancel"), callback_data=FeedbackCancel().pack())]]
    )
    return _("💬 An idea, a remark about this service? Write it in one message."), keyboard


def cancelled() -> str:
    return _("Cancelled: nothing was sent.")


def feedback_passed_on() -> str:
    return _("Thank you! Your message was passed on to the town hall; you will be told here when they answer.")


def nothing_waiting() -> str:
    return _("No feedback is waiting for an answer.")


def feedback_item(row: feedback.FeedbackRow, settings: Settings, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """One feedback in an official's /feedbacks list, with its answer button (its day as a mairie writes it)."""
    day = spoken_date(row.created_at, settings.tz, locale, with_time=False)
    text = _("💬 <b>Feedback #{id}</b> ({date})\n\n{text}").format(id=row.id, date=day, text=html.escape(row.text, quote=False))
    return text, answer_keyboard(row.id)


def answer_prompt(feedback_id: int) -> str:
    return _("Write your answer to feedback #{id} in one message (or /cancel).").format(id=feedback_id)


def answer_sent(reached: bool) -> str:
    if reached:
        return _("Your answer is on its way to the resident.")
    return _("Your answer is saved, but its author erased their data and cannot receive it.")
