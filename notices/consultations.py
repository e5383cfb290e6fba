"""Consultations as people receive them: their own texts in a language, dates, the list, each question's
screen and the summary, the words of every refusal, and the native polls queued to residents."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices.labels import capitalized, spoken_date, town_hall
from notices.locales import recipient_locale
from notices.screens import Screen, stale_button
from participation import consultations as domain
from participation import outbox
from participation.consultations import OpenConsultation, Refusal, Refused, ResponseStatus, ResponseView
from participation.consultations.questions import OTHER, Input, Option, Question, Word
from participation.languages import in_language
from storage.models import Consultation


def current_locale() -> str:
    return get_i18n().current_locale


def fallback_locale() -> str:
    return get_i18n().default_locale


def tr(text: dict[str, str] | None) -> str:
    """A consultation's own text in the resident's language, escaped for HTML."""
    return html.escape(in_language(text, current_locale(), fallback_locale()))


def when(moment: datetime, settings: Settings) -> str:
    return spoken_date(moment, settings.tz, current_locale())


async def queue_polls(session: AsyncSession, consultation: Consultation, i18n: I18n, settings: Settings) -> int:
    """Queue one native poll per resident of the audience, in each one's language, after a line
    saying who asks, until when, and who sees the vote (a bare poll looks like spam)."""
    default_locale = settings.default_locale
    question = domain.questions_of(consultation)[0]
    count = 0
    for resident in await domain.poll_audience(session, consultation):
        locale = recipient_locale(resident, i18n)
        with i18n.use_locale(locale):
            intro = _(
                "🗳 {town_hall} asks you: “{title}”. You can answer until {date}.\n"
                "Your vote is seen by the town hall, not by other residents."
            ).format(
                town_hall=capitalized(town_hall(settings.commune_name)),
                title=html.escape(in_language(consultation.title, locale, default_locale)),
                date=spoken_date(consultation.closes_at, settings.tz, locale),
            )
            options = [option_label(option, locale, default_locale, escape=False)[:100] for option in question.options()]
            title = in_language(question.prompt, locale, default_locale)[:300]
        if not await domain.register_poll(session, consultation, resident):
            continue
        # Stored rows; poll_audience keeps only residents with a chat.
        assert consultation.id is not None and resident.id is not None and resident.telegram_id is not None
        payload: dict[str, Any] = {
            "question": title,
            "options": [{"text": option} for option in options],
            "is_anonymous": False,
            "allows_multiple_answers": question.several,
        }
        await outbox.enqueue(
            session,
            chat_id=resident.telegram_id,
            method="sendMessage",
            payload={"text": intro},
            resident_id=resident.id,
            kind="poll-intro",
            dedupe_key="pi" + domain.poll_dedupe_key(consultation.id, resident.id),
        )
        if await outbox.enqueue(
            session,
            chat_id=resident.telegram_id,
            method="sendPoll",
            payload=payload,
            resident_id=resident.id,
            kind=domain.POLL_KIND,
            dedupe_key=domain.poll_dedupe_key(consultation.id, resident.id),
        ):
            count += 1
    return count


class PickConsultation(CallbackData, prefix="co"):
    cid: int


class Act(CallbackData, prefix="ca"):
    """A tap under a question or the summary: response, step, question, action, value."""

    r: int
    s: int
    q: int
    a: str  # c choose · t toggle · v validate · k skip · b back · e edit · u submit · o other · z reset
    v: int = 0


SUMMARY = -1  # the question index that stands for the summary in callback data
MAX_SHOWN_TEXT = 300  # a typed answer quoted in the summary is cut here
SAFE_MESSAGE_LENGTH = 4000  # Telegram refuses messages over 4096 characters (after entities)
ROW_OF_SHORT = 6  # yes/no and a scale's steps side by side, up to this many a row


def option_label(option: Option, locale: str | None = None, default_locale: str | None = None, *, escape: bool = True) -> str:
    """An option's words: the file's label in the language, the bot's own word, or the value itself."""
    if isinstance(option.label, Word):
        return {Word.YES: _("Yes"), Word.NO: _("No"), Word.OTHER: _("Other")}[option.label]
    if option.label is None:
        return str(option.value)
    text = in_language(option.label, locale or current_locale(), default_locale or fallback_locale())
    return html.escape(text) if escape else text


def refusal_text(error: Refused, settings: Settings) -> str:
    reason, detail = error.reason, error.detail
    if reason == Refusal.CLOSED:
        return _("This consultation closed on {date}. Thank you for your interest!").format(
            date=when(detail["closes_at"], settings)
        )
    if reason == Refusal.NOT_OPEN_YET:
        return _("This consultation opens on {date}. Come back then!").format(date=when(detail["opens_at"], settings))
    if reason == Refusal.DRAFT:
        return _("This consultation is not published yet.")
    if reason == Refusal.NOT_IN_AUDIENCE:
        return _("This consultation is meant for the residents of other neighbourhoods.")
    if reason == Refusal.STALE:
        return _("This button is no longer active. Please use the latest message, further down.")
    if reason == Refusal.TOO_MANY:
        return _("You can choose at most {max} answers.").format(max=detail["max"])
    if reason == Refusal.TOO_LONG:
        return _("Your answer is too long ({length} characters out of {max} allowed). Shorten it, then send it again.").format(
            length=detail["length"], max=detail["max"]
        )
    if reason == Refusal.EMPTY:
        return _("Please choose or type an answer first.")
    if reason == Refusal.REQUIRED:
        return _("This question needs an answer.")
    return stale_button()


def typed_text_refusal(error: Refused, settings: Settings) -> str:
    """A typed answer that came when its question no longer waits for one."""
    if error.reason in (Refusal.CLOSED, Refusal.NOT_OPEN_YET):
        return refusal_text(error, settings)
    return _("This question is no longer waiting for an answer. Open the consultation again with /consultations.")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def answer_text(question: Question, value: Any, other_text: str | None, *, limit: int = MAX_SHOWN_TEXT) -> str:
    """An answer as the summary shows it (typed texts cut at `limit` characters)."""
    if value is None:
        return _("(skipped)")
    plain = question.value_text(value)
    if plain is not None:
        return html.escape(_cut(plain, limit))
    labels: dict[Any, str] = {option.value: option_label(option) for option in question.options()}
    labels[OTHER] = _("Other: {text}").format(text=html.escape(_cut(other_text or "", limit)))
    if question.ordered:
        return ", ".join(f"{i}. {labels.get(v, '?')}" for i, v in enumerate(value, start=1))
    if isinstance(value, list):
        return ", ".join(labels.get(v, "?") for v in value)
    return labels.get(value, "?")


def _button(text: str, view: ResponseView, action: str, value: int = 0, q: int | None = None) -> InlineKeyboardButton:
    index = view.response.cursor if q is None else q
    assert view.response.id is not None  # a response being answered is stored
    data = Act(r=view.response.id, s=view.response.step, q=SUMMARY if index is None else index, a=action, v=value)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _hint(question: Question, draft: list[str], saved: Any) -> list[str]:
    """The line under the prompt that says how to answer (and, for a ranking, the order so far)."""
    if question.input == Input.TICK:
        if question.max_choices:
            return [_("<i>Tick up to {max} answers, then tap “Validate”.</i>").format(max=question.max_choices)]
        return [_("<i>Tick one or more answers, then tap “Validate”.</i>")]
    if question.input == Input.RANK:
        labels = {option.value: option_label(option) for option in question.options()}
        lines = [_("<i>Tap the choices in your order of preference, then tap “Validate”.</i>")]
        return lines + [f"{position}. {labels.get(choice_id, '?')}" for position, choice_id in enumerate(draft, start=1)]
    if question.input == Input.TYPE:
        lines = [_("<i>Type your answer below (at most {max} characters).</i>").format(max=question.length_limit())]
        if saved:
            lines.append(_("Your current answer: {answer}").format(answer=answer_text(question, saved, None)))
        return lines
    ends, end_labels = question.ends(), question.end_labels()
    if ends is not None and end_labels is not None and any(end_labels):
        return [
            _("<i>{min} = {min_label} · {max} = {max_label}</i>").format(
                min=ends[0], min_label=tr(end_labels[0]) or str(ends[0]), max=ends[1], max_label=tr(end_labels[1]) or str(ends[1])
            )
        ]
    return []


def _option_rows(question: Question, view: ResponseView, draft: list[str], saved: Any) -> list[list[InlineKeyboardButton]]:
    """The buttons of the answers: the file's labels one a row, short words and numbers side by side."""
    buttons: list[InlineKeyboardButton] = []
    for index, option in enumerate(question.options()):
        if question.input == Input.RANK:
            if option.value not in draft:
                buttons.append(_button(option_label(option), view, "t", index))
            continue
        chosen = option.value in draft if question.several else saved == option.value
        action = "t" if question.several else "c"
        buttons.append(_button(("✓ " if chosen else "") + option_label(option), view, action, question.button_number(index)))
    if any(isinstance(option.label, dict) for option in question.options()):
        return [[button] for button in buttons]
    return [buttons[i : i + ROW_OF_SHORT] for i in range(0, len(buttons), ROW_OF_SHORT)]


def question_screen(view: ResponseView) -> Screen:
    """The current question: title, progress line, prompt, hint, and its buttons."""
    question = view.current
    assert question is not None
    number, total = view.position()
    saved = view.answers.get(question.id)
    draft = view.response.draft
    lines = [
        f"<b>{tr(view.consultation.title)}</b>",
        _("Question {number}/{total}").format(number=number, total=total),
        "",
        f"<b>{tr(question.prompt)}</b>",
        *_hint(question, draft, saved),
    ]
    rows = _option_rows(question, view, draft, saved)
    if question.input == Input.RANK and draft:
        rows.append([_button(_("↩️ Start again"), view, "z")])
    if question.has_other:
        chosen = OTHER in draft if question.several else saved == OTHER
        rows.append([_button(("✓ " if chosen else "") + _("✏️ Other…"), view, "o")])
    if question.several:
        rows.append([_button(_("✅ Validate"), view, "v")])
    navigation = []
    if view.can_go_back():
        navigation.append(_button(_("⬅️ Back"), view, "b"))
    if not question.required:
        navigation.append(_button(_("Skip ➡️"), view, "k"))
    if navigation:
        rows.append(navigation)
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


def summary_screen(view: ResponseView, settings: Settings) -> Screen:
    """Every answer given, with a button to change each, and "submit"."""
    # A long consultation with long typed answers must still fit in one message (4096 characters).
    for limit in (MAX_SHOWN_TEXT, 60, 15):
        screen = _summary(view, settings, limit)
        if len(screen.text) <= SAFE_MESSAGE_LENGTH:
            break
    return screen


def _summary(view: ResponseView, settings: Settings, limit: int) -> Screen:
    submitted = view.response.status == ResponseStatus.SUBMITTED
    lines = [f"<b>{tr(view.consultation.title)}</b>"]
    if submitted:
        lines.append(
            _(
                "✅ Thank you, your answers are recorded. We will send you the results and the council's decision. "
                "(You can change them until {date}.)"
            ).format(date=when(view.consultation.closes_at, settings))
        )
    else:
        lines.append(_("Here are your answers. Check them, then tap “Submit”."))
    lines.append("")
    edit_buttons = []
    for number, index in enumerate(view.visible_indexes(), start=1):
        question = view.questions[index]
        if question.id in view.answers:
            given = answer_text(question, view.answers[question.id], view.other_texts.get(question.id), limit=limit)
        else:
            given = _("(not answered yet)")
        prompt = in_language(question.prompt, current_locale(), fallback_locale())
        if limit < MAX_SHOWN_TEXT and len(prompt) > 2 * limit:
            prompt = prompt[: 2 * limit] + "…"
        lines.append(f"{number}. {html.escape(prompt)}\n→ {given}")
        edit_buttons.append(_button(_("✏️ {number}").format(number=number), view, "e", index, q=None))
    rows = [edit_buttons[i : i + 5] for i in range(0, len(edit_buttons), 5)]
    if not submitted:
        rows.append([_button(_("⬅️ Back"), view, "b"), _button(_("📨 Submit"), view, "u")])
    return Screen("\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows))


def open_list(available: list[OpenConsultation]) -> Screen:
    """The consultations open to a resident, each marked with where they stand in it."""
    if not available:
        return Screen(_("There is no consultation open for you at the moment. We will let you know!"))
    marks = {ResponseStatus.SUBMITTED: "✅ ", ResponseStatus.IN_PROGRESS: "⏳ "}
    rows = []
    for item in available:
        assert item.consultation.id is not None  # listed from the database
        mark = marks.get(item.response_status, "🗳 ") if item.response_status is not None else "🗳 "
        rows.append(
            [
                InlineKeyboardButton(
                    text=mark + tr(item.consultation.title), callback_data=PickConsultation(cid=item.consultation.id).pack()
                )
            ]
        )
    return Screen(_("Consultations open to you:"), InlineKeyboardMarkup(inline_keyboard=rows))


def opening_text(view: ResponseView, settings: Settings) -> str | None:
    """What a resident reads on opening a consultation: its intro at first, a welcome back later."""
    consultation = view.consultation
    if view.response.status == ResponseStatus.SUBMITTED:
        return None
    if view.answers:
        return _("Welcome back! Your earlier answers are saved; let us continue.")
    intro = [f"🗳 <b>{tr(consultation.title)}</b>"]
    if consultation.description:
        intro.append(tr(consultation.description))
    intro.append(
        _("Open until {date}. One question at a time; you can change your answers until then.").format(
            date=when(consultation.closes_at, settings)
        )
    )
    return "\n\n".join(intro)


def type_other_prompt() -> str:
    return _("Type your answer below, in a few words.")


def submitted_thanks() -> str:
    return _("Thank you! Your answers are recorded.")


def noted() -> str:
    return _("✅ Noted.")


def text_expected() -> str:
    return _("Please type your answer as text (or use the buttons of the question).")
