"""Public meetings: officials announce them step by step; residents answer. Screens in notices/meetings.py."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.broadcast import audience_from
from notices import meetings as screens
from notices.broadcasts import AudienceCallback, audience_keyboard
from notices.dates import date_refusal
from notices.meetings import MeetingCallback, MeetingConfirmCallback
from participation import broadcasts, meetings
from participation.audit import Source
from participation.broadcasts import Audience
from participation.dates import DateRefused, parse_moment
from storage.models import Resident
from storage.types import utcnow

# Officials' side (guarded by RequireRole(OFFICIAL)) and residents' side (consent needed).
router = Router(name=__name__)
residents_router = Router(name=__name__ + ".residents")


class MeetingFlow(StatesGroup):
    title = State()
    when = State()
    place = State()
    audience = State()
    confirm = State()


# --- officials ---------------------------------------------------------------------------------


@router.message(Command("meeting"))
async def cmd_meeting(message: Message, state: FSMContext) -> None:
    """/meeting: announce a public meeting, step by step."""
    await state.set_state(MeetingFlow.title)
    await message.answer(screens.ask_title())


@router.message(StateFilter(MeetingFlow), Command("cancel", "annuler"))
async def cmd_cancel_meeting(message: Message, state: FSMContext) -> None:
    """/cancel during the announcement: nothing is created."""
    await state.clear()
    await message.answer(screens.cancelled())


@router.message(StateFilter(MeetingFlow.title), F.text)
async def on_meeting_title(message: Message, state: FSMContext) -> None:
    """The title."""
    title = (message.text or "").strip()
    if not title or len(title) > meetings.MAX_TITLE:
        await message.answer(screens.bad_title(meetings.MAX_TITLE))
        return
    await state.update_data(title=title)
    await state.set_state(MeetingFlow.when)
    await message.answer(screens.ask_when())


@router.message(StateFilter(MeetingFlow.when), F.text)
async def on_meeting_when(message: Message, state: FSMContext, settings: Settings) -> None:
    """The date and time, in the commune's time zone."""
    try:
        starts_at = parse_moment(message.text or "", settings.tz, time_needed=True)
    except DateRefused as refused:
        await message.answer(date_refusal(refused))
        return
    if starts_at <= utcnow():
        await message.answer(screens.past_date())
        return
    await state.update_data(starts_at=starts_at.isoformat())
    await state.set_state(MeetingFlow.place)
    await message.answer(screens.ask_place())


@router.message(StateFilter(MeetingFlow.place), F.text)
async def on_meeting_place(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n) -> None:
    """The place; then the audience."""
    place = (message.text or "").strip()
    if not place or len(place) > meetings.MAX_PLACE:
        await message.answer(screens.bad_place(meetings.MAX_PLACE))
        return
    await state.update_data(place=place)
    await state.set_state(MeetingFlow.audience)
    await message.answer(screens.ask_audience(), reply_markup=await audience_keyboard(session, "m", i18n.current_locale))


@router.message(StateFilter(MeetingFlow.title, MeetingFlow.when, MeetingFlow.place))
async def on_meeting_other(message: Message) -> None:
    """Anything but text during the announcement."""
    await message.answer(screens.text_please())


@router.callback_query(AudienceCallback.filter(F.flow == "m"))
async def on_meeting_audience(
    query: CallbackQuery,
    callback_data: AudienceCallback,
    state: FSMContext,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """The audience: show the summary and how many will be invited."""
    audience = audience_from(callback_data)
    if audience is None or await state.get_state() != MeetingFlow.audience.state:
        await query.answer(screens.stale_button())
        return
    try:
        count = await broadcasts.count_audience(session, audience)
    except broadcasts.UnknownAudience:
        await query.answer(screens.stale_button())
        return
    data = await state.update_data(audience=str(audience))
    await state.set_state(MeetingFlow.confirm)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    screen = screens.summary(
        data["title"], datetime.fromisoformat(data["starts_at"]), data["place"], count, settings.tz, i18n.current_locale
    )
    await query.message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(MeetingConfirmCallback.filter())
async def on_meeting_confirm(
    query: CallbackQuery, callback_data: MeetingConfirmCallback, state: FSMContext, session: AsyncSession
) -> None:
    """Confirmation: the meeting is created and the invitation queued, once."""
    data = await state.get_data()
    if await state.get_state() != MeetingFlow.confirm.state or "audience" not in data:
        await query.answer(screens.stale_button())
        return
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.ok:
        await query.message.answer(screens.cancelled())
        return
    starts_at = datetime.fromisoformat(data["starts_at"])
    if starts_at <= utcnow():
        await query.message.answer(screens.past_date())
        return
    try:
        _meeting, invitation = await meetings.announce(
            session,
            title=data["title"],
            starts_at=starts_at,
            place=data["place"],
            audience=Audience.parse(data["audience"]),
            created_by=query.from_user.id,
            source=Source.CHAT,
        )
    except broadcasts.UnknownAudience:
        await query.message.answer(screens.stale_button())
        return
    await query.message.answer(screens.announced(invitation.recipient_count))


@router.message(Command("meetings"))
async def cmd_meetings(message: Message, session: AsyncSession, settings: Settings, i18n: I18n) -> None:
    """/meetings: upcoming meetings and how many will come."""
    await message.answer(screens.upcoming_list(await meetings.upcoming(session), settings.tz, i18n.current_locale))


# --- residents -----------------------------------------------------------------------------------


@residents_router.callback_query(MeetingCallback.filter())
async def on_meeting_answer(
    query: CallbackQuery, callback_data: MeetingCallback, session: AsyncSession, resident: Resident
) -> None:
    """ "I'll come" / "I can't" under an invitation; the last tap counts."""
    outcome = await meetings.answer(session, callback_data.id, resident, callback_data.come)
    text, alert = screens.answer_toast(outcome, callback_data.come)
    await query.answer(text, show_alert=alert)
