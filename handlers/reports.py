"""Problem reports for residents: the reporting flow, duplicates nearby, "my reports", "is it fixed?"."""

from __future__ import annotations

import logging
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import reporting as say
from notices.menu import MENU_MY_REPORTS, MENU_REPORT, main_menu, stale_button
from notices.reporting import CANCEL, SKIP, groups_of, location_keyboard, photo_needed_text, photos_keyboard, problem_text
from notices.reports import ReportFixed, ReportFollow, ReportNotices, ReportShow, ReportStep, category_label
from participation import categories as cats
from participation import geocoding, reports
from participation.audit import Source
from participation.geo import valid_coordinates
from participation.outbox import commit_so_far
from participation.reports import OPEN_STATUSES, PhotoIn, Problem, ReportError
from storage.models import Report, ReportCategory, Resident

router = Router(name=__name__)
log = logging.getLogger("palabre.reports")

# A photo, or an image sent "as a file": residents do both and mean the same.
IMAGE = F.photo | F.document.mime_type.startswith("image/")


def image_of(message: Message) -> list[str] | None:
    """[file id, unique id] of the image a message carries (the largest size of a photo)."""
    if message.photo:
        return [message.photo[-1].file_id, message.photo[-1].file_unique_id]
    if message.document is not None and (message.document.mime_type or "").startswith("image/"):
        return [message.document.file_id, message.document.file_unique_id]
    return None


class NotFixed(StatesGroup):
    why = State()  # after « not fixed yet »: why, or a photo


class ReportFlow(StatesGroup):
    category = State()
    description = State()
    photos = State()
    location = State()
    duplicates = State()
    confirm = State()


async def show_groups(message: Message, session: AsyncSession, i18n: I18n, settings: Settings, edit: bool = False) -> bool:
    """The category groups as buttons (or the categories at once when there is one group)."""
    categories = await cats.active_categories(session)
    if not categories:
        await message.answer(say.no_categories())
        return False
    groups = groups_of(categories, i18n.current_locale, settings.default_locale)
    if len(groups) == 1:
        await show_categories(message, categories, 0, i18n, settings, edit)
        return True
    text, markup = say.groups_screen(groups)
    if edit:
        await message.edit_text(text, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)
    return True


async def show_categories(
    message: Message, categories: list[ReportCategory], group: int, i18n: I18n, settings: Settings, edit: bool
) -> None:
    text, markup = say.categories_screen(categories, group, i18n.current_locale, settings.default_locale)
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


async def ask_location(message: Message, state: FSMContext, category: ReportCategory) -> None:
    await state.set_state(ReportFlow.location)
    text, markup = say.location_prompt(category)
    await message.answer(text, reply_markup=markup)


async def after_location(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Offer the open reports nearby, if any, else go to the summary."""
    data = await state.get_data()
    await message.answer(say.place_noted(data.get("lat") is not None or bool(data.get("address"))), reply_markup=main_menu())
    if data.get("lat") is not None:
        nearby = await reports.find_nearby(session, category_id=data["category_id"], lat=data["lat"], lon=data["lon"])
        if nearby:
            await state.update_data(nearby=[n.report.id for n in nearby])
            await state.set_state(ReportFlow.duplicates)
            category = await reports.category_of(session, nearby[0].report)  # find_nearby keeps to one category
            label = category_label(category, i18n.current_locale, settings.default_locale)
            text, markup = say.duplicates_screen(nearby, label)
            await message.answer(text, reply_markup=markup)
            return
    await show_summary(message, state, session, i18n, settings)


async def show_summary(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    data = await state.get_data()
    category = await current_category(session, state)
    if category is None:
        await state.clear()
        await message.answer(say.category_gone(), reply_markup=main_menu())
        return
    place = await say.place_of(session, data, i18n.current_locale, settings.default_locale)
    await state.set_state(ReportFlow.confirm)
    text, markup = say.summary_screen(
        category_label(category, i18n.current_locale, settings.default_locale),
        data.get("description", ""),
        len(data.get("photos", [])),
        place,
    )
    await message.answer(text, reply_markup=markup)


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(say.report_cancelled(), reply_markup=main_menu())


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


@router.message(Command("report", "signaler"))
@router.message(F.text == MENU_REPORT)
async def cmd_report(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/report or the menu entry: start a report."""
    await start_report(message, state, session, i18n, settings)


@router.message(Command("cancel", "annuler"), StateFilter(ReportFlow))
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
        await query.message.answer(say.report_closed())
        return
    await cancel(query.message, state)


@router.message(StateFilter(None), IMAGE)
async def on_photo_first(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """A photo sent from the main menu starts a report; its caption, if any, is the description."""
    image = image_of(message)
    assert image is not None
    caption = " ".join((message.caption or "").split())
    if not await show_groups(message, session, i18n, settings):
        return
    await state.set_state(ReportFlow.category)
    await state.update_data(photos=[image], description=caption[: reports.MAX_DESCRIPTION] if caption else None)


@router.callback_query(ReportStep.filter(F.action.in_({"edit_desc", "edit_place"})), StateFilter(ReportFlow.confirm))
async def on_edit(query: CallbackQuery, callback_data: ReportStep, state: FSMContext, session: AsyncSession) -> None:
    """« Modifier » under the summary: the description or the place again, then back to the summary."""
    category = await current_category(session, state)
    if category is None or not isinstance(query.message, Message):
        await query.answer(stale_button())
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    if callback_data.action == "edit_desc":
        await state.update_data(editing=True)
        await state.set_state(ReportFlow.description)
        text, markup = say.edit_description_prompt()
        await query.message.answer(text, reply_markup=markup)
        return
    await ask_location(query.message, state, category)


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
            await query.message.answer(stale_button())
            return
        await show_categories(query.message, categories, callback_data.value, i18n, settings, edit=True)
        return
    category = next((c for c in categories if c.id == callback_data.value), None)
    if category is None:
        await query.message.answer(say.category_gone())
        return
    data = await state.get_data()
    await state.update_data(category_id=category.id, photos=data.get("photos", []))
    label = category_label(category, i18n.current_locale, settings.default_locale)
    if data.get("description"):  # the caption of a photo sent first
        await query.message.edit_text(say.category_chosen(label))
        await ask_photos(query.message, state, category, settings)
        return
    await state.set_state(ReportFlow.description)
    text, markup = say.description_prompt(label, bool(data.get("photos")))
    await query.message.edit_text(text, reply_markup=markup)


@router.message(StateFilter(ReportFlow.category))
async def on_text_during_category(message: Message) -> None:
    """Anything but a button while the category is asked."""
    await message.answer(say.choose_category_please())


# --- Description -----------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.description), F.text)
async def on_description(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """The description, checked for length."""
    await on_description_text(message, message.text or "", state, session, i18n, settings)


async def ask_photos(message: Message, state: FSMContext, category: ReportCategory, settings: Settings) -> None:
    """The photo step; photos sent earlier count."""
    await state.set_state(ReportFlow.photos)
    count = len((await state.get_data()).get("photos", []))
    text, markup = say.photos_prompt(category, count, settings)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(ReportFlow.description), IMAGE)
async def on_photo_before_description(
    message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """A photo where the description was expected: kept; its caption, if any, is the description."""
    image = image_of(message)
    assert image is not None
    photos = [*(await state.get_data()).get("photos", []), image][: reports.MAX_PHOTOS]
    await state.update_data(photos=photos)
    if message.caption:
        await on_description_text(message, message.caption, state, session, i18n, settings)
        return
    await message.answer(say.photo_received_describe())


async def on_description_text(
    message: Message, text: str, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    category = await current_category(session, state)
    if category is None:
        await state.clear()
        await message.answer(say.category_gone(), reply_markup=main_menu())
        return
    try:
        description = reports.check_description(text)
    except ReportError as error:
        await message.answer(problem_text(error, len(text)))
        return
    await state.update_data(description=description)
    if (await state.get_data()).get("editing"):  # « Modifier » from the summary: straight back to it
        await state.update_data(editing=False)
        await show_summary(message, state, session, i18n, settings)
        return
    await ask_photos(message, state, category, settings)


@router.message(StateFilter(ReportFlow.description))
async def on_not_a_description(message: Message) -> None:
    """A sticker, a voice message… where the description was expected."""
    await message.answer(say.describe_please())


# --- Photos ----------------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.photos), IMAGE)
async def on_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """One photo, or an image sent as a file (of a photo, Telegram sends several sizes: the largest is kept)."""
    category = await current_category(session, state)
    image = image_of(message)
    if category is None or image is None:
        await state.clear()
        await message.answer(say.category_gone(), reply_markup=main_menu())
        return
    photos = list((await state.get_data()).get("photos", []))
    if len(photos) >= reports.MAX_PHOTOS:
        await message.answer(
            problem_text(ReportError(Problem.TOO_MANY_PHOTOS)), reply_markup=photos_keyboard(category, len(photos))
        )
        return
    photos.append(image)
    await state.update_data(photos=photos)
    await message.answer(say.photo_count(len(photos)), reply_markup=photos_keyboard(category, len(photos)))


@router.callback_query(ReportStep.filter(F.action == "photos_done"), StateFilter(ReportFlow.photos))
async def on_photos_done(query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings) -> None:
    """Done (or Skip) after the photos."""
    category = await current_category(session, state)
    if category is None or not isinstance(query.message, Message):
        await query.answer(stale_button())
        return
    if category.photo_required and not (await state.get_data()).get("photos"):
        await query.answer(photo_needed_text(settings), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await ask_location(query.message, state, category)


@router.message(StateFilter(ReportFlow.photos), F.location)
async def on_location_during_photos(
    message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """The place sent before tapping « Terminé »: the photos are done, the place is taken."""
    category = await current_category(session, state)
    if category is not None and category.photo_required and not (await state.get_data()).get("photos"):
        await message.answer(photo_needed_text(settings), reply_markup=photos_keyboard(category, 0))
        return
    await state.set_state(ReportFlow.location)
    await on_location(message, state, session, i18n, settings)


@router.message(StateFilter(ReportFlow.photos))
async def on_not_a_photo(message: Message, state: FSMContext, session: AsyncSession, settings: Settings) -> None:
    """Text, a sticker… where a photo was expected."""
    category = await current_category(session, state)
    count = len((await state.get_data()).get("photos", []))
    markup = photos_keyboard(category, count) if category else None
    if category is not None and category.photo_required and not count:
        await message.answer(photo_needed_text(settings), reply_markup=markup)
        return
    await message.answer(say.send_photo_please(), reply_markup=markup)


# --- Location --------------------------------------------------------------------------------


@router.message(StateFilter(ReportFlow.location), F.location)
async def on_location(message: Message, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """Telegram's location (or a venue, which carries one)."""
    assert message.location is not None
    lat, lon = message.location.latitude, message.location.longitude
    if not valid_coordinates(lat, lon):
        await message.answer(problem_text(ReportError(Problem.BAD_COORDINATES)))
        return
    if message.venue is not None:  # a place chosen on the map: its own name says where it is
        named = " ".join(f"{message.venue.title}, {message.venue.address}".split())[: reports.MAX_ADDRESS]
        await state.update_data(lat=lat, lon=lon, address=named)
        await after_location(message, state, session, i18n, settings)
        return
    await place_and_go_on(message, state, session, i18n, settings, lat=lat, lon=lon)


async def place_and_go_on(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    i18n: I18n,
    settings: Settings,
    *,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
) -> None:
    """Name a position, or place a typed address, through the geocoder; then on to the next step."""
    if settings.geocoder_url:
        # Nothing is decided yet (at most the day's activity mark): end the transaction so that the
        # network call holds no database lock, as bot/pipeline.py does before Bot API calls.
        await commit_so_far(session)
        if lat is not None and lon is not None:
            found = await geocoding.reverse(settings.geocoder_url, lat, lon)
            address = found.label if found else None
        elif address:
            found = await geocoding.search(settings.geocoder_url, address)
            if found is not None:
                lat, lon, address = found.lat, found.lon, found.label
    await state.update_data(lat=lat, lon=lon, address=address)
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
    await place_and_go_on(message, state, session, i18n, settings, address=address)


@router.message(StateFilter(ReportFlow.location))
async def on_not_a_location(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """A sticker, photo… where the place was expected."""
    category = await current_category(session, state)
    markup = location_keyboard(category) if category else None
    await message.answer(say.send_location_please(), reply_markup=markup)


# --- Duplicates, confirmation ------------------------------------------------------------------


@router.callback_query(ReportFollow.filter(), StateFilter(ReportFlow.duplicates))
async def on_follow(
    query: CallbackQuery, callback_data: ReportFollow, state: FSMContext, session: AsyncSession, resident: Resident
) -> None:
    """ "Yes, it is this one": follow the existing report instead of filing a new one."""
    offered = (await state.get_data()).get("nearby", [])
    report = await reports.report_by_id(session, callback_data.report_id) if callback_data.report_id in offered else None
    if report is None or report.status not in OPEN_STATUSES or not isinstance(query.message, Message):
        await query.answer(stale_button())
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    outcome = await reports.follow(session, report, resident)
    await state.clear()
    await query.message.answer(say.follow_outcome(outcome == reports.FollowOutcome.OWN, report.ref), reply_markup=main_menu())


@router.callback_query(ReportStep.filter(F.action == "new"), StateFilter(ReportFlow.duplicates))
async def on_not_a_duplicate(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """ "No, it is a new problem": on to the summary."""
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
    await query.message.answer(say.report_sent(report.ref), reply_markup=main_menu())


@router.message(StateFilter(ReportFlow.duplicates, ReportFlow.confirm))
async def on_text_during_buttons(message: Message) -> None:
    """Anything typed while buttons are expected."""
    await message.answer(say.use_buttons_please())


# --- My reports, "is it fixed?" ---------------------------------------------------------------


@router.message(Command("myreports", "messignalements"))
@router.message(F.text == MENU_MY_REPORTS)
async def cmd_my_reports(message: Message, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings) -> None:
    """/myreports or the menu entry: own and followed reports with their status."""
    mine = await reports.reports_of(session, resident)
    if not mine:
        await message.answer(say.no_reports())
        return
    text, markup = say.my_reports_screen(mine, i18n.current_locale, settings.default_locale)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ReportShow.filter())
async def on_show_history(
    query: CallbackQuery, callback_data: ReportShow, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings
) -> None:
    """One report's details and history (only for its reporter and followers)."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None or not await reports.is_related(session, report, resident) or not isinstance(query.message, Message):
        await query.answer(stale_button())
        return
    await query.answer()
    category = await reports.category_of(session, report)
    changes = await reports.history_of(session, report)
    await query.message.answer(say.history_text(report, category, changes, i18n.current_locale, settings))


@router.callback_query(ReportFixed.filter())
async def on_fixed_answer(
    query: CallbackQuery,
    callback_data: ReportFixed,
    session: AsyncSession,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
    state: FSMContext,
) -> None:
    """The reporter's "is it really fixed?" answer; "no" reopens the report."""
    report = await reports.report_by_id(session, callback_data.report_id)
    if report is None:
        await query.answer(stale_button())
        return
    answer = await reports.answer_fixed_question(
        session, report, resident, callback_data.fixed, notifier=ReportNotices(i18n, settings)
    )
    if answer == reports.FixedAnswer.NOT_ASKED:
        await query.answer(say.fixed_question_closed())
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if answer == reports.FixedAnswer.THANKS:
        await query.message.answer(say.thanks_for_confirming())
    else:
        await state.set_state(NotFixed.why)
        await state.update_data(report_id=report.id)
        text, markup = say.reopened_ask_why(report.ref)
        await query.message.answer(text, reply_markup=markup)


@router.callback_query(ReportStep.filter(F.action == "why_skip"), StateFilter(NotFixed.why))
async def on_why_skipped(query: CallbackQuery, state: FSMContext) -> None:
    """Nothing to add after « not fixed yet »."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.message(StateFilter(NotFixed.why), F.text | IMAGE)
async def on_why_not_fixed(
    message: Message, state: FSMContext, session: AsyncSession, resident: Resident, i18n: I18n, settings: Settings
) -> None:
    """Why it is not fixed, or a photo of it: passed on to the agents."""
    report = await reports.report_by_id(session, int((await state.get_data()).get("report_id", 0)))
    await state.clear()
    if report is None or report.resident_id != resident.id:
        await message.answer(say.report_closed(), reply_markup=main_menu())
        return
    image = image_of(message)
    text = " ".join((message.text or message.caption or "").split())[: reports.MAX_NOTE] or None
    await ReportNotices(i18n, settings).reporter_adds(
        session, report, text, image[0] if image else None, f"report:{report.id}:agents:adds:{message.message_id}"
    )
    await message.answer(say.agents_have_it(), reply_markup=main_menu())
