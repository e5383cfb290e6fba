"""Impact and satisfaction as people receive them: the impact page, the satisfaction question, neighbourhood names."""

from __future__ import annotations

import html
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notices.reports import status_label
from notices.stats_report import duration
from participation import impact, satisfaction
from participation.languages import in_language
from storage.models import Neighbourhood


class SatisfactionCallback(CallbackData, prefix="sat"):
    period: int
    score: int


class CommentSkip(CallbackData, prefix="sks"):
    """« Skip » under the invitation to comment a satisfaction answer."""

    period: int


def render_impact(result: impact.Impact, locale: str, default_locale: str) -> str:
    """The resident's impact: a one-line summary, then their consultations and reports."""
    lines = [
        _("🌱 <b>Your impact</b>"),
        "",
        impact_summary(result),
    ]
    if result.consultations:
        lines += ["", _("<b>Consultations</b>")]
    for item in result.consultations:
        title = html.escape(in_language(item.title, locale, default_locale))
        if item.publication is not None:
            decision = html.escape(item.publication.decision, quote=False)
            state = _("results published; the council decided: {decision}").format(decision=decision)
        elif item.closed:
            state = _("closed, results not published yet")
        else:
            state = _("still open")
        mark = "✅" if item.finished else "⏸"
        lines.append(_("{mark} {title}: {state}").format(mark=mark, title=title, state=state))
    if result.reports:
        lines += ["", _("<b>Reports</b>")]
    for report in result.reports:
        whose = _("your report") if report.mine else _("followed")
        resolved = report.time_to_resolution
        line = _("{ref} · {category} ({whose}): {status}").format(
            ref=report.ref,
            category=html.escape(in_language(report.category, locale, default_locale)),
            whose=whose,
            status=status_label(report.status),
        )
        if resolved is not None:
            line += " — " + _("closed in {duration}").format(duration=duration(resolved.total_seconds() / 3600, locale))
        lines.append(line)
    if not result.consultations and not result.reports:
        lines += ["", _("Nothing yet: answer a consultation or report a problem, and you will see here what came of it.")]
    return "\n".join(lines)


def render_question(period: int) -> dict[str, Any]:
    """The satisfaction question, in the current locale, with one button per score."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=str(score), callback_data=SatisfactionCallback(period=period, score=score).pack())
                for score in satisfaction.SCORES
            ]
        ]
    )
    return {
        "text": _(
            "📊 <b>A quick question</b>\n\nHow useful is this channel for you? From 1 (not useful at all) to 5 (very useful)."
        ),
        "reply_markup": keyboard.model_dump(exclude_none=True),
    }


async def neighbourhood_names(session: AsyncSession, locale: str, default_locale: str) -> dict[str, str]:
    rows = await session.scalars(select(Neighbourhood))
    return {row.code: in_language(row.names, locale, default_locale) for row in rows}


def impact_summary(result: impact.Impact) -> str:
    """One or two sentences with real plurals (never « consultation(s) »)."""
    parts = [
        ngettext("You answered {count} consultation.", "You answered {count} consultations.", result.took_part).format(
            count=result.took_part
        )
    ]
    if result.decided:
        parts.append(
            ngettext(
                "{count} has already led to a council decision.",
                "{count} have already led to a council decision.",
                result.decided,
            ).format(count=result.decided)
        )
    if result.my_reports:
        made = ngettext("You made {count} report:", "You made {count} reports:", result.my_reports).format(
            count=result.my_reports
        )
        if result.my_reports_fixed:
            fixed = ngettext("{count} is fixed.", "{count} are fixed.", result.my_reports_fixed).format(
                count=result.my_reports_fixed
            )
        else:
            fixed = _("none is fixed yet.")
        parts.append(f"{made} {fixed}")
    return " ".join(parts)


def satisfaction_closed() -> str:
    return _("This question is closed; thank you all the same.")


def satisfaction_thanks() -> str:
    return _("Thank you!")


def comment_prompt(period: int) -> tuple[str, InlineKeyboardMarkup]:
    """The invitation to comment, with a button to skip it (no English command to type)."""
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("⏭ Skip"), callback_data=CommentSkip(period=period).pack())]]
    )
    return _("Thank you! Would you like to add a comment? Write it, or tap “⏭ Skip”."), keyboard


def comment_skipped() -> str:
    return _("Noted, thank you.")


def comment_as_text_please() -> str:
    return _("Please write your comment as text, or /skip.")


def comment_too_long(length: int, limit: int) -> str:
    return _("Your comment is too long ({length} characters out of {max} allowed). Shorten it, then send it again.").format(
        length=length, max=limit
    )


def comment_recorded() -> str:
    return _("Thank you, your comment was recorded.")
