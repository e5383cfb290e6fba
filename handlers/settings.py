"""Settings: language, followed topics, neighbourhood and age bracket, notifications on or off."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.callbacks import AgeBracketCallback, NeighbourhoodCallback, SettingsCallback, TopicCallback
from handlers.menu import LANGUAGE_NAMES, MENU_SETTINGS, language_keyboard
from notices.labels import age_bracket_label
from participation import subscriptions
from participation.residents import AgeBracket, set_age_bracket
from storage.models import Neighbourhood, Resident

router = Router(name=__name__)

NOT_SAYING = "-"  # the code of "I'd rather not say" in the neighbourhood and age bracket buttons


def neighbourhood_button() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=_("🏘 My neighbourhood"), callback_data=SettingsCallback(action="nbh").pack())]


def age_bracket_button() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=_("🎂 My age bracket"), callback_data=SettingsCallback(action="age").pack())]


def settings_keyboard(resident: Resident | None = None) -> InlineKeyboardMarkup:
    notifications_on = resident is None or resident.notifications_enabled
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("🌐 Language"), callback_data=SettingsCallback(action="lang").pack())],
            [InlineKeyboardButton(text=_("🏷 Topics I follow"), callback_data=SettingsCallback(action="topics").pack())],
            neighbourhood_button(),
            age_bracket_button(),
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
            _("Age bracket: {bracket}").format(bracket=age_bracket_label(resident.age_bracket))
            if resident.age_bracket
            else _("Age bracket: not given"),
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


@router.message(Command("settings", "parametres"))
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
async def on_topic(
    query: CallbackQuery, callback_data: TopicCallback, session: AsyncSession, resident: Resident, i18n: I18n
) -> None:
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


def choice_keyboard(
    choices: list[tuple[str, str]], current: str | None, button: Callable[[str], CallbackData]
) -> InlineKeyboardMarkup:
    """One button per (code, label), ✓ on the current one, then "rather not say" that clears it."""
    rows = [
        [InlineKeyboardButton(text=("✓ " if code == current else "") + label, callback_data=button(code).pack())]
        for code, label in choices
    ]
    rows.append([InlineKeyboardButton(text=_("I'd rather not say"), callback_data=button(NOT_SAYING).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


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
    choices = [(item.code, subscriptions.localized(item.names, i18n.current_locale)) for item in neighbourhoods]
    await query.message.answer(
        _("🏘 Which neighbourhood do you live in?"),
        reply_markup=choice_keyboard(choices, resident.neighbourhood, lambda code: NeighbourhoodCallback(code=code)),
    )


@router.callback_query(SettingsCallback.filter(F.action == "age"))
async def on_settings_age_bracket(query: CallbackQuery, resident: Resident) -> None:
    """Show the age brackets."""
    await query.answer()
    if isinstance(query.message, Message):
        choices = [(bracket.value, age_bracket_label(bracket)) for bracket in AgeBracket]
        await query.message.answer(
            _("🎂 Which age bracket are you in?"),
            reply_markup=choice_keyboard(choices, resident.age_bracket, lambda code: AgeBracketCallback(code=code)),
        )


@router.callback_query(NeighbourhoodCallback.filter())
@router.callback_query(AgeBracketCallback.filter())
async def on_profile_choice(
    query: CallbackQuery,
    callback_data: NeighbourhoodCallback | AgeBracketCallback,
    session: AsyncSession,
    resident: Resident,
    i18n: I18n,
) -> None:
    """A neighbourhood or age bracket button (or "rather not say"): the settings as they are now."""
    code = None if callback_data.code == NOT_SAYING else callback_data.code
    if isinstance(callback_data, AgeBracketCallback):
        changed = await set_age_bracket(session, resident, code)
    else:
        changed = await subscriptions.set_neighbourhood(session, resident, code)
    if not changed:  # a code that does not exist (any more): the domain changed nothing
        await query.answer(_("This button is no longer valid."))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            await settings_text(session, resident, i18n.current_locale), reply_markup=settings_keyboard(resident)
        )


async def profile_offer(session: AsyncSession, resident: Resident) -> tuple[str, InlineKeyboardMarkup] | None:
    """The optional profile, offered once onboarding is done: what is still missing, and "not now".

    None when nothing is left to offer (a resident consenting again to a new notice).
    """
    rows = []
    if resident.neighbourhood is None and await subscriptions.list_neighbourhoods(session):
        rows.append(neighbourhood_button())
    if resident.age_bracket is None:
        rows.append(age_bracket_button())
    if not rows:
        return None
    rows.append([InlineKeyboardButton(text=_("Not now"), callback_data=SettingsCallback(action="later").pack())])
    text = _(
        "📝 If you wish, tell us a little about you: it helps the town hall send you what concerns you "
        "and see whether those who take part reflect the whole commune.\n"
        "It is optional: skip it, or do it any time in ⚙️ Settings."
    )
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(SettingsCallback.filter(F.action == "later"))
async def on_profile_later(query: CallbackQuery) -> None:
    """The "not now" button under the profile offer: the offer goes, the menu stays."""
    await query.answer(_("All right. You can do it any time in ⚙️ Settings."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(SettingsCallback.filter(F.action.in_(("on", "off"))))
async def on_notifications(
    query: CallbackQuery, callback_data: SettingsCallback, session: AsyncSession, resident: Resident, i18n: I18n
) -> None:
    """Switch every notification off, or back on."""
    enabled = callback_data.action == "on"
    await subscriptions.set_notifications(session, resident, enabled)
    await query.answer(
        _("🔔 Notifications are on.") if enabled else _("🔕 Notifications are off: you will receive no announcements.")
    )
    if isinstance(query.message, Message):
        await query.message.edit_text(
            await settings_text(session, resident, i18n.current_locale), reply_markup=settings_keyboard(resident)
        )
