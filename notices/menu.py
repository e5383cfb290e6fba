"""The resident's main menu (reply keyboard), the command menus, and what the bot says when it did not understand."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from config.settings import SUPPORTED_LOCALES
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation.roles import Role, allows

# Lazy: resolved in the locale of the update being filtered, so `F.text == MENU_HELP` matches the
# resident's own keyboard whatever their language.
MENU_CONSULTATIONS = __("🗳 Consultations")
MENU_REPORT = __("📍 Report a problem")
MENU_MY_REPORTS = __("📋 My reports")
MENU_SETTINGS = __("⚙️ Settings")
MENU_HELP = __("❓ Help")
MENU_IMPACT = __("🌱 My impact")

LANGUAGE_NAMES = {"fr": "🇫🇷 Français", "en": "🇬🇧 English"}


class LanguageCallback(CallbackData, prefix="lang"):
    code: str


class MenuPick(CallbackData, prefix="mp"):
    """A button under « I did not understand »: the menu item to open (report, feedback, consultations)."""

    item: str


def menu_entries() -> list[str]:
    """The main menu's labels in the current locale."""
    return [str(entry) for entry in (MENU_CONSULTATIONS, MENU_REPORT, MENU_MY_REPORTS, MENU_SETTINGS, MENU_HELP, MENU_IMPACT)]


def main_menu() -> ReplyKeyboardMarkup:
    """The resident's main menu, in the current locale."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=str(MENU_CONSULTATIONS)), KeyboardButton(text=str(MENU_REPORT))],
            [KeyboardButton(text=str(MENU_MY_REPORTS)), KeyboardButton(text=str(MENU_SETTINGS))],
            [KeyboardButton(text=str(MENU_HELP)), KeyboardButton(text=str(MENU_IMPACT))],
        ],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=_("Choose from the menu"),
    )


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=LANGUAGE_NAMES[code], callback_data=LanguageCallback(code=code).pack())
                for code in SUPPORTED_LOCALES
            ]
        ]
    )


def not_understood() -> tuple[str, InlineKeyboardMarkup]:
    """A message no flow expected: say so, and offer what people usually want."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=str(MENU_REPORT), callback_data=MenuPick(item="report").pack())],
            [InlineKeyboardButton(text=_("💬 Write to the town hall"), callback_data=MenuPick(item="feedback").pack())],
            [InlineKeyboardButton(text=str(MENU_CONSULTATIONS), callback_data=MenuPick(item="consultations").pack())],
        ]
    )
    return _("I did not understand your message. What would you like to do?"), keyboard


# French residents see French commands; the English ones keep working for everyone.
FRENCH_COMMANDS = {
    "report": "signaler",
    "myreports": "messignalements",
    "settings": "parametres",
    "mydata": "mesdonnees",
    "forget": "oublier",
    "help": "aide",
}


def bot_commands(locale: str = "en") -> list[BotCommand]:
    """The command menu in the current locale (French command names for `fr`)."""
    commands = [
        BotCommand(command="consultations", description=_("Consultations open to you")),
        BotCommand(command="report", description=_("Report a problem in the street")),
        BotCommand(command="myreports", description=_("Follow my reports")),
        BotCommand(command="settings", description=_("Language and preferences")),
        BotCommand(command="privacy", description=_("My data and privacy")),
        BotCommand(command="mydata", description=_("Get everything kept about me")),
        BotCommand(command="forget", description=_("Erase my data")),
        BotCommand(command="help", description=_("How Palabre works")),
        BotCommand(command="impact", description=_("What my participation changed")),
        BotCommand(command="feedback", description=_("Tell us what you think of this service")),
        BotCommand(command="whoami", description=_("My Telegram id (and a group's)")),
    ]
    if locale == "fr":
        return [BotCommand(command=FRENCH_COMMANDS.get(c.command, c.command), description=c.description) for c in commands]
    return commands


def staff_commands(roles: frozenset[Role]) -> list[BotCommand]:
    """The commands of a staff member's roles, in the current locale (admins have them all)."""
    commands: list[BotCommand] = []
    if allows(roles, Role.OFFICIAL):
        commands += [
            BotCommand(command="newconsultation", description=_("Create a consultation step by step")),
            BotCommand(command="consultations_admin", description=_("All consultations and their state")),
            BotCommand(command="results", description=_("Results of a consultation")),
            BotCommand(command="poll", description=_("Send a one-question consultation as a poll")),
            BotCommand(command="publish", description=_("Publish the outcome of a consultation")),
            BotCommand(command="broadcast", description=_("Send a message to residents")),
            BotCommand(command="meeting", description=_("Invite residents to a public meeting")),
            BotCommand(command="meetings", description=_("Public meetings and who is coming")),
            BotCommand(command="feedbacks", description=_("Residents' messages about the service")),
            BotCommand(command="stats", description=_("Figures for the council")),
        ]
    if Role.ADMIN in roles:
        commands.append(BotCommand(command="grant", description=_("Give a role to an official or an agent")))
        commands.append(BotCommand(command="roles", description=_("Who has which role; take a role back")))
    return commands
