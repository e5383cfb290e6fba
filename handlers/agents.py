"""The agents' group: acknowledge or take a report, set its status with an optional note, mark duplicates.

Composed in handlers/__init__.py under a router filtered on AGENTS_CHAT_ID and guarded by
RequireRole(AGENT): anyone else in the group who taps a button gets a polite refusal. Each report
has one card (notices/reports.py) edited after every change; taps are answered with a toast, and
the status menu is one message, replying to the card, edited into the prompt then the outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import agents as texts
from notices.reports import AgentAction, ReportNotices, SavedReplyPick
from participation import reports
from participation.audit import Source
from participation.report_desk import assign, assigned_agent, saved_replies_for
from participation.reports import ReportError, Status
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


def _status(value: str) -> Status | None:
    return Status(value) if value in Status._value2member_map_ else None


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
    """Change the status and return the line the agent reads (or the refusal)."""
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
        return texts.refusal(error, report, status)  # nothing was changed
    return texts.status_set(report, status)


@router.callback_query(AgentAction.filter(F.action == "ack"))
async def on_acknowledge(
    query: CallbackQuery, callback_data: AgentAction, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Acknowledge in one tap; the card shows it."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None:
        await query.answer(texts.stale_button())
        return
    if report.status != Status.NEW:
        await query.answer(texts.cannot_follow(report, Status.ACKNOWLEDGED))
        return
    text = await apply_status(
        session, report, Status.ACKNOWLEDGED, agent_id=query.from_user.id, note=None, i18n=i18n, settings=settings
    )
    await query.answer(text)


@router.callback_query(AgentAction.filter(F.action == "take"))
async def on_take(
    query: CallbackQuery, callback_data: AgentAction, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """The agent who taps handles the report from now on; the card names them."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or report.status in reports.CLOSED_STATUSES:
        await query.answer(texts.stale_button())
        return
    if await assigned_agent(session, report) == query.from_user.id:
        await query.answer(texts.already_yours(report))
        return
    await assign(
        session,
        report,
        query.from_user.id,
        by=query.from_user.id,
        source=Source.CHAT,
        notifier=ReportNotices(i18n, settings),
        agent_name=query.from_user.full_name[:100],
    )
    await query.answer(texts.taken(report))


@router.callback_query(AgentAction.filter(F.action == "menu"))
async def on_status_menu(query: CallbackQuery, callback_data: AgentAction, session: AsyncSession) -> None:
    """The statuses that can follow the current one, in a reply to the card."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    await query.answer()
    screen = texts.status_menu(report)
    await query.message.reply(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(AgentAction.filter(F.action == "set"))
async def on_status_chosen(query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession) -> None:
    """A status was chosen: the menu becomes the prompt for an optional public note, typed as a reply."""
    report = await reports.report_by_id(session, callback_data.report_id)
    status = _status(callback_data.status)
    if report is None or status is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    if status not in reports.allowed_next(report.status):
        await query.answer(texts.cannot_follow(report, status), show_alert=True)
        return
    await query.answer()
    category = await reports.category_of(session, report)
    # Saved replies of the category and the chosen status (as in the web back office), one tap each.
    saved = (await saved_replies_for(session, category.code, status.value))[:MAX_SAVED_BUTTONS]
    screen = texts.note_prompt(report, status, saved)
    await state.set_state(AgentFlow.note)
    await state.set_data({"report_id": report.id, "status": status.value, "prompt_id": query.message.message_id})
    await query.message.edit_text(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(AgentAction.filter(F.action == "nonote"))
async def on_without_note(
    query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Apply the chosen status with no note; the prompt becomes the outcome."""
    report = await reports.report_by_id(session, callback_data.report_id)
    status = _status(callback_data.status)
    if report is None or status is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    data = await state.get_data()
    if data.get("report_id") == report.id:
        await state.clear()
    text = await apply_status(session, report, status, agent_id=query.from_user.id, note=None, i18n=i18n, settings=settings)
    await query.answer()
    await query.message.edit_text(text, reply_markup=None)


@router.callback_query(SavedReplyPick.filter())
async def on_saved_reply(
    query: CallbackQuery, callback_data: SavedReplyPick, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """Apply the chosen status with a saved reply as its public note."""
    report = await reports.report_by_id(session, callback_data.report_id)
    reply = await session.get(SavedReply, callback_data.reply_id)
    status = _status(callback_data.status)
    if report is None or reply is None or status is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    data = await state.get_data()
    if data.get("report_id") == report.id:
        await state.clear()
    text = await apply_status(session, report, status, agent_id=query.from_user.id, note=reply.text, i18n=i18n, settings=settings)
    await query.answer()
    await query.message.edit_text(text, reply_markup=None)


@router.message(AgentFlow.note, F.text, F.reply_to_message)
async def on_note(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The public note, typed as a reply to the prompt; the prompt becomes the outcome."""
    data = await state.get_data()
    prompt_id = data.get("prompt_id")
    if message.reply_to_message is None or message.reply_to_message.message_id != prompt_id:
        return
    report = await reports.report_by_id(session, int(data["report_id"]))
    await state.clear()
    status = _status(str(data.get("status")))
    if report is None or status is None or message.from_user is None or message.bot is None:
        return
    text = await apply_status(
        session, report, status, agent_id=message.from_user.id, note=message.text, i18n=i18n, settings=settings
    )
    await message.bot.edit_message_text(text=text, chat_id=message.chat.id, message_id=int(prompt_id or 0), reply_markup=None)


@router.callback_query(AgentAction.filter(F.action == "dup"))
async def on_duplicate(query: CallbackQuery, callback_data: AgentAction, state: FSMContext, session: AsyncSession) -> None:
    """Ask for the reference of the original report, in a reply to the card."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not isinstance(query.message, Message):
        await query.answer(texts.stale_button())
        return
    if Status.DUPLICATE not in reports.allowed_next(report.status):
        await query.answer(texts.cannot_follow(report, Status.DUPLICATE), show_alert=True)
        return
    await query.answer()
    prompt = await query.message.reply(texts.duplicate_prompt(report))
    await state.set_state(AgentFlow.duplicate_of)
    await state.set_data({"report_id": report.id, "prompt_id": prompt.message_id})


@router.message(AgentFlow.duplicate_of, F.text, F.reply_to_message)
async def on_duplicate_ref(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The reference of the original, typed as a reply."""
    data = await state.get_data()
    if message.reply_to_message is None or message.reply_to_message.message_id != data.get("prompt_id"):
        return
    report = await reports.report_by_id(session, int(data["report_id"]))
    typed = (message.text or "")[:40]
    original = await reports.report_by_ref(session, typed)
    if report is None or message.from_user is None:
        await state.clear()
        return
    if original is None:
        await message.reply(texts.unknown_reference(typed))
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
