"""The resident's reporting flow as they read it: each step's text and buttons, their reports and histories.

The agents' side (cards, status notices, the notifier) is notices/reports.py; the callback data
are shared with it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import town_hall
from notices.reports import ReportFollow, ReportShow, ReportStep, category_label, map_link, short_datetime, status_label
from participation import reports, subscriptions
from participation.languages import in_language
from participation.reports import MyReport, Nearby, Problem, ReportError
from storage.models import Report, ReportCategory, ReportStatusChange

SEND_LOCATION = __("📍 Send my location")
SKIP = __("⏭ Skip")
CANCEL = __("❌ Cancel")

Screen = tuple[str, InlineKeyboardMarkup]


def photo_needed_text(settings: Settings) -> str:
    """A required photo, with another way for someone who has none."""
    if settings.commune_phone:
        return _("📷 A photo is needed for this kind of problem. No photo? Call the town hall on {phone}.").format(
            phone=settings.commune_phone
        )
    return _("📷 A photo is needed for this kind of problem. No photo? Please contact {town_hall} directly.").format(
        town_hall=town_hall(settings.commune_name)
    )


def problem_text(error: ReportError, length: int = 0) -> str:
    """A refusal a resident understands, for each rule of participation.reports; `length` is what was typed."""
    texts = {
        Problem.UNKNOWN_CATEGORY: _("This category is no longer available. Please start again with /report."),
        Problem.DESCRIPTION_EMPTY: _("Please describe the problem in a few words."),
        Problem.DESCRIPTION_TOO_LONG: _(
            "Your description is too long ({length} characters out of {max} allowed). Shorten it, then send it again."
        ).format(length=length, max=reports.MAX_DESCRIPTION),
        Problem.PHOTO_REQUIRED: _("A photo is required for this kind of problem: please send one."),
        Problem.TOO_MANY_PHOTOS: _("That is enough photos: at most {limit}.").format(limit=reports.MAX_PHOTOS),
        Problem.LOCATION_REQUIRED: _("The place is required for this kind of problem: send your location or type the address."),
        Problem.BAD_COORDINATES: _("These coordinates are not valid. Please send your location again."),
        Problem.ADDRESS_TOO_LONG: _("This address is too long: at most {limit} characters, please.").format(
            limit=reports.MAX_ADDRESS
        ),
    }
    return texts.get(error.problem, _("Sorry, this could not be saved."))


def category_gone() -> str:
    return problem_text(ReportError(Problem.UNKNOWN_CATEGORY))


def step_button(text: str, action: str, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ReportStep(action=action, value=value).pack())


def cancel_row() -> list[InlineKeyboardButton]:
    return [step_button(str(CANCEL), "cancel")]


def cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[cancel_row()])


def groups_of(categories: Sequence[ReportCategory], locale: str, default: str) -> list[str]:
    """The category groups' names in `locale`, in the order of the categories."""
    groups: list[str] = []
    for category in categories:
        name = in_language(category.group_name, locale, default)
        if name not in groups:
            groups.append(name)
    return groups


def no_categories() -> str:
    return _("Reporting is not open yet: the town hall has not set up any category.")


def groups_screen(groups: list[str]) -> Screen:
    rows = [[step_button(name, "group", index)] for index, name in enumerate(groups)]
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])
    return _("📍 <b>Report a problem</b>\n\nWhat kind of problem is it?"), markup


def categories_screen(categories: Sequence[ReportCategory], group: int, locale: str, default: str) -> Screen:
    """The categories of group number `group`, with Back when there are other groups."""
    groups = groups_of(categories, locale, default)
    chosen = [c for c in categories if in_language(c.group_name, locale, default) == groups[group]]
    rows = []
    for category in chosen:
        assert category.id is not None  # active categories are stored
        rows.append([step_button(in_language(category.name, locale, default), "cat", category.id)])
    if len(groups) > 1:
        rows.append([step_button(_("⬅️ Back"), "groups")])
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])
    return _("📍 <b>{group}</b>\n\nWhich of these?").format(group=html.escape(groups[group])), markup


def choose_category_please() -> str:
    return _("Please choose the kind of problem with the buttons above, or type /cancel.")


def category_chosen(label: str) -> str:
    """The category, alone: the step is done (a photo sent first brought its description)."""
    return _("📍 <b>{category}</b>").format(category=html.escape(label))


def description_prompt(label: str, has_photo: bool) -> Screen:
    if has_photo:
        text = _("📍 <b>{category}</b>\n\nPhoto received 👍 Now describe the problem in a few words.")
    else:
        text = _("📍 <b>{category}</b>\n\nDescribe the problem in a few words. You can also start with a photo.")
    return text.format(category=html.escape(label)), cancel_keyboard()


def edit_description_prompt() -> Screen:
    return _("✏️ Type the new description."), cancel_keyboard()


def photo_received_describe() -> str:
    return _("Photo received 👍 Now describe the problem in a few words.")


def describe_please() -> str:
    return _("Please describe the problem in a few words, or send a photo.")


def photos_keyboard(category: ReportCategory, count: int) -> InlineKeyboardMarkup:
    row = []
    if count:
        row.append(step_button(_("✅ Done"), "photos_done"))
    elif not category.photo_required:
        row.append(step_button(str(SKIP), "photos_done"))
    return InlineKeyboardMarkup(inline_keyboard=[r for r in (row, cancel_row()) if r])


def photo_count(count: int) -> str:
    return _("📷 Photo {count} received. Another one? If not, tap “✅ Done”.").format(count=count)


def photos_prompt(category: ReportCategory, count: int, settings: Settings) -> Screen:
    """The photo step; photos sent earlier count."""
    if count:
        text = photo_count(count)
    elif category.photo_required:
        text = photo_needed_text(settings)
    else:
        text = _("📷 If you can, send a photo ({limit} at most). If not, tap “⏭ Skip”.").format(limit=reports.MAX_PHOTOS)
    return text, photos_keyboard(category, count)


def send_photo_please() -> str:
    return _("Please send a photo, or use the buttons below.")


def location_keyboard(category: ReportCategory) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=str(SEND_LOCATION), request_location=True)]]
    second = [KeyboardButton(text=str(CANCEL))]
    if not category.location_required:
        second.insert(0, KeyboardButton(text=str(SKIP)))
    rows.append(second)
    return ReplyKeyboardMarkup(
        keyboard=rows, resize_keyboard=True, one_time_keyboard=True, input_field_placeholder=_("Type the address")
    )


def location_prompt(category: ReportCategory) -> tuple[str, ReplyKeyboardMarkup]:
    text = _(
        "Where is it? On the spot: tap “📍 Send my location”. Elsewhere: type the address (e.g. 12 rue des Lilas) "
        "or choose the place on the map (📎 › Location)."
    )
    if not category.location_required:
        text += "\n" + _("(Optional for this kind of problem.)")
    return text, location_keyboard(category)


def send_location_please() -> str:
    return _("Please send your location with the button below, or type the address.")


def place_noted(has_place: bool) -> str:
    return _("📍 Place noted.") if has_place else _("Noted.")


def duplicates_screen(nearby: Sequence[Nearby], label: str) -> Screen:
    """The open reports nearby, each as category, place and status: never another resident's words."""
    lines = [_("🔎 Somebody may already have reported it. Is it one of these?"), ""]
    rows = []
    for found in nearby:
        assert found.report.id is not None  # found in the database
        lines.append(
            _("• <b>{ref}</b>: {category}, {distance} m away ({place}), {status}").format(
                ref=found.report.ref,
                category=html.escape(label),
                distance=round(found.distance_m),
                place=map_link(found.report),
                status=status_label(found.report.status),
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("👉 Yes, follow {ref}").format(ref=found.report.ref),
                    callback_data=ReportFollow(report_id=found.report.id).pack(),
                )
            ]
        )
    rows.append([step_button(_("No, it is a new problem"), "new")])
    rows.append(cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def place_of(session: AsyncSession, data: dict[str, Any], locale: str, default_locale: str) -> str:
    """Where the problem is, as a resident reads it: a street and a neighbourhood, never coordinates."""
    lat, lon, address = data.get("lat"), data.get("lon"), data.get("address")
    if lat is None or lon is None:
        return html.escape(address or "") or _("not given")
    parts = [html.escape(address) if address else _("the position you sent")]
    code = await reports.neighbourhood_at(session, lat, lon)
    names = {n.code: n.names for n in await subscriptions.list_neighbourhoods(session)} if code else {}
    if code is not None and code in names:
        parts.append(_("neighbourhood {name}").format(name=html.escape(in_language(names[code], locale, default_locale))))
    link = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=19/{lat:.6f}/{lon:.6f}"
    return _('{place} (<a href="{link}">see on the map</a>)').format(place=" — ".join(parts), link=html.escape(link))


def summary_screen(label: str, description: str, photos: int, place: str) -> Screen:
    """The report before it is sent, with Send, the two « Modifier » buttons and Cancel; `place` is HTML."""
    text = _(
        "Please check your report:\n\n<b>Category:</b> {category}\n<b>Description:</b> {description}\n"
        "<b>Photos:</b> {photos}\n<b>Place:</b> {place}"
    ).format(category=html.escape(label), description=html.escape(description), photos=photos, place=place)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [step_button(_("✅ Send"), "send")],
            [step_button(_("✏️ Change the description"), "edit_desc"), step_button(_("📍 Change the place"), "edit_place")],
            cancel_row(),
        ]
    )
    return text, markup


def use_buttons_please() -> str:
    return _("Please use the buttons above, or type /cancel.")


def report_cancelled() -> str:
    return _("Report cancelled: nothing was saved.")


def report_closed() -> str:
    return _("This report is already closed.")


def follow_outcome(own: bool, ref: str) -> str:
    if own:
        return _("This is your own report {ref}: we already tell you of every change.").format(ref=ref)
    return _("👍 Thank you! You now follow report {ref}: we will tell you of every change.").format(ref=ref)


def report_sent(ref: str) -> str:
    return _(
        "✅ Thank you! Your report has the number <b>{ref}</b>.\nWe will tell you of every step. Find it in “📋 My reports”."
    ).format(ref=ref)


def no_reports() -> str:
    return _("You have no report yet. Tap “📍 Report a problem” to make one.")


def my_reports_screen(items: Sequence[MyReport], locale: str, default_locale: str) -> Screen:
    """Own and followed reports with their status, and a history button for the first ten."""
    lines = [_("📋 <b>Your reports</b>"), ""]
    rows = []
    for item in items:
        assert item.report.id is not None  # listed from the database
        whose = _("yours") if item.mine else _("followed")
        lines.append(
            _("• <b>{ref}</b> — {category} — {status} ({whose})").format(
                ref=item.report.ref,
                category=html.escape(category_label(item.category, locale, default_locale)),
                status=status_label(item.report.status),
                whose=whose,
            )
        )
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("History of {ref}").format(ref=item.report.ref),
                    callback_data=ReportShow(report_id=item.report.id).pack(),
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows[:10])


def history_text(
    report: Report, category: ReportCategory, changes: Sequence[ReportStatusChange], locale: str, settings: Settings
) -> str:
    """One report's details and history, within Telegram's 4096 characters."""
    lines = [
        _("📍 <b>Report {ref}</b>\n<b>Category:</b> {category}\n<b>Status:</b> {status}").format(
            ref=report.ref,
            category=html.escape(category_label(category, locale, settings.default_locale)),
            status=status_label(report.status),
        ),
        "",
        html.escape(report.description[:1000]),
        "",
        _("<b>History</b>"),
    ]
    for change in changes:
        line = f"• {short_datetime(change.at, locale, settings)} — {status_label(change.to_status)}"
        if change.note:
            line += f"\n  💬 {html.escape(change.note)}"
        lines.append(line)
    return "\n".join(lines)[:4096]


def fixed_question_closed() -> str:
    return _("This question is no longer open.")


def thanks_for_confirming() -> str:
    return _("🙏 Thank you for confirming!")


def reopened_ask_why(ref: str) -> Screen:
    text = (
        _("Thank you for telling us. Report {ref} is reopened and the agents have been told.").format(ref=ref)
        + "\n\n"
        + _("What is still wrong? Write it in a message or send a photo: we will pass it on to the agents.")
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[step_button(str(SKIP), "why_skip")]])


def agents_have_it() -> str:
    return _("Thank you, the agents have it.")
