"""Consultations as people receive them: their own texts in a language, dates, and the native polls queued to residents."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import capitalized, spoken_date, town_hall
from participation import consultations as domain
from participation import outbox
from storage.models import Consultation


def current_locale() -> str:
    return get_i18n().current_locale


def fallback_locale() -> str:
    return get_i18n().default_locale


def tr(text: dict[str, str] | None) -> str:
    """A consultation's own text in the resident's language, escaped for HTML."""
    return html.escape(domain.localized(text, current_locale(), fallback_locale()))


def when(moment: datetime, settings: Settings) -> str:
    return spoken_date(moment, settings.tz, current_locale())


async def queue_polls(session: AsyncSession, consultation: Consultation, i18n: I18n, settings: Settings) -> int:
    """Queue one native poll per resident of the audience, in each one's language, after a line
    saying who asks, until when, and who sees the vote (a bare poll looks like spam)."""
    default_locale = settings.default_locale
    question = consultation.questions[0]
    count = 0
    for resident in await domain.poll_audience(session, consultation):
        locale = resident.locale or default_locale
        with i18n.use_locale(locale):
            intro = _(
                "🗳 {town_hall} asks you: “{title}”. You can answer until {date}.\n"
                "Your vote is seen by the town hall, not by other residents."
            ).format(
                town_hall=capitalized(town_hall(settings.commune_name)),
                title=html.escape(domain.localized(consultation.title, locale, default_locale)),
                date=spoken_date(consultation.closes_at, settings.tz, locale),
            )
            if question["type"] == "yesno":
                options = [_("Yes"), _("No")]
            else:
                options = [domain.localized(c["label"], locale, default_locale)[:100] for c in question["choices"]]
            title = domain.localized(question["prompt"], locale, default_locale)[:300]
        if not await domain.register_poll(session, consultation, resident):
            continue
        payload: dict[str, Any] = {
            "question": title,
            "options": [{"text": option} for option in options],
            "is_anonymous": False,
            "allows_multiple_answers": question["type"] == "multiple",
        }
        await outbox.enqueue(
            session,
            chat_id=resident.telegram_id,
            method="sendMessage",
            payload={"text": intro},  # type: ignore[arg-type]
            resident_id=resident.id,
            kind="poll-intro",
            dedupe_key="pi" + domain.poll_dedupe_key(consultation.id, resident.id),  # type: ignore[arg-type]
        )
        if await outbox.enqueue(
            session,
            chat_id=resident.telegram_id,
            method="sendPoll",
            payload=payload,  # type: ignore[arg-type]
            resident_id=resident.id,
            kind=domain.POLL_KIND,
            dedupe_key=domain.poll_dedupe_key(consultation.id, resident.id),  # type: ignore[arg-type]
        ):
            count += 1
    return count


class PickConsultation(CallbackData, prefix="co"):
    cid: int
