"""Broadcasts by officials in the chat: message, audience, count, confirmation, delivery figures.

Also renders a broadcast for one recipient, in their language (used when it is queued).
"""

from __future__ import annotations

import html
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import AudienceCallback, BroadcastCallback
from notices.consultations import tr
from notices.labels import age_bracket_label
from notices.numbers import format_percent
from participation import broadcasts, consultations, population, subscriptions
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind, BroadcastFigures
from participation.residents import AgeBracket

router = Router(name=__name__)

KIND_CODES = {"a": AudienceKind.ALL, "t": AudienceKind.TOPIC, "n": AudienceKind.NEIGHBOURHOOD, "g": AudienceKind.AGE}


class BroadcastFlow(StatesGroup):
    message = State()
    audience = State()


async def audience_keyboard(session: AsyncSession, flow: str, locale: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=_("👥 Everyone"), callback_data=AudienceCallback(flow=flow, kind="a").pack())]]
    for topic in await subscriptions.list_topics(session):
        label = _("🏷 Topic: {name}").format(name=subscriptions.localized(topic.names, locale))
        rows.append(
            [InlineKeyboardButton(text=label, callback_data=AudienceCallback(flow=flow, kind="t", code=topic.code).pack())]
        )
    for item in await subscriptions.list_neighbourhoods(session):
        label = _("🏘 Neighbourhood: {name}").format(name=subscriptions.localized(item.names, locale))
        rows.append(
            [InlineKeyboardButton(text=label, callback_data=AudienceCallback(flow=flow, kind="n", code=item.code).pack())]
        )
    for bracket in AgeBracket:
        label = _("🎂 Age: {bracket}").format(bracket=age_bracket_label(bracket))
        rows.append(
            [InlineKeyboardButton(text=label, callback_data=AudienceCallback(flow=flow, kind="g", code=bracket.value).pack())]
        )
    if flow == "b":
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("🗳 Participants of a consultation"), callback_data=AudienceCallback(flow=flow, kind="c").pack()
                )
            ]
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("📉 Under-represented groups of an open consultation"),
                    callback_data=AudienceCallback(flow=flow, kind="u").pack(),
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def open_consultation_keyboard(session: AsyncSession) -> InlineKeyboardMarkup | None:
    """The open consultations, to remind the under-represented groups that have not answered."""
    rows = [
        [
            InlineKeyboardButton(
                text=_("🗳 {title}").format(title=tr(row.consultation.title)),
                callback_data=AudienceCallback(flow="b", kind="u", code=str(row.consultation.id)).pack(),
            )
        ]
        for row in await consultations.list_consultations(session)
        if row.status == consultations.Status.OPEN
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def under_represented_text(session: AsyncSession, slug: str, locale: str) -> str:
    """Which groups are under-represented, in plain words, before the official confirms."""
    consultation = await consultations.get_by_slug(session, slug)
    groups = await population.under_represented(session, consultation) if consultation is not None else None
    if not groups:
        return _("No group is under-represented among the participants at the moment.")
    names = {item.code: subscriptions.localized(item.names, locale) for item in await subscriptions.list_neighbourhoods(session)}
    lines = [_("📉 Under-represented among the participants:")]
    for group in groups:
        label = names.get(group.code, group.code) if group.dimension == "neighbourhood" else age_bracket_label(group.code)
        lines.append(
            ngettext(
                "• {group}: {count} participant ({share} of participants, {population} of the population)",
                "• {group}: {count} participants ({share} of participants, {population} of the population)",
                group.participants,
            ).format(
                group=html.escape(label),
                count=group.participants,
                share=format_percent(group.participant_share, locale),
                population=format_percent(group.population_share, locale),
            )
        )
    return "\n".join(lines)


async def consultation_keyboard(session: AsyncSession) -> InlineKeyboardMarkup | None:
    """The consultations residents took part in, to pick as an audience (by id: slugs may be long)."""
    rows = [
        [
            InlineKeyboardButton(
                text=ngettext("🗳 {title} ({count} participant)", "🗳 {title} ({count} participants)", row.submitted).format(
                    title=tr(row.consultation.title), count=row.submitted
                ),
                callback_data=AudienceCallback(flow="b", kind="c", code=str(row.consultation.id)).pack(),
            )
        ]
        for row in await consultations.list_consultations(session)
        if row.submitted and row.consultation.status != consultations.Status.DRAFT
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


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


def figures_text(broadcast_id: int, figures: BroadcastFigures) -> str:
    return _(
        "📊 <b>Broadcast #{id}</b>\nSent: {sent}\nPending: {pending}\nFailed: {failed}\nUnreachable (bot blocked): {unreachable}"
    ).format(id=broadcast_id, sent=figures.sent, pending=figures.pending, failed=figures.failed, unreachable=figures.unreachable)


def status_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("📊 Delivery figures"), callback_data=BroadcastCallback(action="st", id=broadcast_id).pack()
                )
            ]
        ]
    )


@router.message(Command("broadcast"))
async def cmd_broadcast(message: Message, state: FSMContext) -> None:
    """/broadcast: start writing a message to residents."""
    await state.set_state(BroadcastFlow.message)
    await message.answer(_("📢 Write the message to send (text, or a photo with a caption). /cancel to stop."))


@router.message(StateFilter(BroadcastFlow), Command("cancel", "annuler"))
async def cmd_cancel_broadcast(message: Message, state: FSMContext) -> None:
    """/cancel while writing a broadcast: nothing is sent."""
    await state.clear()
    await message.answer(_("Cancelled: nothing was sent."))


@router.message(StateFilter(BroadcastFlow.message), F.photo)
async def on_broadcast_photo(message: Message, state: FSMContext, session: AsyncSession, i18n: Any) -> None:
    """A photo (with an optional caption) as the broadcast."""
    assert message.photo
    caption = message.caption or ""
    if len(caption) > broadcasts.MAX_CAPTION:
        await message.answer(
            _("A caption can be at most {limit} characters. Please shorten it.").format(limit=broadcasts.MAX_CAPTION)
        )
        return
    await state.update_data(text=caption, photo=message.photo[-1].file_id)
    await ask_audience(message, state, session, i18n.current_locale)


@router.message(StateFilter(BroadcastFlow.message), F.text)
async def on_broadcast_text(message: Message, state: FSMContext, session: AsyncSession, i18n: Any) -> None:
    """The text of the broadcast."""
    assert message.text is not None
    try:
        text = broadcasts.check_text(message.text, with_photo=False)
    except broadcasts.InvalidMessage:
        await message.answer(
            _("A message can be at most {limit} characters. Please shorten it.").format(limit=broadcasts.MAX_TEXT)
        )
        return
    await state.update_data(text=text, photo=None)
    await ask_audience(message, state, session, i18n.current_locale)


@router.message(StateFilter(BroadcastFlow.message))
async def on_broadcast_other(message: Message) -> None:
    """A sticker, a voice note… where the message was expected."""
    await message.answer(_("Please send a text, or a photo with a caption. /cancel to stop."))


async def ask_audience(message: Message, state: FSMContext, session: AsyncSession, locale: str) -> None:
    await state.set_state(BroadcastFlow.audience)
    await message.answer(_("👥 Who should receive it?"), reply_markup=await audience_keyboard(session, "b", locale))


@router.callback_query(AudienceCallback.filter(F.flow == "b"))
async def on_broadcast_audience(
    query: CallbackQuery, callback_data: AudienceCallback, state: FSMContext, session: AsyncSession, i18n: Any
) -> None:
    """The audience: create a draft and show how many will receive it."""
    data = await state.get_data()
    if callback_data.kind == "c" and callback_data.code == "" and await state.get_state() == BroadcastFlow.audience.state:
        await query.answer()
        keyboard = await consultation_keyboard(session)
        if isinstance(query.message, Message):
            if keyboard is None:
                await query.message.answer(_("No consultation has participants yet. Choose another audience."))
            else:
                await query.message.answer(_("🗳 The participants of which consultation?"), reply_markup=keyboard)
        return
    if callback_data.kind == "u" and callback_data.code == "" and await state.get_state() == BroadcastFlow.audience.state:
        await query.answer()
        keyboard = await open_consultation_keyboard(session)
        if isinstance(query.message, Message):
            if keyboard is None:
                await query.message.answer(_("No consultation is open. Choose another audience."))
            else:
                await query.message.answer(_("🗳 Which open consultation?"), reply_markup=keyboard)
        return
    if callback_data.kind == "c":
        audience = await consultation_audience(session, callback_data.code)
    elif callback_data.kind == "u":
        found = await consultation_audience(session, callback_data.code)
        audience = None if found is None else Audience(AudienceKind.UNDERREPRESENTED, found.value)
    else:
        audience = audience_from(callback_data)
    if audience is None or await state.get_state() != BroadcastFlow.audience.state or "text" not in data:
        await query.answer(_("This button is no longer valid."))
        return
    try:
        if await broadcasts.count_audience(session, audience) == 0:
            # A broadcast to nobody is refused; the audience buttons stay for another choice.
            await query.answer(
                _(
                    "Nobody would receive this message: no resident of this audience accepts announcements. Choose another audience."
                ),
                show_alert=True,
            )
            return
        draft = await broadcasts.create_draft(
            session, audience=audience, text=data["text"], photo_file_id=data.get("photo"), created_by=query.from_user.id
        )
    except broadcasts.AudienceUnavailable as exc:
        if exc.reason == "no_population":
            await query.answer(
                _("The population figures are not known yet: they are imported with « palabre population import »."),
                show_alert=True,
            )
        else:
            await query.answer(_("This consultation is no longer open."), show_alert=True)
        return
    except (broadcasts.UnknownAudience, broadcasts.InvalidMessage):
        await query.answer(_("This button is no longer valid."))
        return
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    assert draft.id is not None
    if audience.kind == AudienceKind.UNDERREPRESENTED:
        assert audience.value is not None
        await query.message.answer(await under_represented_text(session, audience.value, i18n.current_locale))
    await query.message.answer(
        ngettext(
            "This message will be sent to {count} resident. Send it?",
            "This message will be sent to {count} residents. Send it?",
            draft.recipient_count,
        ).format(count=draft.recipient_count),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text=_("✅ Send"), callback_data=BroadcastCallback(action="ok", id=draft.id).pack()),
                    InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=BroadcastCallback(action="no", id=draft.id).pack()),
                ]
            ]
        ),
    )


@router.callback_query(BroadcastCallback.filter(F.action == "ok"))
async def on_broadcast_confirm(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """Confirmation: the broadcast is queued (once, whatever the number of taps)."""
    confirmed = await broadcasts.confirm(session, callback_data.id, actor_telegram_id=query.from_user.id, source=Source.CHAT)
    if confirmed is None:
        await query.answer(_("This broadcast was already sent or cancelled."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            ngettext(
                "✅ Broadcast #{id} is on its way to {count} resident. See the figures with /broadcast_status {id}.",
                "✅ Broadcast #{id} is on its way to {count} residents. See the figures with /broadcast_status {id}.",
                confirmed.recipient_count,
            ).format(id=confirmed.id, count=confirmed.recipient_count),
            reply_markup=status_keyboard(callback_data.id),
        )


@router.callback_query(BroadcastCallback.filter(F.action == "no"))
async def on_broadcast_cancel(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """Cancel a draft before it is confirmed."""
    if not await broadcasts.cancel(session, callback_data.id, actor_telegram_id=query.from_user.id):
        await query.answer(_("This broadcast was already sent or cancelled."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Cancelled: nothing was sent."))


async def _show_figures(session: AsyncSession, broadcast_id: int) -> str:
    figures = await broadcasts.figures(session, broadcast_id)
    if figures is None:
        return _("There is no broadcast #{id}.").format(id=broadcast_id)
    return figures_text(broadcast_id, figures)


@router.message(Command("broadcast_status"))
async def cmd_broadcast_status(message: Message, command: CommandObject, session: AsyncSession) -> None:
    """/broadcast_status ID: delivery figures."""
    arg = (command.args or "").strip()
    if not arg.isdigit() or len(arg) > 12:
        await message.answer(_("Usage: /broadcast_status ID (the number given when it was sent)."))
        return
    await message.answer(await _show_figures(session, int(arg)), reply_markup=status_keyboard(int(arg)))


@router.callback_query(BroadcastCallback.filter(F.action == "st"))
async def on_broadcast_status(query: CallbackQuery, callback_data: BroadcastCallback, session: AsyncSession) -> None:
    """The "delivery figures" button."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(await _show_figures(session, callback_data.id), reply_markup=status_keyboard(callback_data.id))
