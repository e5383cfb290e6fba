"""Broadcasts as residents receive them, and the screens officials use to write, target and follow them."""

from __future__ import annotations

import html
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from notices.consultations import tr
from notices.labels import age_bracket_label, town_hall
from notices.numbers import format_percent
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation import broadcasts, consultations, population, subscriptions
from participation.broadcasts import BroadcastFigures
from participation.languages import in_language
from participation.residents import AgeBracket
from storage.models import Broadcast, Neighbourhood, Topic

TELEGRAM_CAPTION_LIMIT = 1024
TELEGRAM_TEXT_LIMIT = 4096


def render(broadcast: Broadcast, commune_name: str = "", reason: str | None = None) -> tuple[str, dict[str, Any]]:
    """The Bot API method and parameters of `broadcast`, in the current locale, signed by the commune,
    ending with why the resident receives it when that fits (Telegram's limits come first)."""
    header = _("📢 <b>Message from {town_hall}</b>").format(town_hall=town_hall(commune_name))
    body = header + ("\n\n" + html.escape(broadcast.text) if broadcast.text else "")
    with_photo = bool(broadcast.photo_file_id or broadcast.photo_path)
    limit = TELEGRAM_CAPTION_LIMIT if with_photo else TELEGRAM_TEXT_LIMIT
    closing = "\n\n<i>" + html.escape(reason) + "</i>" if reason else ""
    if len(body) + len(closing) <= limit:
        body += closing
    if with_photo:
        photo: Any = broadcast.photo_file_id or {"path": broadcast.photo_path}
        return "sendPhoto", {"photo": photo, "caption": body}
    return "sendMessage", {"text": body}


async def audience_reason(session: AsyncSession, broadcast: Broadcast, locale: str, default_locale: str) -> str:
    """Why a resident receives `broadcast`, in the current locale: trust, and a way to choose what arrives."""
    kind, value = broadcast.audience_kind, broadcast.audience_value or ""
    settings_hint = _("To choose what you receive: ⚙️ Settings.")
    if kind == broadcasts.AudienceKind.TOPIC:
        topic = await session.get(Topic, value)
        if topic is not None:
            name = in_language(topic.names, locale, default_locale)
            return _("You receive this message because you follow the topic “{name}”.").format(name=name) + " " + settings_hint
    elif kind == broadcasts.AudienceKind.NEIGHBOURHOOD:
        place = await session.get(Neighbourhood, value)
        if place is not None:
            name = in_language(place.names, locale, default_locale)
            return (
                _("You receive this message because you chose the neighbourhood {name}.").format(name=name) + " " + settings_hint
            )
    elif kind == broadcasts.AudienceKind.AGE and AgeBracket.known(value):
        return (
            _("You receive this message because it concerns your age bracket ({bracket}).").format(
                bracket=age_bracket_label(value)
            )
            + " "
            + settings_hint
        )
    elif kind in (broadcasts.AudienceKind.CONSULTATION, broadcasts.AudienceKind.UNDERREPRESENTED):
        consultation = await consultations.get_by_slug(session, value)
        if consultation is not None:
            title = in_language(consultation.title, locale, default_locale)
            if kind == broadcasts.AudienceKind.CONSULTATION:
                return _("You receive this message because you took part in the consultation “{title}”.").format(title=title)
            return _("You receive this message because your opinion on “{title}” is still missing.").format(title=title)
    return _("You receive this message because you receive the town hall's announcements.") + " " + settings_hint


class AudienceCallback(CallbackData, prefix="au"):
    """An official picks the audience of a broadcast or a meeting: kind a/t/n/g/c/u and a code."""

    flow: str  # "b" broadcast, "m" meeting
    kind: str
    code: str = ""


class BroadcastCallback(CallbackData, prefix="bc"):
    """Confirm (ok), cancel (no) or see the figures (st) of broadcast `id`."""

    action: str
    id: int


# --- What officials read while broadcasting -------------------------------------------------------


async def audience_keyboard(session: AsyncSession, flow: str, locale: str) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=_("👥 Everyone"), callback_data=AudienceCallback(flow=flow, kind="a").pack())]]
    for topic in await subscriptions.list_topics(session):
        label = _("🏷 Topic: {name}").format(name=in_language(topic.names, locale))
        rows.append(
            [InlineKeyboardButton(text=label, callback_data=AudienceCallback(flow=flow, kind="t", code=topic.code).pack())]
        )
    for item in await subscriptions.list_neighbourhoods(session):
        label = _("🏘 Neighbourhood: {name}").format(name=in_language(item.names, locale))
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
    names = {item.code: in_language(item.names, locale) for item in await subscriptions.list_neighbourhoods(session)}
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


def figures_text(broadcast_id: int, figures: BroadcastFigures) -> str:
    return _(
        "📊 <b>Broadcast #{id}</b>\nSent: {sent}\nPending: {pending}\nFailed: {failed}\nUnreachable (bot blocked): {unreachable}"
    ).format(id=broadcast_id, sent=figures.sent, pending=figures.pending, failed=figures.failed, unreachable=figures.unreachable)


def no_broadcast(broadcast_id: int) -> str:
    return _("There is no broadcast #{id}.").format(id=broadcast_id)


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


def ask_message() -> str:
    return _("📢 Write the message to send (text, or a photo with a caption). /cancel to stop.")


def cancelled() -> str:
    return _("Cancelled: nothing was sent.")


def caption_too_long() -> str:
    return _("A caption can be at most {limit} characters. Please shorten it.").format(limit=broadcasts.MAX_CAPTION)


def text_too_long() -> str:
    return _("A message can be at most {limit} characters. Please shorten it.").format(limit=broadcasts.MAX_TEXT)


def text_or_photo() -> str:
    return _("Please send a text, or a photo with a caption. /cancel to stop.")


def ask_audience() -> str:
    return _("👥 Who should receive it?")


def no_participants() -> str:
    return _("No consultation has participants yet. Choose another audience.")


def which_participants() -> str:
    return _("🗳 The participants of which consultation?")


def nothing_open() -> str:
    return _("No consultation is open. Choose another audience.")


def which_open() -> str:
    return _("🗳 Which open consultation?")


def nobody() -> str:
    return _("Nobody would receive this message: no resident of this audience accepts announcements. Choose another audience.")


def no_population() -> str:
    return _("The population figures are not known yet: they are imported with « palabre population import ».")


def no_longer_open() -> str:
    return _("This consultation is no longer open.")


def confirm_screen(count: int, broadcast_id: int) -> Screen:
    return Screen(
        ngettext(
            "This message will be sent to {count} resident. Send it?",
            "This message will be sent to {count} residents. Send it?",
            count,
        ).format(count=count),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text=_("✅ Send"), callback_data=BroadcastCallback(action="ok", id=broadcast_id).pack()),
                    InlineKeyboardButton(
                        text=_("✖️ Cancel"), callback_data=BroadcastCallback(action="no", id=broadcast_id).pack()
                    ),
                ]
            ]
        ),
    )


def already_done() -> str:
    return _("This broadcast was already sent or cancelled.")


def on_its_way(broadcast_id: int, count: int) -> str:
    return ngettext(
        "✅ Broadcast #{id} is on its way to {count} resident. See the figures with /broadcast_status {id}.",
        "✅ Broadcast #{id} is on its way to {count} residents. See the figures with /broadcast_status {id}.",
        count,
    ).format(id=broadcast_id, count=count)


def status_usage() -> str:
    return _("Usage: /broadcast_status ID (the number given when it was sent).")
