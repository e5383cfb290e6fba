"""Settings: language, followed topics, neighbourhood and age bracket, notifications on or off."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from notices import settings as say
from notices.menu import MENU_SETTINGS, language_keyboard, stale_button
from notices.settings import NOT_SAYING, AgeBracketCallback, NeighbourhoodCallback, SettingsCallback, TopicCallback
from participation import subscriptions
from participation.residents import set_age_bracket
from storage.models import Neighbourhood, Resident

router = Router(name=__name__)


@router.message(Command("settings", "parametres"))
@router.message(F.text == MENU_SETTINGS)
async def cmd_settings(message: Message, resident: Resident, session: AsyncSession, i18n: I18n) -> None:
    """/settings or the menu entry: what can be changed."""
    await message.answer(
        await say.settings_text(session, resident, i18n.current_locale), reply_markup=say.settings_keyboard(resident)
    )


@router.callback_query(SettingsCallback.filter(F.action == "lang"))
async def on_settings_language(query: CallbackQuery) -> None:
    """Offer the languages; the choice itself is handled by onboarding's language handler."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(say.language_question(), reply_markup=language_keyboard())


@router.callback_query(SettingsCallback.filter(F.action == "topics"))
async def on_settings_topics(query: CallbackQuery, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """Show the commune's topics, ✓ on those followed."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    topics = await subscriptions.list_topics(session)
    if not topics:
        await query.message.answer(say.no_topics())
        return
    followed = await subscriptions.subscribed_topics(session, resident)
    await query.message.answer(say.topics_question(), reply_markup=say.topics_keyboard(topics, followed, i18n.current_locale))


@router.callback_query(TopicCallback.filter())
async def on_topic(
    query: CallbackQuery, callback_data: TopicCallback, session: AsyncSession, resident: Resident, i18n: I18n
) -> None:
    """A topic button: follow or unfollow it, and redraw the ✓."""
    followed_now = await subscriptions.toggle_topic(session, resident, callback_data.code)
    if followed_now is None:
        await query.answer(stale_button())
        return
    await query.answer(say.topic_toggled(followed_now))
    if isinstance(query.message, Message):
        topics = await subscriptions.list_topics(session)
        followed = await subscriptions.subscribed_topics(session, resident)
        await query.message.edit_reply_markup(reply_markup=say.topics_keyboard(topics, followed, i18n.current_locale))


@router.callback_query(SettingsCallback.filter(F.action == "nbh"))
async def on_settings_neighbourhood(query: CallbackQuery, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """Show the commune's neighbourhoods."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    neighbourhoods = await subscriptions.list_neighbourhoods(session)
    if not neighbourhoods:
        await query.message.answer(say.no_neighbourhoods())
        return
    text, keyboard = say.neighbourhood_question(neighbourhoods, resident.neighbourhood, i18n.current_locale)
    await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(SettingsCallback.filter(F.action == "age"))
async def on_settings_age_bracket(query: CallbackQuery, resident: Resident) -> None:
    """Show the age brackets."""
    await query.answer()
    if isinstance(query.message, Message):
        text, keyboard = say.age_bracket_question(resident.age_bracket)
        await query.message.answer(text, reply_markup=keyboard)


@router.callback_query(NeighbourhoodCallback.filter())
@router.callback_query(AgeBracketCallback.filter())
async def on_profile_choice(
    query: CallbackQuery,
    callback_data: NeighbourhoodCallback | AgeBracketCallback,
    session: AsyncSession,
    resident: Resident,
    i18n: I18n,
) -> None:
    """A neighbourhood or age bracket button (or "rather not say"): the next question, or the settings as they are now."""
    code = None if callback_data.code == NOT_SAYING else callback_data.code
    if isinstance(callback_data, AgeBracketCallback):
        changed = await set_age_bracket(session, resident, code)
    else:
        changed = await subscriptions.set_neighbourhood(session, resident, code)
    if not changed:  # a code that does not exist (any more): the domain changed nothing
        await query.answer(stale_button())
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.edit_reply_markup(reply_markup=None)
    chosen = await session.get(Neighbourhood, code) if isinstance(callback_data, NeighbourhoodCallback) and code else None
    if chosen is not None and resident.age_bracket is None:
        # A neighbourhood chosen and no age bracket yet: close the step with the one question left.
        text, keyboard = say.neighbourhood_saved(chosen, i18n.current_locale)
        await query.message.answer(text, reply_markup=keyboard)
        return
    await query.message.answer(
        await say.settings_text(session, resident, i18n.current_locale), reply_markup=say.settings_keyboard(resident)
    )


@router.callback_query(SettingsCallback.filter(F.action == "later"))
async def on_profile_later(query: CallbackQuery) -> None:
    """The "not now" button under the profile offer: the offer goes, the menu stays."""
    await query.answer(say.profile_later())
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(SettingsCallback.filter(F.action.in_(("on", "off"))))
async def on_notifications(
    query: CallbackQuery, callback_data: SettingsCallback, session: AsyncSession, resident: Resident, i18n: I18n
) -> None:
    """Switch every notification off, or back on."""
    enabled = callback_data.action == "on"
    await subscriptions.set_notifications(session, resident, enabled)
    await query.answer(say.notifications_switched(enabled))
    if isinstance(query.message, Message):
        await query.message.edit_text(
            await say.settings_text(session, resident, i18n.current_locale), reply_markup=say.settings_keyboard(resident)
        )
