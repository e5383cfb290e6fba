"""Problem reports for residents: the reporting flow, duplicates nearby, "my reports", "is it fixed?"."""

from __future__ import annotations

import html
import logging
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.menu import MENU_MY_REPORTS, MENU_REPORT, main_menu
from notices.reports import (
    ReportFixed,
    ReportFollow,
    ReportNotices,
    ReportShow,
    ReportStep,
    category_label,
    map_link,
    short_datetime,
    status_label,
)
from participation import categories as cats
from participation import reports
from participation.audit import Source
from participation.geo import valid_coordinates
from participation.reports import OPEN_STATUSES, PhotoIn, Problem, ReportError
from storage.models import Report, ReportCategory, Resident

router = Router(name=__name__)
log = logging.getLogger("palabre.reports")

SEND_LOCATION = __("📍 Send my location")
SKIP = __("⏭ Skip")
CANCEL = __("❌ Cancel")


class ReportFlow(StatesGroup):
    category = State()
    description = State()
    photos = State()
    location = State()
    duplicates = State()
    confirm = State()


def problem_text(error: ReportError) -> str:
    """A refusal a resident understands, for each rule of participation.reports."""
    texts = {
        Problem.UNKNOWN_CATEGORY: _("This category is no longer available. Please start again with /report."),
        Problem.DESCRIPTION_EMPTY: _("Please describe the problem in a few words."),
        Problem.DESCRIPTION_TOO_LONG: _("This description is too long: at most {limit} characters, please.").format(
            limit=reports.MAX_DESCRIPTION
        ),
        Problem.PHOTO_REQUIRED: _("A photo is required for this kind of problem: please send one."),
        Problem.TOO_MANY_PHOTOS: _("That is enough photos: at most {limit}.").format(limit=reports.MAX_PHOTOS),
        Problem.LOCATION_REQUIRED: _("The place is required for this kind of problem: send your location or type the address."),
        Problem.BAD_COORDINATES: _("These coordinates are not valid. Please send your location again."),
        Problem.ADDRESS_TOO_LONG: _("This address is too long: at most {limit} characters, please.").format(
            limit=reports.MAX_ADDRESS
        ),
    }
    return texts.get(error.problem, _("Sorry, this could not be saved."))


def step_button(text: str, action: str, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ReportStep(action=action, value=value).pack())


def cancel_row() -> list[InlineKeyboardButton]:
    return [step_button(str(CANCEL), "cancel")]


def groups_of(categories: list[ReportCategory], locale: str, default: str) -> list[str]:
    groups: list[str] = []
    for category in categories:
        name = cats.localized(category.group_name, locale, default)
        if name not in groups:
            groups.append(name)
    return groups


async def show_groups(message: Message, session: AsyncSession, i18n: I18n, settings: Settings, edit: bool = False) -> bool:
    """The category groups as buttons (or the categories at once when there is one group)."""
    categories = await cats.active_categories(session)
    if not categories:
        await message.answer(_("Reporting is not open yet: the town hall has not set up any category."))
        return False
    groups = groups_of(categories, i18n.current_locale, settings.default_locale)
    if len(groups) == 1:
        await show_categories(message, categories, 0, i18n, settings, edit)
        return True
    rows = [[step_button(name, "group", index)] for index, name in enumerate(groups)]
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])
    text = _("📍 <b>Report a problem</b>\n\nWhat kind of problem is it?")
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)
    return True


async def show_categories(
    message: Message, categories: list[ReportCategory], group: int, i18n: I18n, settings: Settings, edit: bool
) -> None:
    locale, default = i18n.current_locale, settings.default_locale
    groups = groups_of(categories, locale, default)
    chosen = [c for c in categories if cats.localized(c.group_name, locale, default) == groups[group]]
    rows = [[step_button(cats.localized(c.name, locale, default), "cat", c.id)] for c in chosen]  # type: ignore[arg-type]
    if len(groups) > 1:
        rows.append([step_button(_("⬅️ Back"), "groups")])
    markup = InlineKeyboardMarkup(inline_keyboard=[*rows, cancel_row()])
    text = _("📍 <b>{group}</b>\n\nWhich of these?").format(group=html.escape(groups[group]))
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)


async def start_report(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Begin a new report (from /report, the menu or the `r` deep link)."""
    await state.clear()
    if await show_groups(message, session, i18n, settings):
        await state.set_state(ReportFlow.category)


async def current_category(session: AsyncSession, state: FSMContext) -> ReportCategory | None:
    category_id = (await state.get_data()).get("category_id")
    category = await session.get(ReportCategory, category_id) if category_id else None
    return category if category is not None and category.active else None


def photos_keyboard(category: ReportCategory, count: int) -> InlineKeyboardMarkup:
    row = []
    if count:
        row.append(step_button(_("✅ Done"), "photos_done"))
    elif not category.photo_required:
        row.append(step_button(str(SKIP), "photos_done"))
    return InlineKeyboardMarkup(inline_keyboard=[r for r in (row, cancel_row()) if r])


def location_keyboard(category: ReportCategory) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=str(SEND_LOCATION), request_location=True)]]
    second = [KeyboardButton(text=str(CANCEL))]
    if not category.location_required:
        second.insert(0, KeyboardButton(text=str(SKIP)))
    rows.append(second)
    return ReplyKeyboardMarkup(
        keyboard=rows, resize_keyboard=True, one_time_keyboard=True, input_field_placeholder=_("Type the address")
    )


async def ask_location(message: Message, state: FSMContext, category: ReportCategory) -> None:
    await state.set_state(ReportFlow.location)
    text = _("Where is it? Tap “📍 Send my location” below, or type the address.")
    if not category.location_required:
        text += "\n" + _("(Optional for this kind of problem.)")
    await message.answer(text, reply_markup=location_keyboard(category))


async def after_location(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Offer the open reports nearby, if any, else go to the summary."""
    data = await state.get_data()
    await message.answer(_("Thank you, noted."), reply_markup=main_menu())
    if data.get("lat") is not None:
        nearby = await reports.find_nearby(session, category_id=data["category_id"], lat=data["lat"], lon=data["lon"])
        if nearby:
            await state.update_data(nearby=[n.report.id for n in nearby])
            await state.set_state(ReportFlow.duplicates)
            lines = [_("🔎 Somebody may already have reported it. Is it one of these?"), ""]
            rows = []
            category = await reports.category_of(session, nearby[0].report)  # find_nearby keeps to one category
            label = html.escape(category_label(category, i18n.current_locale, settings.default_locale))
            for found in nearby:
                # Never another resident's words (description, typed address): category, place, status.
                lines.append(
                    _("• <b>{ref}</b>: {category}, {distance} m away ({place}), {status}").format(
                        ref=found.report.ref, category=label, distance=round(found.distance_m),
                        place=map_link(found.report), status=status_label(found.report.status),
                    )
                )
                rows.append([InlineKeyboardButton(
                    text=_("👉 Yes, follow {ref}").format(ref=found.report.ref),
                    callback_data=ReportFollow(report_id=found.report.id).pack(),  # type: ignore[arg-type]
                )])
            rows.append([step_button(_("No, it is a new problem"), "new")])
            rows.append(cancel_row())
            await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))
            return
    await show_summary(message, state, session, i18n, settings)


async def show_summary(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    data = await state.get_data()
    category = await current_category(session, state)
    if category is None:
        await state.clear()
        await message.answer(_("This category is no longer available. Please start again with /report."), reply_markup=main_menu())
        return
    if data.get("lat") is not None:
        place = f"{data['lat']:.5f}, {data['lon']:.5f}"
    else:
        place = html.escape(data.get("address") or "") or _("not given")
    await state.set_state(ReportFlow.confirm)
    await message.answer(
        _("Please check your report:\n\n<b>Category:</b> {category}\n<b>Description:</b> {description}\n"
          "<b>Photos:</b> {photos}\n<b>Place:</b> {place}").format(
            category=html.escape(category_label(category, i18n.current_locale, settings.default_locale)),
            description=html.escape(data.get("description", "")),
            photos=len(data.get("photos", [])),
            place=place,
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[step_button(_("✅ Send"), "send")], cancel_row()]),
    )


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Report cancelled: nothing was saved."), reply_markup=main_menu())


async def download_photos(bot: Bot, session: AsyncSession, report: Report, media_dir: Path) -> None:
    """Keep a copy of each photo in MEDIA_DIR/<ref>/; Telegram's file id stays usable if this fails."""
    for photo in await reports.photos_of(session, report):
        destination = media_dir / report.ref / f"{photo.position + 1}.jpg"
        try:
            destination.parent.mkdir(parents=True, exist_ok=True)
            await bot.download(photo.file_id, destination=destination)
        except Exception:
            log.warning("report %s: photo %s could not be downloaded", report.id, photo.position + 1, exc_info=True)
            continue
        await reports.set_photo_path(session, photo, str(destination))


# --- Entry points -----------------------------------------------------------------------------


@router.message(Command("report"))
@router.message(F.text == MENU_REPORT)
async def cmd_report(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/report or the menu entry: start a report."""
    await start_report(message, state, session, i18n, settings)


@router.message(Command("cancel"), StateFilter(ReportFlow))
@router.message(F.text == CANCEL, StateFilter(ReportFlow))
async def cmd_cancel(message: Message, state: FSMContext) -> None:
    """/cancel or the Cancel key during a report."""
    await cancel(message, state)


@router.callback_query(ReportStep.filter(F.action == "cancel"))
async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    """The Cancel button, at any step."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if await state.get_state() not in ReportFlow.__all_states_names__:
        await query.message.answer(_("This report is already closed."))
        return
    await cancel(query.message, state)


# --- Category --------------------------------------------------------------------------------


@router.callback_query(ReportStep.filter(F.action.in_({"group", "groups", "cat"})), StateFilter(ReportFlow.category))
async def on_category_step(
    query: CallbackQuery, callback_data: ReportStep, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """A group, Back, or a category."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    categories = await cats.active_categories(session)
    if callback_data.action == "groups":
        await show_groups(query.message, session, i18n, settings, edit=True)
        return
    if callback_data.action == "group":
        if not 0 <= callback_data.value < len(groups_of(categories, i18n.current_locale, settings.default_locale)):
            await query.message.answer(_("This button is no longer valid."))
            return
        await show_categories(query.message, categories, callback_data.value, i18n, settings, edit=True)
        return
    category = next((c for c in categories if c.id == callback_data.value), None)
    if category is None:
        await query.message.answer(_("This category is no longer available. Please start again with /report."))
        return
    await state.update_data(category_id=category.id, photos=[])
    await state.set_state(ReportFlow.description)
    await query.message.edit_text(
        _("📍 <b>{category}</b>\n\nDescribe the problem in a few words (at most {limit} characters).").format(
            category=html.escape(category_label(category, i18n.current_locale, settings.default_locale)),
            limit=reports.MAX_DESCRIPTION,
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[cancel_row()]),
    )


@router.message(StateFilter(ReportFlow.category))
async def on_text_during_category(message: Message) -> None:
    """Anything but a button while the category is asked."""
    await message.answer(_("Please choose the kind of problem with the buttons above, or type /cancel."))


# --- Description -----------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.description), F.text)
async def on_description(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The description, checked for length."""
    category = await current_category(session, state)
    if category is None:
        await state.clear()
        await message.answer(_("This category is no longer available. Please start again with /report."), reply_markup=main_menu())
        return
    try:
        description = reports.check_description(message.text or "")
    except ReportError as error:
        await message.answer(problem_text(error))
        return
    await state.update_data(description=description)
    await state.set_state(ReportFlow.photos)
    text = (
        _("📷 Now send a photo of the problem (required for this kind of problem). You can send up to {limit}.")
        if category.photo_required
        else _("📷 Now send a photo of the problem if you can (up to {limit}), or tap Skip.")
    )
    await message.answer(text.format(limit=reports.MAX_PHOTOS), reply_markup=photos_keyboard(category, 0))


@router.message(StateFilter(ReportFlow.description))
async def on_not_a_description(message: Message) -> None:
    """A sticker, photo… where the description was expected."""
    await message.answer(_("Please describe the problem in words first; you can add photos next."))


# --- Photos ----------------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.photos), F.photo)
async def on_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """One photo (Telegram sends several sizes: the largest is kept)."""
    category = await current_category(session, state)
    if category is None or not message.photo:
        await state.clear()
        await message.answer(_("This category is no longer available. Please start again with /report."), reply_markup=main_menu())
        return
    photos = list((await state.get_data()).get("photos", []))
    if len(photos) >= reports.MAX_PHOTOS:
        await message.answer(problem_text(ReportError(Problem.TOO_MANY_PHOTOS)), reply_markup=photos_keyboard(category, len(photos)))
        return
    largest = message.photo[-1]
    photos.append([largest.file_id, largest.file_unique_id])
    await state.update_data(photos=photos)
    await message.answer(
        _("📷 Photo {count} received. Send another one, or tap Done.").format(count=len(photos)),
        reply_markup=photos_keyboard(category, len(photos)),
    )


@router.callback_query(ReportStep.filter(F.action == "photos_done"), StateFilter(ReportFlow.photos))
async def on_photos_done(query: CallbackQuery, state: FSMContext, session: AsyncSession) -> None:
    """Done (or Skip) after the photos."""
    category = await current_category(session, state)
    if category is None or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    if category.photo_required and not (await state.get_data()).get("photos"):
        await query.answer(problem_text(ReportError(Problem.PHOTO_REQUIRED)), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await ask_location(query.message, state, category)


@router.message(StateFilter(ReportFlow.photos))
async def on_not_a_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Text, a sticker… where a photo was expected."""
    category = await current_category(session, state)
    count = len((await state.get_data()).get("photos", []))
    markup = photos_keyboard(category, count) if category else None
    await message.answer(_("Please send a photo, or use the buttons below."), reply_markup=markup)


# --- Location --------------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.location), F.location)
async def on_location(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Telegram's location (or a venue, which carries one)."""
    assert message.location is not None
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_coordinates(lat, lon):
        await message.answer(problem_text(ReportError(Problem.BAD_COORDINATES)))
        return
    await state.update_data(lat=lat, lon=lon, address=None)
    await after_location(message, state, session, i18n, settings)


@router.message(StateFilter(ReportFlow.location), F.text == SKIP)
async def on_skip_location(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Skip, for categories where the place is optional."""
    category = await current_category(session, state)
    if category is None:
        await cancel(message, state)
        return
    if category.location_required:
        await message.answer(problem_text(ReportError(Problem.LOCATION_REQUIRED)), reply_markup=location_keyboard(category))
        return
    await state.update_data(lat=None, lon=None, address=None)
    await after_location(message, state, session, i18n, settings)


@router.message(StateFilter(ReportFlow.location), F.text)
async def on_address(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """A typed address, kept as text."""
    try:
        address = reports.check_address(message.text or "")
    except ReportError as error:
        await message.answer(problem_text(error))
        return
    await state.update_data(lat=None, lon=None, address=address)
    await after_location(message, state, session, i18n, settings)


@router.message(StateFilter(ReportFlow.location))
async def on_not_a_location(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """A sticker, photo… where the place was expected."""
    category = await current_category(session, state)
    markup = location_keyboard(category) if category else None
    await message.answer(_("Please send your location with the button below, or type the address."), reply_markup=markup)


# --- Duplicates, confirmation ------------------------------------------------------------------


@router.callback_query(ReportFollow.filter(), StateFilter(ReportFlow.duplicates))
async def on_follow(query: CallbackQuery, callback_data: ReportFollow, state: FSMContext, session: AsyncSession, resident: Resident) -> None:
    """"Yes, it is this one": follow the existing report instead of filing a new one."""
    offered = (await state.get_data()).get("nearby", [])
    report = await reports.report_by_id(session, callback_data.report_id) if callback_data.report_id in offered else None
    if report is None or report.status not in OPEN_STATUSES or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    outcome = await reports.follow(session, report, resident)
    await state.clear()
    if outcome == reports.FollowOutcome.OWN:
        text = _("This is your own report {ref}: you are already told of every change.")
    else:
        text = _("👍 Thank you! You now follow report {ref}: you will be told of every change.")
    await query.message.answer(text.format(ref=report.ref), reply_markup=main_menu())


@router.callback_query(ReportStep.filter(F.action == "new"), StateFilter(ReportFlow.duplicates))
async def on_not_a_duplicate(query: CallbackQuery, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """"No, it is a new problem": on to the summary."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await show_summary(query.message, state, session, i18n, settings)


@router.callback_query(ReportStep.filter(F.action == "send"), StateFilter(ReportFlow.confirm))
async def on_send(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings, bot: Bot
) -> None:
    """Send: the report is stored, the agents are told, the resident gets the reference."""
    if not isinstance(query.message, Message):
        await query.answer()
        return
    data = await state.get_data()
    category = await current_category(session, state)
    try:
        if category is None:
            raise ReportError(Problem.UNKNOWN_CATEGORY)
        report = await reports.create_report(
            session,
            category=category,
            description=data.get("description", ""),
            photos=[PhotoIn(file_id, unique) for file_id, unique in data.get("photos", [])],
            lat=data.get("lat"),
            lon=data.get("lon"),
            address=data.get("address"),
            resident=resident,
            source=Source.CHAT,
            notifier=ReportNotices(i18n, settings),
        )
    except ReportError as error:
        await query.answer(problem_text(error), show_alert=True)
        return
    await query.answer()
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    await download_photos(bot, session, report, settings.media_dir)
    await query.message.answer(
        _("✅ Thank you! Your report is registered under the reference <b>{ref}</b>.\n"
          "You will be told of every step; see “📋 My reports” at any time.").format(ref=report.ref),
        reply_markup=main_menu(),
    )


@router.message(StateFilter(ReportFlow.duplicates, ReportFlow.confirm))
async def on_text_during_buttons(message: Message) -> None:
    """Anything typed while buttons are expected."""
    await message.answer(_("Please use the buttons above, or type /cancel."))


# --- My reports, "is it fixed?" ---------------------------------------------------------------


@router.message(Command("myreports"))
@router.message(F.text == MENU_MY_REPORTS)
async def cmd_my_reports(message: Message, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings) -> None:
    """/myreports or the menu entry: own and followed reports with their status."""
    mine = await reports.reports_of(session, resident)
    if not mine:
        await message.answer(_("You have no report yet. Tap “📍 Report a problem” to make one."))
        return
    lines = [_("📋 <b>Your reports</b>"), ""]
    rows = []
    for item in mine:
        whose = _("yours") if item.mine else _("followed")
        lines.append(
            _("• <b>{ref}</b> — {category} — {status} ({whose})").format(
                ref=item.report.ref,
                category=html.escape(category_label(item.category, i18n.current_locale, settings.default_locale)),
                status=status_label(item.report.status),
                whose=whose,
            )
        )
        rows.append([InlineKeyboardButton(text=_("History of {ref}").format(ref=item.report.ref),
                                          callback_data=ReportShow(report_id=item.report.id).pack())])  # type: ignore[arg-type]
    await message.answer("\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows[:10]))


@router.callback_query(ReportShow.filter())
async def on_show_history(
    query: CallbackQuery, callback_data: ReportShow, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings
) -> None:
    """One report's details and history (only for its reporter and followers)."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not await reports.is_related(session, report, resident) or not isinstance(query.message, Message):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    category = await reports.category_of(session, report)
    locale = i18n.current_locale
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
    for change in await reports.history_of(session, report):
        line = f"• {short_datetime(change.at, locale, settings)} — {status_label(change.to_status)}"
        if change.note:
            line += f"\n  💬 {html.escape(change.note)}"
        lines.append(line)
    await query.message.answer("\n".join(lines)[:4096])


@router.callback_query(ReportFixed.filter())
async def on_fixed_answer(
    query: CallbackQuery, callback_data: ReportFixed, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings
) -> None:
    """The reporter's "is it really fixed?" answer; "no" reopens the report."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None:
        await query.answer(_("This button is no longer valid."))
        return
    answer = await reports.answer_fixed_question(
        session, report, resident, callback_data.fixed, notifier=ReportNotices(i18n, settings)
    )
    if answer == reports.FixedAnswer.NOT_ASKED:
        await query.answer(_("This question is no longer open."))
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if answer == reports.FixedAnswer.THANKS:
        await query.message.answer(_("🙏 Thank you for confirming!"))
    else:
        await query.message.answer(
            _("Thank you for telling us. Report {ref} is reopened and the agents have been told.").format(ref=report.ref)
        )
