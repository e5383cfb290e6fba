"""Published results as residents receive them (the outcome texts, chart captions, the announcement of an opening
consultation and the reminder of a closing one), and what officials read while publishing."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy.ext.asyncio import AsyncSession

from notices import result_texts
from notices.consultations import PickConsultation, tr
from notices.labels import spoken_date, town_hall
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation import publication as publication_domain
from participation import results as results_module
from participation.languages import in_language
from participation.publication import PublishRefusal
from storage.models import Consultation

MAX_MESSAGE = 4000  # Telegram refuses more than 4096 characters


MAX_CHARTS = 10


async def compute(session: AsyncSession, consultation: Consultation, locale: str, default_locale: str) -> results_module.Results:
    """The results in `locale` (call inside that locale, for the yes/no/other labels).

    Residents get the raw figures: the weighted ones, with their margins of error, are for the
    officials' /results and the council's report (docs/representativite.md).
    """
    computed = await results_module.compute_results(
        session,
        consultation,
        locale=locale,
        default_locale=default_locale,
        yes=_("Yes"),
        no=_("No"),
        other=_("Other"),
        with_responses=False,
    )
    return results_module.without_weighting(computed)


def outcome_texts(results: results_module.Results, decision: str, locale: str = "fr") -> list[str]:
    """The decision first, then the results summary, as one message when it fits (else two)."""
    head = [
        _("📣 <b>We asked, you said, we did: {title}</b>").format(title=html.escape(results.title)),
        "",
        _("🏛 <b>What the council decided</b>"),
        html.escape(decision),
        "",
        ngettext("{finished} resident took part.", "{finished} residents took part.", results.finished).format(
            finished=results.finished
        ),
    ]
    body: list[str] = []
    for number, question in enumerate(results.questions, start=1):
        body.append("")
        body.append(f"<b>{number}. {html.escape(question.prompt)}</b>")
        if question.written:
            body.append(
                ngettext(
                    "{count} written answer, read by the council.",
                    "{count} written answers, read by the council.",
                    question.answered,
                ).format(count=question.answered)
            )
        else:
            body.extend(result_texts.question_lines(question, locale, _, weighted=False))
    tail = "\n".join(["", _("Thank you for taking part!")])
    whole = "\n".join(head + body) + "\n" + tail
    if len(whole) <= MAX_MESSAGE:
        return [whole]
    budget = MAX_MESSAGE - len(tail) - 1
    if len("\n".join(head)) <= MAX_MESSAGE // 2:
        return [_shorten(head, body, budget) + "\n" + tail]
    # A decision full of characters that HTML escapes (& < >): its markup is long, but Telegram
    # counts it after parsing (at most MAX_DECISION characters), so it goes whole on its own.
    return ["\n".join(head[:4]), _shorten([head[0], *head[5:]], body, MAX_MESSAGE - len(tail) - 1) + "\n" + tail]


def _shorten(head: list[str], body: list[str], budget: int) -> str:
    """The summary within `budget` characters, dropping whole lines from the end (never half a tag)."""
    if len("\n".join(head + body)) <= budget:
        return "\n".join(head + body)
    cut = _("… (the full results are in the charts)")
    kept = list(body)
    while kept and len("\n".join(head + kept + [cut])) > budget:
        kept.pop()
    return "\n".join(head + kept + [cut])


def chart_axis_label(question: results_module.QuestionResult) -> str:
    return result_texts.chart_axis_label(question, _)


def chart_caption(results: results_module.Results, number: int) -> str:
    """« 📊 Question 1 : Êtes-vous favorable … ? »: the chart says which question it answers."""
    question = results.questions[number - 1]
    return _("📊 Question {number}: {prompt}").format(number=number, prompt=html.escape(question.prompt[:900]))


def opening_message(
    consultation: Consultation, tz: ZoneInfo, locale: str, default_locale: str, commune_name: str
) -> tuple[str, dict[str, Any]]:
    """The announcement of a consultation that opens, with a button to answer it."""
    lines = [
        _("🗳 <b>{title}</b>").format(title=html.escape(in_language(consultation.title, locale, default_locale))),
        _("A new consultation from {town_hall}.").format(town_hall=town_hall(commune_name)),
    ]
    if consultation.description:
        lines.append(html.escape(in_language(consultation.description, locale, default_locale)))
    lines.append(_("You can answer until {date}.").format(date=spoken_date(consultation.closes_at, tz, locale)))
    button = {"text": _("🗳 Answer"), "callback_data": PickConsultation(cid=consultation.id).pack()}
    return "sendMessage", {"text": "\n\n".join(lines), "reply_markup": {"inline_keyboard": [[button]]}}


def time_left(title: str, date: str, left: timedelta) -> str:
    """« Only a few hours left », with the real remaining time: under an hour, in hours, or in days."""
    hours = round(left.total_seconds() / 3600)
    count = hours
    if left < timedelta(hours=1):
        text = _("⏰ Less than an hour left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.")
    elif hours <= 1:
        text = _("⏰ Only one hour left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.")
    elif hours < 24:
        text = ngettext(
            "⏰ Only {count} hour left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.",
            "⏰ Only {count} hours left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.",
            hours,
        )
    elif round(hours / 24) <= 1:
        text = _("⏰ Only one day left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.")
    else:
        count = round(hours / 24)
        text = ngettext(
            "⏰ Only {count} day left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.",
            "⏰ Only {count} days left to give your opinion on “{title}” (closes on {date}). It takes 2 minutes.",
            count,
        )
    return text.format(count=count, title=title, date=date)


def reminder_message(
    consultation: Consultation, tz: ZoneInfo, locale: str, default_locale: str, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """The reminder before closing, with a button that opens the consultation where one stopped."""
    closes_at = consultation.closes_at if consultation.closes_at.tzinfo else consultation.closes_at.replace(tzinfo=UTC)
    text = time_left(
        html.escape(in_language(consultation.title, locale, default_locale)),
        spoken_date(consultation.closes_at, tz, locale),
        closes_at - (now or datetime.now(UTC)),
    )
    button = {"text": _("🗳 Answer now"), "callback_data": PickConsultation(cid=consultation.id).pack()}
    return "sendMessage", {"text": text, "reply_markup": {"inline_keyboard": [[button]]}}


# --- What officials read while publishing ---------------------------------------------------------


def refusal_text(reason: PublishRefusal) -> str:
    return {
        PublishRefusal.UNKNOWN: _("No consultation has this slug: choose it with /publish."),
        PublishRefusal.NOT_CLOSED: _("This consultation is not closed yet: its outcome can be published once it closes."),
        PublishRefusal.ALREADY_PUBLISHED: _(
            "The outcome of this consultation was already published. To add something, send a broadcast to its participants (/broadcast)."
        ),
        PublishRefusal.EMPTY: _("Please type the council’s decision as text."),
        PublishRefusal.TOO_LONG: _("The decision can be at most {limit} characters. Please shorten it.").format(
            limit=publication_domain.MAX_DECISION
        ),
    }[reason]


def ask_decision(consultation: Consultation) -> str:
    return _(
        "🏛 <b>{title}</b>\nType the council’s decision on this consultation, as residents will read it (at most {limit} characters). /cancel to stop."
    ).format(title=tr(consultation.title), limit=publication_domain.MAX_DECISION)


def cancelled() -> str:
    return _("Cancelled: nothing was published.")


def decision_as_text() -> str:
    return _("Please type the council’s decision as text. /cancel to stop.")


class PublishCallback(CallbackData, prefix="pb"):
    """Confirm (ok) or cancel (no) the publication of consultation `cid`."""

    action: str
    cid: int


def confirm_screen(count: int, consultation_id: int) -> Screen:
    return Screen(
        ngettext(
            "Above is the message (with one chart per question). It will be sent to {count} resident, in their language. Publish it?",
            "Above is the message (with one chart per question). It will be sent to {count} residents, each in their language. Publish it?",
            count,
        ).format(count=count),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("✅ Publish"), callback_data=PublishCallback(action="ok", cid=consultation_id).pack()
                    ),
                    InlineKeyboardButton(
                        text=_("✖️ Cancel"), callback_data=PublishCallback(action="no", cid=consultation_id).pack()
                    ),
                ]
            ]
        ),
    )


def published(count: int) -> str:
    return ngettext(
        "✅ Published: the outcome is on its way to {count} resident.",
        "✅ Published: the outcome is on its way to {count} residents.",
        count,
    ).format(count=count)
