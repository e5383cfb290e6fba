"""Settings: language, followed topics, neighbourhood, notifications on or off."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import NeighbourhoodCallback, SettingsCallback, TopicCallback
from handlers.menu import LANGUAGE_NAMES, MENU_SETTINGS, language_keyboard
from participation import subscriptions
from storage.models import Neighbourhood, Resident

router = Router(name=__name__)


def settings_keyboard(resident: Resident | None = None) -> InlineKeyboardMarkup:
    notifications_on = resident is None or resident.notifications_enabled
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("🌐 Language"), callback_data=SettingsCallback(action="lang").pack())],
            [InlineKeyboardButton(text=_("🏷 Topics I follow"), callback_data=SettingsCallback(action="topics").pack())],
            [InlineKeyboardButton(text=_("🏘 My neighbourhood"), callback_data=SettingsCallback(action="nbh").pack())],
            [
                InlineKeyboardButton(text=_("🔕 Turn notifications off"), callback_data=SettingsCallback(action="off").pack())
                if notifications_on
                else InlineKeyboardButton(text=_("🔔 Turn notifications on"), callback_data=SettingsCallback(action="on").pack())
            ],
        ]
    )


async def settings_text(session: AsyncSession, resident: Resident, locale: str) -> str:
    language = LANGUAGE_NAMES.get(resident.locale or "", "-")
    neighbourhood = await session.get(Neighbourhood, resident.neighbourhood) if resident.neighbourhood else None
    topics = await subscriptions.subscribed_topics(session, resident)
    return "\n".join(
        [
            _("⚙️ <b>Settings</b>\n\nLanguage: {language}").format(language=language),
            _("Neighbourhood: {neighbourhood}").format(
                neighbourhood=subscriptions.localized(neighbourhood.names, locale) if neighbourhood else _("not chosen")
            ),
            _("Topics followed: {count}").format(count=len(topics)),
            _("Notifications: on") if resident.notifications_enabled else _("Notifications: off"),
        ]
    )


def topics_keyboard(topics: list, followed: set[str], locale: str) -> InlineKeyboardMarkup:  # type: ignore[type-arg]
    rows = [
        [
            InlineKeyboardButton(
                text=("✓ " if topic.code in followed else "") + subscriptions.localized(topic.names, locale),
                callback_data=TopicCallback(code=topic.code).pack(),
            )
        ]
        for topic in topics
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


@router.message(Command("settings"))
@router.message(F.text == MENU_SETTINGS)
async def cmd_settings(message: Message, resident: Resident, session: AsyncSession, i18n: I18n) -> None:
    """/settings or the menu entry: what can be changed."""
    await message.answer(await settings_text(session, resident, i18n.current_locale), reply_markup=settings_keyboard(resident))


@router.callback_query(SettingsCallback.filter(F.action == "lang"))
async def on_settings_language(query: CallbackQuery) -> None:
    """Offer the languages; the choice itself is handled by onboarding's language handler."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(_("Which language do you prefer?"), reply_markup=language_keyboard())


@router.callback_query(SettingsCallback.filter(F.action == "topics"))
async def on_settings_topics(query: CallbackQuery, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """Show the commune's topics, ✓ on those followed."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    topics = await subscriptions.list_topics(session)
    if not topics:
        await query.message.answer(_("The town hall has not listed any topics yet."))
        return
    followed = await subscriptions.subscribed_topics(session, resident)
    await query.message.answer(
        _("🏷 Which topics do you want to hear about? Tap to follow or unfollow."),
        reply_markup=topics_keyboard(topics, followed, i18n.current_locale),
    )


@router.callback_query(TopicCallback.filter())
async def on_topic(query: CallbackQuery, callback_data: TopicCallback, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """A topic button: follow or unfollow it, and redraw the ✓."""
    followed_now = await subscriptions.toggle_topic(session, resident, callback_data.code)
    if followed_now is None:
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer(_("You follow this topic.") if followed_now else _("You no longer follow this topic."))
    if isinstance(query.message, Message):
        topics = await subscriptions.list_topics(session)
        followed = await subscriptions.subscribed_topics(session, resident)
        await query.message.edit_reply_markup(reply_markup=topics_keyboard(topics, followed, i18n.current_locale))


@router.callback_query(SettingsCallback.filter(F.action == "nbh"))
async def on_settings_neighbourhood(query: CallbackQuery, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """Show the commune's neighbourhoods."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    neighbourhoods = await subscriptions.list_neighbourhoods(session)
    if not neighbourhoods:
        await query.message.answer(_("The town hall has not listed any neighbourhoods yet."))
        return
    rows = [
        [
            InlineKeyboardButton(
                text=("✓ " if item.code == resident.neighbourhood else "") + subscriptions.localized(item.names, i18n.current_locale),
                callback_data=NeighbourhoodCallback(code=item.code).pack(),
            )
        ]
        for item in neighbourhoods
    ]
    rows.append([InlineKeyboardButton(text=_("I'd rather not say"), callback_data=NeighbourhoodCallback(code="-").pack())])
    await query.message.answer(_("🏘 Which neighbourhood do you live in?"), reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(NeighbourhoodCallback.filter())
async def on_neighbourhood(
    query: CallbackQuery, callback_data: NeighbourhoodCallback, session: AsyncSession, resident: Resident, i18n: I18n
) -> None:
    """A neighbourhood button (or "rather not say")."""
    code = None if callback_data.code == "-" else callback_data.code
    if not await subscriptions.set_neighbourhood(session, resident, code):
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(await settings_text(session, resident, i18n.current_locale), reply_markup=settings_keyboard(resident))


@router.callback_query(SettingsCallback.filter(F.action.in_(("on", "off"))))
async def on_notifications(query: CallbackQuery, callback_data: SettingsCallback, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """Switch every notification off, or back on."""
    enabled = callback_data.action == "on"
    await subscriptions.set_notifications(session, resident, enabled)
    await query.answer(
        _("🔔 Notifications are on.") if enabled else _("🔕 Notifications are off: you will receive no announcements.")
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(await settings_text(session, resident, i18n.current_locale), reply_markup=settings_keyboard(resident))
