"""The agents' group: acknowledge a report, set its status with an optional note, mark duplicates.

Composed in handlers/__init__.py under a router filtered on AGENTS_CHAT_ID and guarded by
RequireRole(AGENT): anyone else in the group who taps a button gets a polite refusal.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.reports import AgentAction, ReportNotices, SavedReplyPick, status_label
from participation import reports
from participation.audit import Source
from participation.report_desk import saved_replies_for
from participation.reports import Problem, ReportError, Status
from storage.models import Report, SavedReply

router = Router(name=__name__)
MAX_SAVED_BUTTONS = 5


class GroupLocale(BaseMiddleware):
    """The agents' group speaks DEFAULT_LOCALE, whatever each agent's Telegram language."""

    async def __call__(
        self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], event: TelegramObject, data: dict[str, Any]
    ) -> Any:
        i18n: I18n = data["i18n"]
        with i18n.use_locale(data["settings"].default_locale):
            return await handler(event, data)


class AgentFlow(StatesGroup):
    note = State()
    duplicate_of = State()


def refusal_text(error: ReportError) -> str:
    if error.problem == Problem.TRANSITION_NOT_ALLOWED:
        return _("This status cannot be set from the current one.")
    if error.problem == Problem.NOTE_TOO_LONG:
        return _("This note is too long: at most {limit} characters.").format(limit=reports.MAX_NOTE)
    if error.problem == Problem.SAME_REPORT:
        return _("A report cannot be a duplicate of itself.")
    return _("Sorry, this could not be done.")


async def apply_status(
    session: AsyncSession,
    report: Report,
    status: Status,
    *,
    agent_id: int,
    note: str | None,
    i18n: I18n,
    settings: Settings,
    duplicate_of: Report | None = None,
) -> str:
    """Change the status and return the line the group reads (or the refusal)."""
    try:
        await reports.change_status(
            session,
            report,
            status,
            author_telegram_id=agent_id,
            note=note,
            source=Source.CHAT,
            notifier=ReportNotices(i18n, settings),
            duplicate_of=duplicate_of,
        )
    except ReportError as error:
        return refusal_text(error)
    return _("✅ {ref}: status set to {status}.").format(ref=report.ref, status=status_label(status))


@router.callback_query(AgentAction.filter(F.action == "ack"))
async def on_acknowledge(
    query: CallbackQuery, callback_data: AgentAction, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Acknowledge in one tap."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    if report.status != Status.NEW:
        await query.answer(_("{ref} is already {status}.").format(ref=report.ref, status=status_label(report.status)))
        return
    text = await apply_status(
        session, report, Status.ACKNOWLEDGED, agent_id=query.from_user.id, note=None, i18n=i18n, settings=settings
    )
    await query.answer()
    await query.message.answer(text)


@router.callback_query(AgentAction.filter(F.action == "menu"))
async def on_status_menu(query: CallbackQuery, callback_data: AgentAction, session: AsyncSession) -> None:
    """The statuses that can follow the current one."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    choices = [s for s in reports.allowed_next(report.status) if s != Status.DUPLICATE]
    rows = [
        [
            InlineKeyboardButton(
                text=status_label(s), callback_data=AgentAction(action="set", report_id=report.id, status=s.value).pack()
            )
        ]  # type: ignore[arg-type]
        for s in choices
    ]
    await query.message.answer(
        _("{ref} is {status}. New status:").format(ref=report.ref, status=status_label(report.status)),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


@router.callback_query(AgentAction.filter(F.action == "set"))
async def on_status_chosen(query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession) -> None:
    """A status was chosen: ask for an optional public note, typed as a reply."""
    report = await reports.report_by_id(session, callback_data.report_id)
    status = Status(callback_data.status) if callback_data.status in Status._value2member_map_ else None
    if report is None or status is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    if status not in reports.allowed_next(report.status):
        await query.answer(_("This status cannot be set from the current one."), show_alert=True)
        return
    await query.answer()
    category = await reports.category_of(session, report)
    # Saved replies of the category and the chosen status (as in the web back office), one tap each.
    saved = (await saved_replies_for(session, category.code, status.value))[:MAX_SAVED_BUTTONS]
    rows = [
        [
            InlineKeyboardButton(
                text=f"💬 {reply.title}",
                callback_data=SavedReplyPick(report_id=report.id, status=status.value, reply_id=reply.id).pack(),  # type: ignore[arg-type]
            )
        ]
        for reply in saved
    ]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Without note"),
                callback_data=AgentAction(action="nonote", report_id=report.id, status=status.value).pack(),  # type: ignore[arg-type]
            )
        ]
    )
    prompt = await query.message.answer(
        _("{ref} → {status}.\nReply to this message with a public note for the residents, or tap “Without note”.").format(
            ref=report.ref, status=status_label(status)
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )
    await state.set_state(AgentFlow.note)
    await state.set_data({"report_id": report.id, "status": status.value, "prompt_id": prompt.message_id})


@router.callback_query(AgentAction.filter(F.action == "nonote"))
async def on_without_note(
    query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Apply the chosen status with no note."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or callback_data.status not in Status._value2member_map_ or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    data = await state.get_data()
    if data.get("report_id") == report.id:
        await state.clear()
    text = await apply_status(
        session, report, Status(callback_data.status), agent_id=query.from_user.id, note=None, i18n=i18n, settings=settings
    )
    await query.message.answer(text)


@router.callback_query(SavedReplyPick.filter())
async def on_saved_reply(
    query: CallbackQuery, callback_data: SavedReplyPick, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Apply the chosen status with a saved reply as its public note."""
    report = await reports.report_by_id(session, callback_data.report_id)
    reply = await session.get(SavedReply, callback_data.reply_id)
    if (
        report is None
        or reply is None
        or callback_data.status not in Status._value2member_map_
        or not isinstance(query.message, Message)
    ):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    data = await state.get_data()
    if data.get("report_id") == report.id:
        await state.clear()
    text = await apply_status(
        session, report, Status(callback_data.status), agent_id=query.from_user.id, note=reply.text, i18n=i18n, settings=settings
    )
    await query.message.answer(text)


@router.message(AgentFlow.note, F.text, F.reply_to_message)
async def on_note(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The public note, typed as a reply to the prompt."""
    data = await state.get_data()
    if message.reply_to_message is None or message.reply_to_message.message_id != data.get("prompt_id"):
        return
    report = await reports.report_by_id(session, data["report_id"])
    await state.clear()
    if report is None or message.from_user is None:
        return
    text = await apply_status(
        session, report, Status(data["status"]), agent_id=message.from_user.id, note=message.text, i18n=i18n, settings=settings
    )
    await message.reply(text)


@router.callback_query(AgentAction.filter(F.action == "dup"))
async def on_duplicate(query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession) -> None:
    """Ask for the reference of the original report."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    if Status.DUPLICATE not in reports.allowed_next(report.status):
        await query.answer(_("This status cannot be set from the current one."), show_alert=True)
        return
    await query.answer()
    prompt = await query.message.answer(
        _("{ref} is a duplicate of which report? Reply to this message with its reference (like PAL-2026-000012).").format(
            ref=report.ref
        )
    )
    await state.set_state(AgentFlow.duplicate_of)
    await state.set_data({"report_id": report.id, "prompt_id": prompt.message_id})


@router.message(AgentFlow.duplicate_of, F.text, F.reply_to_message)
async def on_duplicate_ref(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The reference of the original, typed as a reply."""
    data = await state.get_data()
    if message.reply_to_message is None or message.reply_to_message.message_id != data.get("prompt_id"):
        return
    report = await reports.report_by_id(session, data["report_id"])
    original = await reports.report_by_ref(session, (message.text or "")[:40])
    if report is None or message.from_user is None:
        await state.clear()
        return
    if original is None:
        await message.reply(
            _("No report has the reference {ref}. Reply again with a valid reference.").format(
                ref=html.escape((message.text or "")[:40])
            )
        )
        return
    await state.clear()
    text = await apply_status(
        session,
        report,
        Status.DUPLICATE,
        agent_id=message.from_user.id,
        note=None,
        i18n=i18n,
        settings=settings,
        duplicate_of=original,
    )
    await message.reply(text)
