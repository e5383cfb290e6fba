"""Consultations for officials: results and charts in the chat, native polls, and step-by-step creation.

Guarded by RequireRole(OFFICIAL) in handlers/__init__.py; every action is audited by the domain.
"""

from __future__ import annotations

import asyncio
import html
import re
import unicodedata
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import result_texts
from notices.consultations import queue_polls, tr, when
from notices.dates import date_refusal
from notices.labels import age_bracket_label
from notices.numbers import format_percent
from participation import audit, subscriptions
from participation import consultations as domain
from participation import results as results_module
from participation.consultation_file import InvalidConsultation, parse_consultation
from participation.dates import DateRefused, parse_moment
from storage.types import utcnow

router = Router(name=__name__)

SLUG_ARGUMENT = re.compile(r"^[a-z0-9-]{1,60}$")
MAX_TITLE = 200
MAX_PROMPT = 300  # also fits a native poll's question
MAX_CHOICE = 100


def _slug_argument(command: CommandObject) -> str | None:
    slug = (command.args or "").strip()
    return slug if SLUG_ARGUMENT.fullmatch(slug) else None


# --- Results ------------------------------------------------------------------------------------


def results_summary(results: results_module.Results, locale: str, group_label: Callable[[str, str], str] | None = None) -> str:
    """Raw and weighted figures side by side, in the reader's number format."""
    lines = [
        f"📊 <b>{html.escape(results.title)}</b>",
        _("Participation: {started} started, {finished} finished.").format(started=results.started, finished=results.finished),
    ]
    if results.by_neighbourhood:
        parts = [
            _("{neighbourhood}: {finished}/{started}").format(
                neighbourhood=html.escape(code) if code else _("not given"), finished=finished, started=started
            )
            for code, (started, finished) in results.by_neighbourhood.items()
        ]
        lines.append(_("By neighbourhood (finished/started): {list}").format(list=", ".join(parts)))
    if results.weighting is not None:
        lines.extend(result_texts.weighting_lines(results.weighting, locale, _, ngettext, group_label or (lambda _d, code: code)))
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


async def group_labeller(session: AsyncSession, locale: str) -> Callable[[str, str], str]:
    """Names of the population's groups in `locale`: neighbourhoods by their name, age brackets in words."""
    names = {item.code: subscriptions.localized(item.names, locale) for item in await subscriptions.list_neighbourhoods(session)}
    return lambda dimension, code: names.get(code, code) if dimension == "neighbourhood" else age_bracket_label(code)


def _chunks(text: str, size: int = 4000) -> list[str]:
    chunks, current = [], ""
    for line in text.split("\n"):
        if len(current) + len(line) + 1 > size:
            chunks.append(current)
            current = ""
        current += ("\n" if current else "") + line[:size]
    return [*chunks, current] if current else chunks


@router.message(Command("results"))
async def cmd_results(message: Message, command: CommandObject, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/results SLUG: counts, percentages and one chart per question."""
    slug = _slug_argument(command)
    if slug is None:
        await message.answer(_("Usage: /results SLUG (see the slugs with /consultations_admin)."))
        return
    consultation = await domain.get_by_slug(session, slug)
    if consultation is None:
        await message.answer(_("No consultation has the slug “{slug}”.").format(slug=html.escape(slug)))
        return
    results = await results_module.compute_results(
        session,
        consultation,
        locale=i18n.current_locale,
        default_locale=settings.default_locale,
        yes=_("Yes"),
        no=_("No"),
        other=_("Other"),
        with_responses=False,
    )
    locale = i18n.current_locale
    for chunk in _chunks(results_summary(results, locale, await group_labeller(session, locale))):
        await message.answer(chunk)
    footer = result_texts.chart_footer(results, locale, settings.tz, settings.commune_name, _, ngettext)
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
            await message.answer_photo(
                BufferedInputFile(png, filename=f"{slug}-{question.id}.png"),
                caption=_("Question {number}: {prompt}").format(number=number, prompt=html.escape(question.prompt[:900])),
            )


@router.message(Command("consultations_admin"))
async def cmd_list(message: Message, session: AsyncSession, settings: Settings) -> None:
    """/consultations_admin: every consultation with its status and participation."""
    rows = await domain.list_consultations(session)
    if not rows:
        await message.answer(_("No consultation yet. Create one with /newconsultation."))
        return
    names = {"draft": _("draft"), "scheduled": _("scheduled"), "open": _("open"), "closed": _("closed")}
    lines = [
        _("<code>{slug}</code> — {title} — {status}, {finished}/{started} finished").format(
            slug=row.consultation.slug,
            title=tr(row.consultation.title),
            status=names[row.status.value],
            finished=row.submitted,
            started=row.started,
        )
        for row in rows
    ]
    for chunk in _chunks("\n".join(lines)):
        await message.answer(chunk)


# --- Native polls -------------------------------------------------------------------------------


@router.message(Command("poll"))
async def cmd_poll(message: Message, command: CommandObject, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/poll SLUG: send a one-question consultation as a native poll to its audience."""
    slug = _slug_argument(command)
    consultation = await domain.get_by_slug(session, slug) if slug else None
    if consultation is None:
        await message.answer(_("Usage: /poll SLUG, for an open consultation of one question."))
        return
    refusal = domain.poll_refusal(consultation)
    if refusal is not None:
        await message.answer(
            {
                domain.PollRefusal.NOT_ONE_QUESTION: _("A native poll needs a consultation of exactly one question."),
                domain.PollRefusal.WRONG_TYPE: _(
                    "A native poll works for single, multiple and yes/no questions without “other”."
                ),
                domain.PollRefusal.NOT_OPEN: _("This consultation is not open: a poll can only be sent while it is."),
            }[refusal]
        )
        return
    queued = await queue_polls(session, consultation, i18n, settings)
    assert message.from_user is not None
    await audit.record(
        session,
        actor_telegram_id=message.from_user.id,
        source=audit.Source.CHAT,
        action="consultation.poll",
        subject=consultation.slug,
        detail={"recipients": queued},
    )
    await message.answer(
        ngettext(
            "📨 The poll is on its way to {count} resident.", "📨 The poll is on its way to {count} residents.", queued
        ).format(count=queued)
    )


# --- Step-by-step creation ----------------------------------------------------------------------


class NewConsultation(StatesGroup):
    title = State()
    qtype = State()
    prompt = State()
    choices = State()
    opens = State()
    closes = State()
    review = State()


class Build(CallbackData, prefix="nc"):
    a: str  # t question type · d done with questions · n open now · p publish · x cancel
    v: str = ""


TYPES = ("single", "multiple", "yesno", "scale", "text")


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
        rows.append([InlineKeyboardButton(text=_("✅ No more questions"), callback_data=Build(a="d").pack())])
    rows.append([InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Build(a="x").pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:50].strip("-")
    return slug or "consultation"


@router.message(Command("newconsultation"))
async def cmd_new(message: Message, state: FSMContext) -> None:
    """/newconsultation: create a simple consultation step by step."""
    await state.clear()
    await state.set_state(NewConsultation.title)
    await message.answer(_("🆕 New consultation. What is its title? (send /cancel to stop)"))


@router.message(Command("cancel", "annuler"), StateFilter(NewConsultation))
async def cmd_cancel(message: Message, state: FSMContext) -> None:
    """/cancel during creation."""
    await state.clear()
    await message.answer(_("Creation cancelled: nothing was saved."))


@router.message(StateFilter(NewConsultation.title), F.text)
async def on_title(message: Message, state: FSMContext) -> None:
    """The title typed."""
    title = (message.text or "").strip()
    if not title or len(title) > MAX_TITLE or title.startswith("/"):
        await message.answer(_("Please send a title of at most {max} characters.").format(max=MAX_TITLE))
        return
    await state.update_data(title=title, questions=[])
    await state.set_state(NewConsultation.qtype)
    await message.answer(_("What type is question 1?"), reply_markup=type_keyboard(with_done=False))


@router.callback_query(Build.filter(F.a == "t"), StateFilter(NewConsultation.qtype))
async def on_type(query: CallbackQuery, callback_data: Build, state: FSMContext) -> None:
    """A question type chosen."""
    if callback_data.v not in TYPES:
        await query.answer(_("This button is no longer valid."))
        return
    await state.update_data(current={"type": callback_data.v})
    await state.set_state(NewConsultation.prompt)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Type the question, as residents will read it."))


@router.message(StateFilter(NewConsultation.prompt), F.text)
async def on_prompt(message: Message, state: FSMContext) -> None:
    """The question typed."""
    prompt = (message.text or "").strip()
    if not prompt or len(prompt) > MAX_PROMPT or prompt.startswith("/"):
        await message.answer(_("Please send a question of at most {max} characters.").format(max=MAX_PROMPT))
        return
    data = await state.get_data()
    current = dict(data.get("current") or {})
    current["prompt"] = prompt
    if current.get("type") in ("single", "multiple"):
        await state.update_data(current=current)
        await state.set_state(NewConsultation.choices)
        await message.answer(_("Send the choices, one per line (2 to 10)."))
        return
    await _add_question(message, state, current)


@router.message(StateFilter(NewConsultation.choices), F.text)
async def on_choices(message: Message, state: FSMContext) -> None:
    """The choices typed, one per line."""
    labels = [line.strip() for line in (message.text or "").splitlines() if line.strip()]
    if not 2 <= len(labels) <= 10 or any(len(label) > MAX_CHOICE for label in labels) or len(set(labels)) != len(labels):
        await message.answer(
            _("Please send 2 to 10 different choices, one per line, of at most {max} characters each.").format(max=MAX_CHOICE)
        )
        return
    current = dict((await state.get_data()).get("current") or {})
    current["choices"] = labels
    await _add_question(message, state, current)


async def _add_question(message: Message, state: FSMContext, current: dict[str, Any]) -> None:
    data = await state.get_data()
    questions = [*data.get("questions", []), current]
    await state.update_data(questions=questions, current=None)
    await state.set_state(NewConsultation.qtype)
    await message.answer(
        _("Question {number} added. What type is the next one? Or tap “No more questions”.").format(number=len(questions)),
        reply_markup=type_keyboard(with_done=True),
    )


@router.callback_query(Build.filter(F.a == "d"), StateFilter(NewConsultation.qtype))
async def on_done(query: CallbackQuery, state: FSMContext) -> None:
    """No more questions: now the dates."""
    await query.answer()
    await state.set_state(NewConsultation.opens)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("When does it open? Type a date such as 2026-12-01 08:00, or tap “Now”."),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text=_("Now"), callback_data=Build(a="n").pack())]]
            ),
        )


@router.callback_query(Build.filter(F.a == "n"), StateFilter(NewConsultation.opens))
async def on_open_now(query: CallbackQuery, state: FSMContext) -> None:
    """Opens at once."""
    await query.answer()
    await state.update_data(opens_at=utcnow().isoformat())
    await state.set_state(NewConsultation.closes)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("When does it close? Type a date such as 2026-12-15 20:00."))


@router.message(StateFilter(NewConsultation.opens), F.text)
async def on_opens(message: Message, state: FSMContext, settings: Settings) -> None:
    """The opening date typed."""
    try:
        moment = parse_moment(message.text or "", settings.tz)
    except DateRefused as refused:
        await message.answer(date_refusal(refused))
        return
    await state.update_data(opens_at=moment.isoformat())
    await state.set_state(NewConsultation.closes)
    await message.answer(_("When does it close? Type a date such as 2026-12-15 20:00."))


@router.message(StateFilter(NewConsultation.closes), F.text)
async def on_closes(message: Message, state: FSMContext, session: AsyncSession, settings: Settings) -> None:
    """The closing date typed: the draft is saved and shown for review."""
    data = await state.get_data()
    try:
        moment = parse_moment(message.text or "", settings.tz)
    except DateRefused as refused:
        await message.answer(date_refusal(refused))
        return
    if moment <= max(datetime.fromisoformat(data["opens_at"]), datetime.now(settings.tz) + timedelta(minutes=1)):
        await message.answer(_("The closing date must be after the opening date, and in the future."))
        return
    slug = slugify(data["title"])
    candidate, number = slug, 2
    while (existing := await domain.get_by_slug(session, candidate)) is not None and existing.status != "draft":
        candidate, number = f"{slug}-{number}", number + 1
    definition = {
        "slug": candidate,
        "title": data["title"],
        "opens_at": data["opens_at"],
        "closes_at": moment.isoformat(),
        "questions": [_definition(i, q) for i, q in enumerate(data["questions"], start=1)],
    }
    assert message.from_user is not None
    try:
        spec = parse_consultation(definition, settings.default_locale, settings.tz)
        consultation, _outcome = await domain.import_consultation(
            session, spec, actor_telegram_id=message.from_user.id, source=audit.Source.CHAT, draft=True
        )
    except (InvalidConsultation, domain.ConsultationLocked):
        await message.answer(_("This consultation could not be saved. Please start again with /newconsultation."))
        await state.clear()
        return
    await state.set_state(NewConsultation.review)
    await state.update_data(cid=consultation.id)
    lines = [
        _("Please review the consultation:"),
        f"<b>{html.escape(data['title'])}</b> (<code>{candidate}</code>)",
        _("From {opens} to {closes}").format(
            opens=when(consultation.opens_at, settings), closes=when(consultation.closes_at, settings)
        ),
    ]
    for number, question in enumerate(data["questions"], start=1):
        lines.append(f"{number}. {html.escape(question['prompt'])} [{question['type']}]")
        for label in question.get("choices", []):
            lines.append(f"   • {html.escape(label)}")
    await message.answer(
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("📢 Publish"), callback_data=Build(a="p").pack())],
                [InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=Build(a="x").pack())],
            ]
        ),
    )


def _definition(number: int, question: dict[str, Any]) -> dict[str, Any]:
    """A question typed in the chat, in the file format (validated like a file)."""
    item: dict[str, Any] = {"id": f"q{number}", "type": question["type"], "prompt": question["prompt"]}
    if question["type"] in ("single", "multiple"):
        item["choices"] = [{"id": f"c{i}", "label": label} for i, label in enumerate(question["choices"], start=1)]
    if question["type"] == "scale":
        item.update({"min": 1, "max": 5})
    return item


@router.callback_query(Build.filter(F.a == "p"), StateFilter(NewConsultation.review))
async def on_publish(query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings) -> None:
    """Publish the reviewed draft: it opens at its time."""
    data = await state.get_data()
    consultation = await domain.get_consultation(session, int(data.get("cid", 0)))
    if consultation is None or not await domain.publish(
        session, consultation, actor_telegram_id=query.from_user.id, source=audit.Source.CHAT
    ):
        await query.answer(_("This button is no longer valid."))
        return
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("📢 Published! Residents can answer from {date}. Deep link payload: <code>c_{slug}</code>").format(
                date=when(consultation.opens_at, settings), slug=consultation.slug
            )
        )


@router.callback_query(Build.filter(F.a == "x"))
async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel during creation (the draft, if saved, stays unpublished)."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(_("Creation cancelled: nothing was published."))


@router.message(StateFilter(NewConsultation))
async def on_unexpected(message: Message) -> None:
    """A sticker, photo… during creation."""
    await message.answer(_("Please answer with text or the buttons (or send /cancel to stop)."))
