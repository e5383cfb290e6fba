"""What officials read about consultations in the chat: the picker, results, polls and the step-by-step creation."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import result_texts
from notices.consultations import current_locale, tr, when
from notices.labels import age_bracket_label
from notices.numbers import format_percent
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation import consultations as domain
from participation import results as results_module
from participation import subscriptions
from participation.languages import in_language
from storage.models import Consultation

PAGE_SIZE = 8  # consultations per picker page: more buttons make the keyboard hard to read on a phone


class PickFor(CallbackData, prefix="pk"):
    """A consultation chosen from the picker: a r results · p publish · o poll; cid 0 with `page` turns the page."""

    a: str
    cid: int = 0
    page: int = 0


class Build(CallbackData, prefix="nc"):
    a: str  # t question type · d done with questions · l add a language · s skip it · n open now · p publish · x cancel
    v: str = ""


TYPES = ("single", "multiple", "yesno", "scale", "text")


def status_name(status: domain.Status) -> str:
    return {
        domain.Status.DRAFT: _("draft"),
        domain.Status.SCHEDULED: _("scheduled"),
        domain.Status.OPEN: _("open"),
        domain.Status.CLOSED: _("closed"),
    }[status]


# --- Choosing a consultation --------------------------------------------------------------------


def pickable(rows: Sequence[domain.ConsultationRow], action: str) -> list[domain.ConsultationRow]:
    """The consultations that make sense for `action`, newest first (as listed)."""
    wanted = {
        "r": (domain.Status.SCHEDULED, domain.Status.OPEN, domain.Status.CLOSED),
        "p": (domain.Status.CLOSED,),
        "o": (domain.Status.OPEN,),
    }[action]
    return [row for row in rows if row.status in wanted]


def picker(rows: Sequence[domain.ConsultationRow], action: str, page: int = 0) -> Screen:
    """« Which consultation? » with one button per consultation (title, status), PAGE_SIZE at a time."""
    if not rows:
        return Screen(
            {
                "r": _("No consultation has started yet. Create one with /newconsultation."),
                "p": _("No consultation is closed yet: an outcome can be published once it closes."),
                "o": _("No consultation is open: a poll can only be sent while one is."),
            }[action]
        )
    pages = (len(rows) - 1) // PAGE_SIZE + 1
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    buttons = [
        [
            InlineKeyboardButton(
                text=_("{title} ({status})").format(title=_plain(row.consultation.title)[:50], status=status_name(row.status)),
                callback_data=PickFor(a=action, cid=row.consultation.id or 0).pack(),
            )
        ]
        for row in shown
    ]
    turns = []
    if page > 0:
        turns.append(InlineKeyboardButton(text=_("⬅️ Newer"), callback_data=PickFor(a=action, page=page - 1).pack()))
    if page < pages - 1:
        turns.append(InlineKeyboardButton(text=_("Older ➡️"), callback_data=PickFor(a=action, page=page + 1).pack()))
    if turns:
        buttons.append(turns)
    text = _("Which consultation?")
    if pages > 1:
        text += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    return Screen(text, InlineKeyboardMarkup(inline_keyboard=buttons))


def _plain(text: dict[str, str] | None) -> str:
    """A consultation's title for a button: buttons show text as it is, without HTML."""
    return html.unescape(tr(text))


def unknown_slug(slug: str) -> str:
    return _("No consultation has the slug “{slug}”.").format(slug=html.escape(slug))


# --- Results --------------------------------------------------------------------------------------


async def group_labeller(session: AsyncSession, locale: str) -> Callable[[str, str], str]:
    """Names of the population's groups in `locale`: neighbourhoods by their name, age brackets in words."""
    names = {item.code: in_language(item.names, locale) for item in await subscriptions.list_neighbourhoods(session)}
    return lambda dimension, code: names.get(code, code) if dimension == "neighbourhood" else age_bracket_label(code)


def results_summary(results: results_module.Results, locale: str, group_label: Callable[[str, str], str] | None = None) -> str:
    """Raw and weighted figures side by side, in the reader's number format."""
    label = group_label or (lambda _dimension, code: code)
    lines = [
        f"📊 <b>{html.escape(results.title)}</b>",
        _("Participation: {started} started, {finished} finished.").format(started=results.started, finished=results.finished),
    ]
    if results.by_neighbourhood:
        parts = [
            _("{neighbourhood} {finished}/{started}").format(
                neighbourhood=html.escape(label("neighbourhood", code)) if code else _("not given"),
                finished=finished,
                started=started,
            )
            for code, (started, finished) in results.by_neighbourhood.items()
        ]
        lines.append(_("By neighbourhood (complete answers / started): {list}").format(list=" · ".join(parts)))
    if results.weighting is not None:
        lines.extend(result_texts.weighting_lines(results.weighting, locale, _, ngettext, label))
    for number, question in enumerate(results.questions, start=1):
        lines.append("")
        lines.append(
            f"<b>{number}. {html.escape(question.prompt)}</b> "
            + ngettext("({count} answer)", "({count} answers)", question.answered).format(count=question.answered)
        )
        lines.extend(result_texts.question_lines(question, locale, _))
        for text in question.texts[:20]:
            lines.append(f"« {html.escape(text[:200])} »")
        if len(question.texts) > 20:
            lines.append(_("… and {count} more: see the export.").format(count=len(question.texts) - 20))
    return "\n".join(lines)


def chart_caption(number: int, prompt: str) -> str:
    return _("Question {number}: {prompt}").format(number=number, prompt=html.escape(prompt[:900]))


def chunks(text: str, size: int = 4000) -> list[str]:
    """A long text cut at line ends into messages Telegram accepts."""
    parts, current = [], ""
    for line in text.split("\n"):
        if len(current) + len(line) + 1 > size:
            parts.append(current)
            current = ""
        current += ("\n" if current else "") + line[:size]
    return [*parts, current] if current else parts


def consultations_list(rows: Sequence[domain.ConsultationRow]) -> str:
    if not rows:
        return _("No consultation yet. Create one with /newconsultation.")
    return "\n".join(
        _("<code>{slug}</code> — {title} — {status}, {finished}/{started} finished").format(
            slug=row.consultation.slug,
            title=tr(row.consultation.title),
            status=status_name(row.status),
            finished=row.submitted,
            started=row.started,
        )
        for row in rows
    )


# --- Native polls ---------------------------------------------------------------------------------


def poll_usage() -> str:
    return _("Usage: /poll SLUG, for an open consultation of one question.")


def poll_refusal(refusal: domain.PollRefusal) -> str:
    return {
        domain.PollRefusal.NOT_ONE_QUESTION: _("A native poll needs a consultation of exactly one question."),
        domain.PollRefusal.WRONG_TYPE: _("A native poll works for single, multiple and yes/no questions without “other”."),
        domain.PollRefusal.NOT_OPEN: _("This consultation is not open: a poll can only be sent while it is."),
    }[refusal]


def poll_queued(count: int) -> str:
    return ngettext(
        "📨 The poll is on its way to {count} resident.", "📨 The poll is on its way to {count} residents.", count
    ).format(count=count)


# --- Step-by-step creation ------------------------------------------------------------------------


def kind_name(kind: str) -> str:
    """A question's type in plain words, as officials read it in the review."""
    return {
        "single": _("one choice"),
        "multiple": _("several choices"),
        "yesno": _("yes or no"),
        "scale": _("scale from 1 to 5"),
        "text": _("free text"),
    }.get(kind, kind)


def type_keyboard(with_done: bool) -> InlineKeyboardMarkup:
    names = {
        "single": _("One choice"),
        "multiple": _("Several choices"),
        "yesno": _("Yes / no"),
        "scale": _("Scale 1–5"),
        "text": _("Free text"),
    }
    rows = [[InlineKeyboardButton(text=names[t], callback_data=Build(a="t", v=t).pack())] for t in TYPES]
    if with_done:
        rows.append([InlineKeyboardButton(text=_("✅ Finish (no other question)"), callback_data=Build(a="d").pack())])
    rows.append([InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Build(a="x").pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def ask_title() -> str:
    return _("🆕 New consultation. What is its title? (send /cancel to stop)")


def creation_cancelled() -> str:
    return _("Creation cancelled: nothing was saved.")


def bad_title(limit: int) -> str:
    return _("Please send a title of at most {max} characters.").format(max=limit)


def first_type() -> Screen:
    return Screen(_("What type is question 1?"), type_keyboard(with_done=False))


def ask_prompt() -> str:
    return _("Type the question, as residents will read it.")


def bad_prompt(limit: int) -> str:
    return _("Please send a question of at most {max} characters.").format(max=limit)


def ask_choices() -> str:
    return _("Send the choices, one per line (2 to 10).")


def bad_choices(limit: int) -> str:
    return _("Please send 2 to 10 different choices, one per line, of at most {max} characters each.").format(max=limit)


def question_added(number: int) -> Screen:
    return Screen(
        _("Question {number} added. What type is the next one? Or tap “Finish”.").format(number=number),
        type_keyboard(with_done=True),
    )


def ask_opening() -> Screen:
    return Screen(
        _("When does it open? Type a date such as 2026-12-01 08:00, or tap “Now”."),
        InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=_("Now"), callback_data=Build(a="n").pack())]]),
    )


def ask_closing() -> str:
    return _("When does it close? Type a date such as 2026-12-15 20:00.")


def closing_too_early() -> str:
    return _("The closing date must be after the opening date, and in the future.")


def not_saved() -> str:
    return _("This consultation could not be saved. Please start again with /newconsultation.")


def review(
    title: str,
    slug: str,
    opens_at: datetime,
    closes_at: datetime,
    questions: list[dict[str, Any]],
    settings: Settings,
    languages: Sequence[str] = (),
) -> Screen:
    """The draft as typed (in the default language), question kinds in plain words, with « Publish » and « Cancel »."""
    lines = [
        _("Please review the consultation:"),
        f"<b>{html.escape(title)}</b> (<code>{slug}</code>)",
        _("From {opens} to {closes}").format(opens=when(opens_at, settings), closes=when(closes_at, settings)),
    ]
    if len(languages) > 1:
        lines.append(languages_line(languages, current_locale()))
    for number, question in enumerate(questions, start=1):
        lines.append(f"{number}. {html.escape(question['prompt'])} [{kind_name(question['type'])}]")
        for label in question.get("choices", []):
            lines.append(f"   • {html.escape(label)}")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=_("📢 Publish"), callback_data=Build(a="p").pack())],
            [InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Build(a="x").pack())],
        ]
    )
    return Screen("\n".join(lines), keyboard)


def published(slug: str, opens_at: datetime, bot_username: str | None, settings: Settings) -> str:
    """After publishing: the full link to share and how to print the poster."""
    link = f"https://t.me/{bot_username}?start=c_{slug}" if bot_username else f"c_{slug}"
    return _(
        "📢 Published! Residents can answer from {date}.\n"
        "Link to share: {link}\n"
        "Poster to print (with its QR code): <code>palabre qr {slug} --output poster.pdf</code> on the server."
    ).format(date=when(opens_at, settings), link=link, slug=slug)


def publication_cancelled() -> str:
    return _("Creation cancelled: nothing was published.")


def text_or_buttons() -> str:
    return _("Please answer with text or the buttons (or send /cancel to stop).")


@dataclass(frozen=True)
class Chart:
    png: bytes
    filename: str
    caption: str


async def results_for_official(
    session: AsyncSession, consultation: Consultation, locale: str, settings: Settings
) -> tuple[list[str], list[Chart]]:
    """/results in the current locale: the summary (cut into messages) and one captioned chart per question."""
    results = await results_module.compute_results(
        session,
        consultation,
        locale=locale,
        default_locale=settings.default_locale,
        yes=_("Yes"),
        no=_("No"),
        other=_("Other"),
        with_responses=False,
    )
    texts = chunks(results_summary(results, locale, await group_labeller(session, locale)))
    footer = result_texts.chart_footer(results, locale, settings.tz, settings.commune_name, _, ngettext)
    charts = []
    for number, question in enumerate(results.questions, start=1):
        png = await asyncio.to_thread(
            results_module.chart_png,
            question,
            caption=result_texts.chart_axis_label(question, _),
            format_share=lambda share: format_percent(share, locale),
            weighted_word=_("weighted"),
            note=result_texts.question_note(question, _),
            footer=footer,
        )
        if png is not None:
            charts.append(Chart(png, f"{consultation.slug}-{question.id}.png", chart_caption(number, question.prompt)))
    return texts, charts


# --- Other languages of a consultation created in the chat ----------------------------------------


def language_name(code: str, locale: str) -> str:
    """A language named in the reader's language (« anglais », "French")."""
    return Locale.parse(code).get_display_name(locale) or code


def offer_language(code: str, locale: str) -> Screen:
    """After the questions: add the version residents read in `code`, or skip it."""
    name = language_name(code, locale)
    return Screen(
        _(
            "Some residents read Palabre in {language}. Add the {language} version of the title and questions? "
            "Residents who read another language see the original."
        ).format(language=name),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=_("➕ Add the {language} version").format(language=name), callback_data=Build(a="l", v=code).pack()
                    )
                ],
                [InlineKeyboardButton(text=_("Skip ➡️"), callback_data=Build(a="s", v=code).pack())],
            ]
        ),
    )


def ask_translation(kind: str, number: int, original: str, code: str, locale: str) -> str:
    """One text to translate: the title, a question, or a question's choices (one per line)."""
    name = language_name(code, locale)
    original = html.escape(original)
    if kind == "title":
        text = _("Title in {language}:\n<i>{original}</i>").format(language=name, original=original)
    elif kind == "prompt":
        text = _("Question {number} in {language}:\n<i>{original}</i>").format(number=number, language=name, original=original)
    else:
        text = _("Choices of question {number} in {language}, one per line, in the same order:\n<i>{original}</i>").format(
            number=number, language=name, original=original
        )
    return text + "\n" + _("(/skip keeps the original for this one)")


def bad_translation(limit: int) -> str:
    return _("Please send a text of at most {max} characters (or /skip).").format(max=limit)


def bad_choice_translation(count: int) -> str:
    return ngettext(
        "Please send {count} choice, in the same order (or /skip).",
        "Please send {count} choices, one per line, in the same order (or /skip).",
        count,
    ).format(count=count)


def languages_line(codes: Sequence[str], locale: str) -> str:
    return _("Languages: {languages}").format(languages=", ".join(language_name(code, locale) for code in codes))
