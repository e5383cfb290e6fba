"""Settings as residents see them: the settings screen, topics, neighbourhood and age bracket, the optional profile."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from notices.labels import age_bracket_label
from notices.menu import LANGUAGE_NAMES
from participation import subscriptions
from participation.languages import in_language
from participation.residents import AgeBracket
from storage.models import Neighbourhood, Resident, Topic

NOT_SAYING = "-"  # the code of "I'd rather not say" in the neighbourhood and age bracket buttons


class SettingsCallback(CallbackData, prefix="set"):
    action: str


class TopicCallback(CallbackData, prefix="tp"):
    """Toggle the subscription to a topic (settings)."""

    code: str


class NeighbourhoodCallback(CallbackData, prefix="nb"):
    """Choose a neighbourhood in settings; code "-" means none."""

    code: str


class AgeBracketCallback(CallbackData, prefix="ab"):
    """Choose an age bracket in settings; code "-" means none."""

    code: str


def neighbourhood_button() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=_("🏘 My neighbourhood"), callback_data=SettingsCallback(action="nbh").pack())]


def age_bracket_button() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=_("🎂 My age bracket"), callback_data=SettingsCallback(action="age").pack())]


def not_now_button() -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(text=_("Not now"), callback_data=SettingsCallback(action="later").pack())]


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
                neighbourhood=in_language(neighbourhood.names, locale) if neighbourhood else _("not chosen")
            ),
            _("Age bracket: {bracket}").format(bracket=age_bracket_label(resident.age_bracket))
            if resident.age_bracket
            else _("Age bracket: not given"),
            _("Topics followed: {count}").format(count=len(topics)),
            _("Notifications: on") if resident.notifications_enabled else _("Notifications: off"),
        ]
    )


def language_question() -> str:
    return _("Which language do you prefer?")


def no_topics() -> str:
    return _("The town hall has not listed any topics yet.")


def topics_question() -> str:
    return _("🏷 Which topics do you want to hear about? Tap to follow or unfollow.")


def topics_keyboard(topics: Sequence[Topic], followed: set[str], locale: str) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=("✓ " if topic.code in followed else "") + in_language(topic.names, locale),
                callback_data=TopicCallback(code=topic.code).pack(),
            )
        ]
        for topic in topics
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def topic_toggled(followed_now: bool) -> str:
    return _("You follow this topic.") if followed_now else _("You no longer follow this topic.")


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


def no_neighbourhoods() -> str:
    return _("The town hall has not listed any neighbourhoods yet.")


def neighbourhood_question(
    neighbourhoods: Sequence[Neighbourhood], current: str | None, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    choices = [(item.code, in_language(item.names, locale)) for item in neighbourhoods]
    keyboard = choice_keyboard(choices, current, lambda code: NeighbourhoodCallback(code=code))
    return _("🏘 Which neighbourhood do you live in?"), keyboard


def age_bracket_choices() -> list[tuple[str, str]]:
    return [(bracket.value, age_bracket_label(bracket)) for bracket in AgeBracket]


def age_bracket_question(current: str | None) -> tuple[str, InlineKeyboardMarkup]:
    keyboard = choice_keyboard(age_bracket_choices(), current, lambda code: AgeBracketCallback(code=code))
    return _("🎂 Which age bracket are you in?"), keyboard


def neighbourhood_saved(neighbourhood: Neighbourhood, locale: str) -> tuple[str, InlineKeyboardMarkup]:
    """The neighbourhood is stored and no age bracket is: close the step with the next question."""
    rows = [
        [InlineKeyboardButton(text=label, callback_data=AgeBracketCallback(code=code).pack())]
        for code, label in age_bracket_choices()
    ]
    rows.append(not_now_button())
    text = _("✅ Neighbourhood saved: {name}. And your age bracket?").format(name=in_language(neighbourhood.names, locale))
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def profile_offer(session: AsyncSession, resident: Resident) -> tuple[str, InlineKeyboardMarkup] | None:
    """The optional profile, offered once onboarding is done: what is still missing, and "not now".

    None when nothing is left to offer (a resident consenting again to a new notice).
    """
    ask_neighbourhood = resident.neighbourhood is None and bool(await subscriptions.list_neighbourhoods(session))
    ask_age = resident.age_bracket is None
    if ask_neighbourhood and ask_age:
        text = _(
            "📝 Optional: tell us your neighbourhood and your age. You will receive the news of your neighbourhood, "
            "and the town hall will know whether all residents are represented."
        )
    elif ask_neighbourhood:
        text = _("📝 Optional: tell us your neighbourhood. You will receive the news of your neighbourhood.")
    elif ask_age:
        text = _("📝 Optional: tell us your age. The town hall will know whether all residents are represented.")
    else:
        return None
    rows = [neighbourhood_button()] if ask_neighbourhood else []
    if ask_age:
        rows.append(age_bracket_button())
    rows.append(not_now_button())
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def profile_later() -> str:
    return _("All right. You can do it any time in ⚙️ Settings.")


def notifications_switched(enabled: bool) -> str:
    if enabled:
        return _("🔔 Notifications are on.")
    return _("🔕 You will no longer receive the town hall's announcements. We will still keep you informed about your reports.")
