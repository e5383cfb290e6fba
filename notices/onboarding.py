"""Onboarding as residents read it: the welcome, the privacy notices and consent, and where a deep link lands."""

from __future__ import annotations

import html

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from config.settings import Settings
from notices.labels import town_hall


class ConsentCallback(CallbackData, prefix="cons"):
    accept: bool


class PrivacyMoreCallback(CallbackData, prefix="pm"):
    """« Learn more » under the short privacy notice: the full notice."""

    full: bool = True


def learn_more_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("📖 Learn more"), callback_data=PrivacyMoreCallback().pack())


def learn_more_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[learn_more_button()]])


def consent_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [learn_more_button()],
            [InlineKeyboardButton(text=_("✅ I agree"), callback_data=ConsentCallback(accept=True).pack())],
            [InlineKeyboardButton(text=_("No thanks"), callback_data=ConsentCallback(accept=False).pack())],
        ]
    )


def welcome(commune_name: str) -> str:
    """The first message: who speaks, what for, and the language question."""
    return _(
        "👋 Welcome to Palabre, the service of {town_hall} for giving your opinion and reporting problems.\n\n"
        "Which language do you prefer?"
    ).format(town_hall=town_hall(commune_name))


def all_set() -> str:
    return _("🎉 You're all set! Use the menu below to take part.\nType /help at any time.")


def welcome_back() -> str:
    return _("👋 Welcome back!")


def language_chosen() -> str:
    """Said in the language just chosen."""
    return _("✅ I will now speak to you in English.")


def already_agreed() -> str:
    return _("You have already agreed. Thank you!")


def declined() -> str:
    return _("All right. We have kept nothing but your Telegram id, needed to answer you.\nIf you change your mind, type /start.")


def choose_language_please() -> str:
    return _("Please choose your language with the buttons below.")


def consent_please() -> str:
    return _("To continue, please tap “I agree” or “No thanks” under the notice.")


def unknown_consultation(slug: str) -> str:
    """A deep link to a consultation that does not exist (or no longer)."""
    return _("The consultation “{slug}” does not exist (or no longer). See the open ones with /consultations.").format(
        slug=html.escape(slug)
    )


def controller_name(settings: Settings) -> str:
    """The data controller as residents read it: the commune, or « your town hall » when unnamed."""
    return settings.commune_name.strip() or _("your town hall")


def privacy_notice(settings: Settings) -> str:
    """The short notice (RGPD art. 13 in plain words); `privacy_notice_full` has the rest."""
    return _(
        "🔒 <b>Your data</b>\n\n"
        "Palabre is the participation channel of {controller}, which is responsible for your data. To answer you, we keep:\n"
        "• your Telegram id (not your name, not your phone number);\n"
        "• the language you chose and, only if you wish, your neighbourhood and age bracket;\n"
        "• your answers to consultations and your reports (text, photos, place).\n\n"
        "<b>Why:</b> to run consultations, handle your reports and tell you what came of them.\n"
        "<b>Who sees them:</b> the town hall's authorised staff and councillors. Other residents only see a report's "
        "category, place and status. Published results are anonymous.\n"
        "<b>How long:</b> as long as you use the service; free texts and the details of closed reports are deleted after "
        "{days} days.\n"
        "<b>Your rights:</b> /mydata sends you everything we keep about you; /forget erases it. You may also complain to "
        "the CNIL.\n\n"
        "Tap “Learn more” for the full notice; read this one again at any time with /privacy."
    ).format(controller=html.escape(controller_name(settings)), days=settings.free_text_retention_days)


def privacy_notice_full(settings: Settings) -> str:
    """The full notice: every item article 13 of the RGPD asks for."""
    dpo = html.escape(settings.dpo_contact.strip()) if settings.dpo_contact.strip() else _("ask the town hall")
    return _(
        "📖 <b>Your data: the full notice</b>\n\n"
        "<b>Data controller:</b> {controller}.\n"
        "<b>Data protection officer (DPO):</b> {dpo}.\n"
        "<b>Purposes:</b> running public consultations, handling reports of problems in public space, informing "
        "residents of what came of them, and measuring how useful the service is.\n"
        "<b>Legal basis:</b> your consent, given with the button under the short notice; you can withdraw it at any "
        "time with /forget.\n"
        "<b>Recipients:</b> the town hall's authorised staff and elected officials. Reports are published as open data "
        "without any link to you (no name, no Telegram id); other residents reporting nearby only see a report's "
        "category, place and status. Results are only published as anonymous counts.\n"
        "<b>Transfers:</b> messages go through Telegram, a service based outside the European Union.\n"
        "<b>Retention:</b> free-text answers are deleted {free_days} days after their consultation closes; a closed "
        "report loses its link to you after {report_days} days; messages we sent are deleted after {outbox_days} days; "
        "everything else is kept until you erase it.\n"
        "<b>Your rights:</b> access (/mydata), erasure (/forget), rectification, restriction and objection: write to "
        "the data protection officer. You have the right to lodge a complaint with the CNIL (www.cnil.fr), the French "
        "data protection authority.\n"
        "<b>Is it required?</b> No: without your consent, Palabre keeps nothing but your Telegram id, needed to answer you."
    ).format(
        controller=html.escape(controller_name(settings)),
        dpo=dpo,
        free_days=settings.free_text_retention_days,
        report_days=settings.report_retention_days,
        outbox_days=settings.outbox_retention_days,
    )
