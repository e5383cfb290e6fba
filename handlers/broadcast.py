"""Broadcasts by officials in the chat: message, audience, count, confirmation, delivery figures.

The screens are composed in notices/broadcasts.py, which also renders a broadcast for each recipient.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices import broadcasts as screens
from notices.broadcasts import AudienceCallback, BroadcastCallback, audience_keyboard
from participation import broadcasts, consultations
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind

router = Router(name=__name__)

KIND_CODES = {"a": AudienceKind.ALL, "t": AudienceKind.TOPIC, "n": AudienceKind.NEIGHBOURHOOD, "g": AudienceKind.AGE}


class BroadcastFlow(StatesGroup):
    message = State()
    audience = State()


async def consultation_audience(session: AsyncSession, code: str) -> Audience | None:
    """The participants of the consultation whose id the button carries (None when forged or gone)."""
    if not code.isdigit() or len(code) > 12:
        return None
    consultation = await consultations.get_consultation(session, int(code))
    return Audience(AudienceKind.CONSULTATION, consultation.slug) if consultation is not None else None


def audience_from(callback_data: AudienceCallback) -> Audience | None:
    kind = KIND_CODES.get(callback_data.kind)
    if kind is None or (kind == AudienceKind.ALL) != (callback_data.code == ""):
        return None
    return Audience(kind, callback_data.code or None)


@router.message(Command("broadcast"))
async def cmd_broadcast(message: Message, state: FSMContext) -> None:
    """/broadcast: start writing a message to residents."""
    await state.set_state(BroadcastFlow.message)
    await message.answer(screens.ask_message())


@router.message(StateFilter(BroadcastFlow), Command("cancel", "annuler"))
async def cmd_cancel_broadcast(message: Message, state: FSMContext) -> None:
    """/cancel while writing a broadcast: nothing is sent."""
    await state.clear()
    await message.answer(screens.cancelled())


@router.message(StateFilter(BroadcastFlow.message), F.photo)
async def on_broadcast_photo(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n) -> None:
    """A photo (with an optional caption) as the broadcast."""
    assert message.photo
    caption = message.caption or ""
    if len(caption) > broadcasts.MAX_CAPTION:
        await message.answer(screens.caption_too_long())
        return
    await state.update_data(text=caption, photo=message.photo[-1].file_id)
    await ask_audience(message, state, session, i18n.current_locale)


@router.message(StateFilter(BroadcastFlow.message), F.text)
async def on_broadcast_text(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n) -> None:
    """The text of the broadcast."""
    assert message.text is not None
    try:
        text = broadcasts.check_text(message.text, with_photo=False)
    except broadcasts.InvalidMessage:
        await message.answer(screens.text_too_long())
        return
    await state.update_data(text=text, photo=None)
    await ask_audience(message, state, session, i18n.current_locale)


@router.message(StateFilter(BroadcastFlow.message))
async def on_broadcast_other(message: Message) -> None:
    """A sticker, a voice note… where the message was expected."""
    await message.answer(screens.text_or_photo())


async def ask_audience(message: Message, state: FSMContext, session: AsyncSession, locale: str) -> None:
    await state.set_state(BroadcastFlow.audience)
    await message.answer(screens.ask_audience(), reply_markup=await audience_keyboard(session, "b", locale))


@router.callback_query(AudienceCallback.filter(F.flow == "b"))
async def on_broadcast_audience(
    query: CallbackQuery, callback_data: AudienceCallback, state: FSMContext, session: AsyncSession, i18n: I18n
) -> None:
    """The audience: create a draft and show how many will receive it."""
    data = await state.get_data()
    if callback_data.kind == "c" and callback_data.code == "" and await state.get_state() == BroadcastFlow.audience.state:
        await query.answer()
        keyboard = await screens.consultation_keyboard(session)
        if isinstance(query.message, Message):
            if keyboard is None:
                await query.message.answer(screens.no_participants())
            else:
                await query.message.answer(screens.which_participants(), reply_markup=keyboard)
        return
    if callback_data.kind == "u" and callback_data.code == "" and await state.get_state() == BroadcastFlow.audience.state:
        await query.answer()
        keyboard = await screens.open_consultation_keyboard(session)
        if isinstance(query.message, Message):
            if keyboard is None:
                await query.message.answer(screens.nothing_open())
            else:
                await query.message.answer(screens.which_open(), reply_markup=keyboard)
        return
    audience: Audience | None
    if callback_data.kind == "c":
        audience = await consultation_audience(session, callback_data.code)
    elif callback_data.kind == "u":
        found = await consultation_audience(session, callback_data.code)
        audience = None if found is None else Audience(AudienceKind.UNDERREPRESENTED, found.value)
    else:
        audience = audience_from(callback_data)
    if audience is None or await state.get_state() != BroadcastFlow.audience.state or "text" not in data:
        await query.answer(screens.stale_button())
        return
    try:
        if await broadcasts.count_audience(session, audience) == 0:
            # A broadcast to nobody is refused; the audience buttons stay for another choice.
            await query.answer(screens.nobody(), show_alert=True)
            return
        draft = await broadcasts.create_draft(
            session, audience=audience, text=data["text"], photo_file_id=data.get("photo"), created_by=query.from_user.id
        )
    except broadcasts.AudienceUnavailable as exc:
        await query.answer(
            screens.no_population() if exc.reason == "no_population" else screens.no_longer_open(), show_alert=True
        )
        return
    except (broadcasts.UnknownAudience, broadcasts.InvalidMessage):
        await query.answer(screens.stale_button())
        return
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    assert draft.id is not None
    if audience.kind == AudienceKind.UNDERREPRESENTED:
        assert audience.value is not None
        await query.message.answer(await screens.under_represented_text(session, audience.value, i18n.current_locale))
    screen = screens.confirm_screen(draft.recipient_count, draft.id)
    await query.message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(BroadcastCallback.filter(F.action == "ok"))
async def on_broadcast_confirm(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """Confirmation: the broadcast is queued (once, whatever the number of taps)."""
    confirmed = await broadcasts.confirm(session, callback_data.id, actor_telegram_id=query.from_user.id, source=Source.CHAT)
    if confirmed is None:
        await query.answer(screens.already_done())
        return
    assert confirmed.id is not None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            screens.on_its_way(confirmed.id, confirmed.recipient_count), reply_markup=screens.status_keyboard(callback_data.id)
        )


@router.callback_query(BroadcastCallback.filter(F.action == "no"))
async def on_broadcast_cancel(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """Cancel a draft before it is confirmed."""
    if not await broadcasts.cancel(session, callback_data.id, actor_telegram_id=query.from_user.id):
        await query.answer(screens.already_done())
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.cancelled())


async def _show_figures(session: AsyncSession, broadcast_id: int) -> str:
    figures = await broadcasts.figures(session, broadcast_id)
    return screens.no_broadcast(broadcast_id) if figures is None else screens.figures_text(broadcast_id, figures)


@router.message(Command("broadcast_status"))
async def cmd_broadcast_status(message: Message, command: CommandObject, session: AsyncSession) -> None:
    """/broadcast_status ID: delivery figures."""
    arg = (command.args or "").strip()
    if not arg.isdigit() or len(arg) > 12:
        await message.answer(screens.status_usage())
        return
    await message.answer(await _show_figures(session, int(arg)), reply_markup=screens.status_keyboard(int(arg)))


@router.callback_query(BroadcastCallback.filter(F.action == "st"))
async def on_broadcast_status(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """The "delivery figures" button."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            await _show_figures(session, callback_data.id), reply_markup=screens.status_keyboard(callback_data.id)
        )
