"""Longer texts used by several handlers, built in the current locale."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _

from config.settings import Settings


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


def help_text() -> str:
    return _(
        "ℹ️ <b>How Palabre works</b>\n\n"
        "🗳 <b>Consultations</b>: give your opinion on the town's projects in a few taps.\n"
        "📍 <b>Report a problem</b>: a pothole, a broken street light, litter… with a photo and the place.\n"
        "📋 <b>My reports</b>: follow what happens to them.\n"
        "⚙️ <b>Settings</b>: language and preferences.\n\n"
        "Use the menu at the bottom of the screen, or the commands: /consultations, /report, "
        "/myreports, /settings, /privacy, /help."
    )
