"""Public meetings: officials announce them step by step; residents answer; invitations and reminders."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.broadcast import audience_from, audience_keyboard
from handlers.callbacks import AudienceCallback, MeetingConfirmCallback
from notices.dates import date_refusal
from notices.meetings import MeetingCallback, format_when
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
    await message.answer(_("📅 New public meeting. What is its title? /cancel to stop."))


@router.message(StateFilter(MeetingFlow), Command("cancel", "annuler"))
async def cmd_cancel_meeting(message: Message, state: FSMContext) -> None:
    """/cancel during the announcement: nothing is created."""
    await state.clear()
    await message.answer(_("Cancelled: nothing was sent."))


@router.message(StateFilter(MeetingFlow.title), F.text)
async def on_meeting_title(message: Message, state: FSMContext) -> None:
    """The title."""
    title = (message.text or "").strip()
    if not title or len(title) > meetings.MAX_TITLE:
        await message.answer(_("A title of at most {limit} characters, please.").format(limit=meetings.MAX_TITLE))
        return
    await state.update_data(title=title)
    await state.set_state(MeetingFlow.when)
    await message.answer(_("🕒 When does it start? For example: 12/12/2026 18:30"))


@router.message(StateFilter(MeetingFlow.when), F.text)
async def on_meeting_when(message: Message, state: FSMContext, settings: Settings) -> None:
    """The date and time, in the commune's time zone."""
    try:
        starts_at = parse_moment(message.text or "", settings.tz, time_needed=True)
    except DateRefused as refused:
        await message.answer(date_refusal(refused))
        return
    if starts_at <= utcnow():
        await message.answer(_("This date has passed. Please give a date in the future."))
        return
    await state.update_data(starts_at=starts_at.isoformat())
    await state.set_state(MeetingFlow.place)
    await message.answer(_("📍 Where will it take place?"))


@router.message(StateFilter(MeetingFlow.place), F.text)
async def on_meeting_place(message: Message, state: FSMContext, session: AsyncSession, i18n: Any) -> None:
    """The place; then the audience."""
    place = (message.text or "").strip()
    if not place or len(place) > meetings.MAX_PLACE:
        await message.answer(_("A place of at most {limit} characters, please.").format(limit=meetings.MAX_PLACE))
        return
    await state.update_data(place=place)
    await state.set_state(MeetingFlow.audience)
    await message.answer(_("👥 Who should be invited?"), reply_markup=await audience_keyboard(session, "m", i18n.current_locale))


@router.message(StateFilter(MeetingFlow.title, MeetingFlow.when, MeetingFlow.place))
async def on_meeting_other(message: Message) -> None:
    """Anything but text during the announcement."""
    await message.answer(_("Please answer with a text. /cancel to stop."))


@router.callback_query(AudienceCallback.filter(F.flow == "m"))
async def on_meeting_audience(
    query: CallbackQuery, callback_data: AudienceCallback, state: FSMContext, session: AsyncSession, settings: Settings, i18n: Any
) -> None:
    """The audience: show the summary and how many will be invited."""
    audience = audience_from(callback_data)
    if audience is None or await state.get_state() != MeetingFlow.audience.state:
        await query.answer(_("This button is no longer valid."))
        return
    try:
        count = await broadcasts.count_audience(session, audience)
    except broadcasts.UnknownAudience:
        await query.answer(_("This button is no longer valid."))
        return
    data = await state.update_data(audience=str(audience))
    await state.set_state(MeetingFlow.confirm)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    summary = ngettext(
        "<b>{title}</b>\n🕒 {when}\n📍 {place}\n\nThe invitation will be sent to {count} resident. Announce it?",
        "<b>{title}</b>\n🕒 {when}\n📍 {place}\n\nThe invitation will be sent to {count} residents. Announce it?",
        count,
    ).format(
        title=html.escape(data["title"]),
        when=format_when(datetime.fromisoformat(data["starts_at"]), settings.tz, i18n.current_locale),
        place=html.escape(data["place"]),
        count=count,
    )
    await query.message.answer(
        summary,
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text=_("✅ Announce"), callback_data=MeetingConfirmCallback(ok=True).pack()),
                    InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=MeetingConfirmCallback(ok=False).pack()),
                ]
            ]
        ),
    )


@router.callback_query(MeetingConfirmCallback.filter())
async def on_meeting_confirm(
    query: CallbackQuery, callback_data: MeetingConfirmCallback, state: FSMContext, session: AsyncSession
) -> None:
    """Confirmation: the meeting is created and the invitation queued, once."""
    data = await state.get_data()
    if await state.get_state() != MeetingFlow.confirm.state or "audience" not in data:
        await query.answer(_("This button is no longer valid."))
        return
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.ok:
        await query.message.answer(_("Cancelled: nothing was sent."))
        return
    starts_at = datetime.fromisoformat(data["starts_at"])
    if starts_at <= utcnow():
        await query.message.answer(_("This date has passed. Please give a date in the future."))
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
        await query.message.answer(_("This button is no longer valid."))
        return
    await query.message.answer(
        ngettext(
            "✅ Meeting announced: the invitation is on its way to {count} resident. See the answers with /meetings.",
            "✅ Meeting announced: the invitation is on its way to {count} residents. See the answers with /meetings.",
            invitation.recipient_count,
        ).format(count=invitation.recipient_count)
    )


@router.message(Command("meetings"))
async def cmd_meetings(message: Message, session: AsyncSession, settings: Settings, i18n: Any) -> None:
    """/meetings: upcoming meetings and how many will come."""
    upcoming = await meetings.upcoming(session)
    if not upcoming:
        await message.answer(_("No public meeting is planned."))
        return
    lines = [_("📅 <b>Upcoming public meetings</b>")]
    for item in upcoming:
        lines.append(
            _("• <b>{title}</b>, {when}: {coming} will come, {not_coming} cannot.").format(
                title=html.escape(item.meeting.title),
                when=format_when(item.meeting.starts_at, settings.tz, i18n.current_locale),
                coming=item.coming,
                not_coming=item.not_coming,
            )
        )
    await message.answer("\n".join(lines))


# --- residents -----------------------------------------------------------------------------------


@residents_router.callback_query(MeetingCallback.filter())
async def on_meeting_answer(
    query: CallbackQuery, callback_data: MeetingCallback, session: AsyncSession, resident: Resident
) -> None:
    """ "I'll come" / "I can't" under an invitation; the last tap counts."""
    outcome = await meetings.answer(session, callback_data.id, resident, callback_data.come)
    if outcome == meetings.AnswerOutcome.UNKNOWN:
        await query.answer(_("This button is no longer valid."))
    elif outcome == meetings.AnswerOutcome.PAST:
        await query.answer(_("This meeting has already taken place."))
    elif callback_data.come:
        await query.answer(_("✅ Noted: see you there! You will get a reminder the day before."), show_alert=True)
    else:
        await query.answer(_("Noted. Thank you for letting us know."), show_alert=True)
