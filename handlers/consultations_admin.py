"""Consultations for officials: results and charts in the chat, native polls, and step-by-step creation.

Guarded by RequireRole(OFFICIAL) in handlers/__init__.py; every action is audited by the domain.
A consultation is chosen from buttons (notices/consultations_admin.py), or typed after the command.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import consultations_admin as screens
from notices.consultations import queue_polls
from notices.consultations_admin import TYPES, Build, PickFor
from notices.dates import date_refusal
from participation import audit
from participation import consultations as domain
from participation.consultation_file import InvalidConsultation, parse_consultation
from participation.dates import DateRefused, parse_moment
from storage.models import Consultation
from storage.types import utcnow

router = Router(name=__name__)

SLUG_ARGUMENT = re.compile(r"^[a-z0-9-]{1,60}$")
MAX_TITLE = 200
MAX_PROMPT = 300  # also fits a native poll's question
MAX_CHOICE = 100
PICK_ACTIONS = ("r", "p", "o")  # results, publish (handlers/publication.py), poll


def _slug_argument(command: CommandObject) -> str | None:
    slug = (command.args or "").strip()
    return slug if SLUG_ARGUMENT.fullmatch(slug) else None


async def show_picker(message: Message, session: AsyncSession, action: str, page: int = 0) -> None:
    """« Which consultation? » for `action`, answered to `message`."""
    screen = screens.picker(screens.pickable(await domain.list_consultations(session), action), action, page)
    await message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(PickFor.filter(F.cid == 0))
async def on_pick_page(query: CallbackQuery, callback_data: PickFor, session: AsyncSession) -> None:
    """« Older » / « Newer » in a picker: the same message shows the next page."""
    if callback_data.a not in PICK_ACTIONS:
        await query.answer(screens.stale_button())
        return
    rows = screens.pickable(await domain.list_consultations(session), callback_data.a)
    screen = screens.picker(rows, callback_data.a, callback_data.page)
    await query.answer()
    if isinstance(query.message, Message):
        # The same page tapped twice: Telegram refuses an edit that changes nothing, and nothing needs to change.
        with suppress(TelegramBadRequest):
            await query.message.edit_text(screen.text, reply_markup=screen.reply_markup)


async def picked(query: CallbackQuery, callback_data: PickFor, session: AsyncSession) -> Consultation | None:
    """The consultation a picker's button names, its keyboard removed; None (and a polite toast) when forged or gone."""
    consultation = await domain.get_consultation(session, callback_data.cid) if 0 < callback_data.cid < 2**53 else None
    if consultation is None or consultation.status == domain.Status.DRAFT:
        await query.answer(screens.stale_button())
        return None
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    return consultation


# --- Results ------------------------------------------------------------------------------------


@router.message(Command("results"))
async def cmd_results(message: Message, command: CommandObject, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/results [SLUG]: counts, percentages and one chart per question; without a slug, a consultation is picked."""
    if not (command.args or "").strip():
        await show_picker(message, session, "r")
        return
    slug = _slug_argument(command)
    consultation = await domain.get_by_slug(session, slug) if slug else None
    if consultation is None:
        await message.answer(screens.unknown_slug((command.args or "").strip()[:60]))
        return
    await send_results(message, consultation, session, i18n, settings)


@router.callback_query(PickFor.filter(F.a == "r"))
async def on_pick_results(
    query: CallbackQuery, callback_data: PickFor, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """A consultation picked for /results."""
    consultation = await picked(query, callback_data, session)
    if consultation is not None and isinstance(query.message, Message):
        await send_results(query.message, consultation, session, i18n, settings)


async def send_results(
    message: Message, consultation: Consultation, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    texts, charts = await screens.results_for_official(session, consultation, i18n.current_locale, settings)
    for text in texts:
        await message.answer(text)
    for chart in charts:
        await message.answer_photo(BufferedInputFile(chart.png, filename=chart.filename), caption=chart.caption)


@router.message(Command("consultations_admin"))
async def cmd_list(message: Message, session: AsyncSession) -> None:
    """/consultations_admin: every consultation with its status and participation."""
    for chunk in screens.chunks(screens.consultations_list(await domain.list_consultations(session))):
        await message.answer(chunk)


# --- Native polls -------------------------------------------------------------------------------


@router.message(Command("poll"))
async def cmd_poll(message: Message, command: CommandObject, session: AsyncSession, i18n: I18n, settings: Settings) -> None:
    """/poll [SLUG]: send a one-question consultation as a native poll to its audience."""
    if not (command.args or "").strip():
        await show_picker(message, session, "o")
        return
    slug = _slug_argument(command)
    consultation = await domain.get_by_slug(session, slug) if slug else None
    if consultation is None:
        await message.answer(screens.poll_usage())
        return
    assert message.from_user is not None
    await message.answer(await send_poll(session, consultation, message.from_user.id, i18n, settings))


@router.callback_query(PickFor.filter(F.a == "o"))
async def on_pick_poll(
    query: CallbackQuery, callback_data: PickFor, session: AsyncSession, i18n: I18n, settings: Settings
) -> None:
    """A consultation picked for /poll."""
    consultation = await picked(query, callback_data, session)
    if consultation is not None and isinstance(query.message, Message):
        await query.message.answer(await send_poll(session, consultation, query.from_user.id, i18n, settings))


async def send_poll(session: AsyncSession, consultation: Consultation, actor: int, i18n: I18n, settings: Settings) -> str:
    """Queue the poll (audited) and say to how many, or why not."""
    refusal = domain.poll_refusal(consultation)
    if refusal is not None:
        return screens.poll_refusal(refusal)
    queued = await queue_polls(session, consultation, i18n, settings)
    await audit.record(
        session,
        actor_telegram_id=actor,
        source=audit.Source.CHAT,
        action="consultation.poll",
        subject=consultation.slug,
        detail={"recipients": queued},
    )
    return screens.poll_queued(queued)


@router.callback_query(PickFor.filter(F.a.func(lambda action: action not in PICK_ACTIONS)))
async def on_pick_other(query: CallbackQuery) -> None:
    """A picker's button for an action that does not exist: forged (« p » is handled by handlers/publication.py)."""
    await query.answer(screens.stale_button())


# --- Step-by-step creation ----------------------------------------------------------------------


class NewConsultation(StatesGroup):
    title = State()
    qtype = State()
    prompt = State()
    choices = State()
    language = State()
    translation = State()
    opens = State()
    closes = State()
    review = State()


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:50].strip("-")
    return slug or "consultation"


@router.message(Command("newconsultation"))
async def cmd_new(message: Message, state: FSMContext) -> None:
    """/newconsultation: create a simple consultation step by step."""
    await state.clear()
    await state.set_state(NewConsultation.title)
    await message.answer(screens.ask_title())


@router.message(Command("cancel", "annuler"), StateFilter(NewConsultation))
async def cmd_cancel(message: Message, state: FSMContext) -> None:
    """/cancel during creation."""
    await state.clear()
    await message.answer(screens.creation_cancelled())


@router.message(StateFilter(NewConsultation.title), F.text)
async def on_title(message: Message, state: FSMContext) -> None:
    """The title typed."""
    title = (message.text or "").strip()
    if not title or len(title) > MAX_TITLE or title.startswith("/"):
        await message.answer(screens.bad_title(MAX_TITLE))
        return
    await state.update_data(title=title, questions=[])
    await state.set_state(NewConsultation.qtype)
    screen = screens.first_type()
    await message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(Build.filter(F.a == "t"), StateFilter(NewConsultation.qtype))
async def on_type(query: CallbackQuery, callback_data: Build, state: FSMContext) -> None:
    """A question type chosen."""
    if callback_data.v not in TYPES:
        await query.answer(screens.stale_button())
        return
    await state.update_data(current={"type": callback_data.v})
    await state.set_state(NewConsultation.prompt)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.ask_prompt())


@router.message(StateFilter(NewConsultation.prompt), F.text)
async def on_prompt(message: Message, state: FSMContext) -> None:
    """The question typed."""
    prompt = (message.text or "").strip()
    if not prompt or len(prompt) > MAX_PROMPT or prompt.startswith("/"):
        await message.answer(screens.bad_prompt(MAX_PROMPT))
        return
    data = await state.get_data()
    current = dict(data.get("current") or {})
    current["prompt"] = prompt
    if current.get("type") in ("single", "multiple"):
        await state.update_data(current=current)
        await state.set_state(NewConsultation.choices)
        await message.answer(screens.ask_choices())
        return
    await _add_question(message, state, current)


@router.message(StateFilter(NewConsultation.choices), F.text)
async def on_choices(message: Message, state: FSMContext) -> None:
    """The choices typed, one per line."""
    labels = [line.strip() for line in (message.text or "").splitlines() if line.strip()]
    if not 2 <= len(labels) <= 10 or any(len(label) > MAX_CHOICE for label in labels) or len(set(labels)) != len(labels):
        await message.answer(screens.bad_choices(MAX_CHOICE))
        return
    current = dict((await state.get_data()).get("current") or {})
    current["choices"] = labels
    await _add_question(message, state, current)


async def _add_question(message: Message, state: FSMContext, current: dict[str, Any]) -> None:
    data = await state.get_data()
    questions = [*data.get("questions", []), current]
    await state.update_data(questions=questions, current=None)
    await state.set_state(NewConsultation.qtype)
    screen = screens.question_added(len(questions))
    await message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(Build.filter(F.a == "d"), StateFilter(NewConsultation.qtype))
async def on_done(query: CallbackQuery, state: FSMContext, i18n: I18n, settings: Settings) -> None:
    """No more questions: the other languages residents read, then the dates."""
    await query.answer()
    others = sorted(code for code in i18n.available_locales if code != settings.default_locale)
    await state.update_data(pending_languages=others, translations={})
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _next_language(query.message, state, i18n)


async def _next_language(message: Message, state: FSMContext, i18n: I18n) -> None:
    """Offer the next language not yet offered, or go on to the dates."""
    pending = list((await state.get_data()).get("pending_languages") or [])
    if not pending:
        await state.set_state(NewConsultation.opens)
        screen = screens.ask_opening()
        await message.answer(screen.text, reply_markup=screen.reply_markup)
        return
    await state.update_data(pending_languages=pending[1:], language=pending[0])
    await state.set_state(NewConsultation.language)
    screen = screens.offer_language(pending[0], i18n.current_locale)
    await message.answer(screen.text, reply_markup=screen.reply_markup)


def _steps(questions: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """What a translation asks for, in order: the title, then each question and its choices."""
    steps = [("title", 0)]
    for number, question in enumerate(questions, start=1):
        steps.append(("prompt", number))
        if question.get("choices"):
            steps.append(("choices", number))
    return steps


def _original(data: dict[str, Any], kind: str, number: int) -> str:
    if kind == "title":
        return str(data["title"])
    question = data["questions"][number - 1]
    return str(question["prompt"]) if kind == "prompt" else "\n".join(question["choices"])


async def _ask_step(message: Message, state: FSMContext, i18n: I18n) -> None:
    """Ask for the current text in the language being added, or offer the next language when all are done."""
    data = await state.get_data()
    steps = _steps(data["questions"])
    index = int(data.get("step", 0))
    if index >= len(steps):
        await _next_language(message, state, i18n)
        return
    kind, number = steps[index]
    await message.answer(
        screens.ask_translation(kind, number, _original(data, kind, number), data["language"], i18n.current_locale)
    )


@router.callback_query(Build.filter(F.a == "l"), StateFilter(NewConsultation.language))
async def on_add_language(query: CallbackQuery, callback_data: Build, state: FSMContext, i18n: I18n) -> None:
    """« Add the English version »: the title and each question, one message at a time."""
    data = await state.get_data()
    if callback_data.v != data.get("language"):
        await query.answer(screens.stale_button())
        return
    await state.update_data(step=0)
    await state.set_state(NewConsultation.translation)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _ask_step(query.message, state, i18n)


@router.callback_query(Build.filter(F.a == "s"), StateFilter(NewConsultation.language))
async def on_skip_language(query: CallbackQuery, callback_data: Build, state: FSMContext, i18n: I18n) -> None:
    """« Skip »: residents of that language will read the original."""
    if callback_data.v != (await state.get_data()).get("language"):
        await query.answer(screens.stale_button())
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await _next_language(query.message, state, i18n)


@router.message(StateFilter(NewConsultation.translation), Command("skip", "passer"))
async def cmd_skip_translation(message: Message, state: FSMContext, i18n: I18n) -> None:
    """/skip (/passer): this text keeps its original wording in that language."""
    await state.update_data(step=int((await state.get_data()).get("step", 0)) + 1)
    await _ask_step(message, state, i18n)


@router.message(StateFilter(NewConsultation.translation), F.text)
async def on_translation(message: Message, state: FSMContext, i18n: I18n) -> None:
    """One text in the language being added."""
    data = await state.get_data()
    kind, number = _steps(data["questions"])[int(data.get("step", 0))]
    typed = (message.text or "").strip()
    translations: dict[str, Any] = dict(data.get("translations") or {})
    mine: dict[str, Any] = dict(translations.get(data["language"]) or {})
    if kind == "choices":
        expected = len(data["questions"][number - 1]["choices"])
        labels = [line.strip() for line in typed.splitlines() if line.strip()]
        if len(labels) != expected or any(len(label) > MAX_CHOICE for label in labels) or typed.startswith("/"):
            await message.answer(screens.bad_choice_translation(expected))
            return
        mine[f"choices{number}"] = labels
    else:
        limit = MAX_TITLE if kind == "title" else MAX_PROMPT
        if not typed or len(typed) > limit or typed.startswith("/"):
            await message.answer(screens.bad_translation(limit))
            return
        mine["title" if kind == "title" else f"prompt{number}"] = typed
    translations[data["language"]] = mine
    await state.update_data(translations=translations, step=int(data.get("step", 0)) + 1)
    await _ask_step(message, state, i18n)


@router.callback_query(Build.filter(F.a == "n"), StateFilter(NewConsultation.opens))
async def on_open_now(query: CallbackQuery, state: FSMContext) -> None:
    """Opens at once."""
    await query.answer()
    await state.update_data(opens_at=utcnow().isoformat())
    await state.set_state(NewConsultation.closes)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.ask_closing())


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
    await message.answer(screens.ask_closing())


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
        await message.answer(screens.closing_too_early())
        return
    slug = slugify(data["title"])
    candidate, number = slug, 2
    while (existing := await domain.get_by_slug(session, candidate)) is not None and existing.status != "draft":
        candidate, number = f"{slug}-{number}", number + 1
    translations: dict[str, dict[str, Any]] = data.get("translations") or {}
    definition = {
        "slug": candidate,
        "title": _in_languages(data["title"], "title", translations, settings.default_locale),
        "opens_at": data["opens_at"],
        "closes_at": moment.isoformat(),
        "questions": [_definition(i, q, translations, settings.default_locale) for i, q in enumerate(data["questions"], start=1)],
    }
    assert message.from_user is not None
    try:
        spec = parse_consultation(definition, settings.default_locale, settings.tz)
        consultation, _outcome = await domain.import_consultation(
            session, spec, actor_telegram_id=message.from_user.id, source=audit.Source.CHAT, draft=True
        )
    except (InvalidConsultation, domain.ConsultationLocked):
        await message.answer(screens.not_saved())
        await state.clear()
        return
    await state.set_state(NewConsultation.review)
    await state.update_data(cid=consultation.id)
    languages = [settings.default_locale, *sorted(code for code, texts in translations.items() if texts)]
    screen = screens.review(
        data["title"], candidate, consultation.opens_at, consultation.closes_at, data["questions"], settings, languages
    )
    await message.answer(screen.text, reply_markup=screen.reply_markup)


def _in_languages(original: str, key: str, translations: dict[str, dict[str, Any]], default_locale: str) -> dict[str, str]:
    """A text in the default language and in each language it was given in (the file format's mapping)."""
    return {default_locale: original} | {code: texts[key] for code, texts in translations.items() if key in texts}


def _definition(
    number: int, question: dict[str, Any], translations: dict[str, dict[str, Any]], default_locale: str
) -> dict[str, Any]:
    """A question typed in the chat, in the file format (validated like a file), with its other languages."""
    prompt = _in_languages(question["prompt"], f"prompt{number}", translations, default_locale)
    item: dict[str, Any] = {"id": f"q{number}", "type": question["type"], "prompt": prompt}
    if question["type"] in ("single", "multiple"):
        given = {code: texts[f"choices{number}"] for code, texts in translations.items() if f"choices{number}" in texts}
        item["choices"] = [
            {"id": f"c{i}", "label": {default_locale: label} | {code: labels[i - 1] for code, labels in given.items()}}
            for i, label in enumerate(question["choices"], start=1)
        ]
    if question["type"] == "scale":
        item.update({"min": 1, "max": 5})
    return item


@router.callback_query(Build.filter(F.a == "p"), StateFilter(NewConsultation.review))
async def on_publish(query: CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings, bot: Bot) -> None:
    """Publish the reviewed draft: it opens at its time."""
    data = await state.get_data()
    consultation = await domain.get_consultation(session, int(data.get("cid", 0)))
    if consultation is None or not await domain.publish(
        session, consultation, actor_telegram_id=query.from_user.id, source=audit.Source.CHAT
    ):
        await query.answer(screens.stale_button())
        return
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        me = await bot.me()
        await query.message.answer(screens.published(consultation.slug, consultation.opens_at, me.username, settings))


@router.callback_query(Build.filter(F.a == "x"))
async def on_cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Cancel during creation (the draft, if saved, stays unpublished)."""
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(screens.publication_cancelled())


@router.message(StateFilter(NewConsultation))
async def on_unexpected(message: Message) -> None:
    """A sticker, photo… during creation."""
    await message.answer(screens.text_or_buttons())
