"""Onboarding: /start, language, privacy notice and consent, then the main menu and the deep link."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from handlers.deeplinks import open_payload, parse_payload
from notices import onboarding as say
from notices.menu import LanguageCallback, language_keyboard, main_menu
from notices.menus import queue_menu_if_staff
from notices.onboarding import ConsentCallback, PrivacyMoreCallback, consent_keyboard, privacy_notice, privacy_notice_full
from notices.settings import profile_offer
from participation.residents import has_current_consent, record_consent, set_locale
from storage.models import Resident

router = Router(name=__name__)

PAYLOAD_KEY = "start_payload"


class Onboarding(StatesGroup):
    language = State()
    consent = State()


async def ask_language(message: Message, state: FSMContext, commune_name: str = "") -> None:
    await state.set_state(Onboarding.language)
    await message.answer(say.welcome(commune_name), reply_markup=language_keyboard())


async def ask_consent(message: Message, state: FSMContext, settings: Settings) -> None:
    await state.set_state(Onboarding.consent)
    await message.answer(privacy_notice(settings), reply_markup=consent_keyboard())


async def begin(message: Message, state: FSMContext, resident: Resident, settings: Settings) -> None:
    """Start (or pick up) onboarding where this resident is."""
    if resident.locale is None:
        await ask_language(message, state, settings.commune_name)
    else:
        await ask_consent(message, state, settings)


async def finish(message: Message, state: FSMContext, *, session: AsyncSession, resident: Resident, settings: Settings) -> None:
    """Onboarding done: main menu, the optional profile, then whatever the deep link asked for."""
    payload = (await state.get_data()).get(PAYLOAD_KEY)
    await state.clear()
    await message.answer(say.all_set(), reply_markup=main_menu())
    # Offered, never asked: no state is set, so the menu and any message work as if it was not there.
    # Before the deep link's content, which must stay the last message with buttons.
    offer = await profile_offer(session, resident)
    if offer is not None:
        text, keyboard = offer
        await message.answer(text, reply_markup=keyboard)
    if payload:
        await open_payload(message, payload, session=session, resident=resident, state=state, settings=settings)


@router.message(CommandStart())
async def cmd_start(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    resident: Resident,
    session: AsyncSession,
    settings: Settings,
    i18n: I18n,
) -> None:
    """/start, with or without a deep-link payload."""
    payload = parse_payload(command.args)
    # A staff member's own menu could not be set before they wrote to the bot.
    await queue_menu_if_staff(session, resident, settings.admin_ids, i18n)
    if has_current_consent(resident):
        await state.clear()
        await message.answer(say.welcome_back(), reply_markup=main_menu())
        if payload:
            await open_payload(message, payload, session=session, resident=resident, state=state, settings=settings)
        return
    # Keep the payload through onboarding; a plain /start must not forget an earlier one.
    if payload:
        await state.update_data({PAYLOAD_KEY: payload})
    await begin(message, state, resident, settings)


@router.callback_query(LanguageCallback.filter(F.code.in_(("fr", "en"))))
async def on_language(
    query: CallbackQuery,
    callback_data: LanguageCallback,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    i18n: I18n,
    settings: Settings,
) -> None:
    """A language button: during onboarding, or from /settings."""
    await set_locale(session, resident, callback_data.code)
    i18n.current_locale = callback_data.code
    # A staff member's own menu follows their language too.
    await queue_menu_if_staff(session, resident, settings.admin_ids, i18n)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if has_current_consent(resident):
        await state.clear()
        await query.message.answer(say.language_chosen(), reply_markup=main_menu())
    else:
        await ask_consent(query.message, state, settings)


@router.callback_query(ConsentCallback.filter())
async def on_consent(
    query: CallbackQuery,
    callback_data: ConsentCallback,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    settings: Settings,
) -> None:
    """The consent buttons under the privacy notice."""
    if has_current_consent(resident):
        await query.answer(say.already_agreed())
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    if not callback_data.accept:
        await state.clear()
        await query.message.answer(say.declined())
        return
    await record_consent(session, resident)
    await finish(query.message, state, session=session, resident=resident, settings=settings)


@router.message(StateFilter(Onboarding.language))
async def on_unexpected_during_language(message: Message) -> None:
    """Anything but a button while the language is asked: say so, change nothing."""
    await message.answer(say.choose_language_please(), reply_markup=language_keyboard())


@router.message(StateFilter(Onboarding.consent))
async def on_unexpected_during_consent(message: Message) -> None:
    """Anything but a button under the notice: say so, change nothing."""
    await message.answer(say.consent_please(), reply_markup=consent_keyboard())


@router.message(Command("privacy"))
async def cmd_privacy(message: Message, settings: Settings) -> None:
    """/privacy: the notice, again."""
    await message.answer(privacy_notice(settings), reply_markup=say.learn_more_keyboard())


@router.callback_query(PrivacyMoreCallback.filter())
async def on_privacy_more(query: CallbackQuery, settings: Settings) -> None:
    """« Learn more »: the full notice, before or after consent; the buttons above stay."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(privacy_notice_full(settings))
