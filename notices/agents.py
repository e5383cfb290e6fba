"""What agents read in their group besides the cards: answers to their taps, the status menu and prompts.

Composed in DEFAULT_LOCALE (handlers/agents.py sets it for the whole group).
"""

from __future__ import annotations

import html

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from notices.reports import AgentAction, SavedReplyPick, status_label
from notices.screens import Screen
from notices.screens import stale_button as stale_button  # the one sentence, re-exported for this module's callers
from participation import reports
from participation.reports import Problem, ReportError, Status
from storage.models import Report, SavedReply


def cannot_follow(report: Report, status: Status) -> str:
    """Why `status` cannot be set now: already done, or which statuses can follow the current one."""
    if status == report.status:
        return _("Already done: {ref} is at status {status}.").format(ref=report.ref, status=status_label(report.status))
    choices = ", ".join(status_label(s) for s in reports.allowed_next(report.status))
    return _("{ref} is at status {status}; it can only go to: {choices}.").format(
        ref=report.ref, status=status_label(report.status), choices=choices
    )


def refusal(error: ReportError, report: Report, status: Status) -> str:
    if error.problem == Problem.TRANSITION_NOT_ALLOWED:
        return cannot_follow(report, status)
    if error.problem == Problem.NOTE_TOO_LONG:
        return _("This note is too long: at most {limit} characters.").format(limit=reports.MAX_NOTE)
    if error.problem == Problem.SAME_REPORT:
        return _("A report cannot be a duplicate of itself.")
    return _("Sorry, this could not be done.")


def status_set(report: Report, status: Status) -> str:
    return _("✅ {ref}: status set to {status}.").format(ref=report.ref, status=status_label(status))


def taken(report: Report) -> str:
    return _("✅ {ref}: you handle it now.").format(ref=report.ref)


def already_yours(report: Report) -> str:
    return _("You already handle {ref}.").format(ref=report.ref)


def status_menu(report: Report) -> Screen:
    """The statuses that can follow the current one, one button each (duplicates have their own button)."""
    assert report.id is not None
    rows = [
        [
            InlineKeyboardButton(
                text=status_label(s), callback_data=AgentAction(action="set", report_id=report.id, status=s.value).pack()
            )
        ]
        for s in reports.allowed_next(report.status)
        if s != Status.DUPLICATE
    ]
    return Screen(
        _("{ref} — current status: {status}. Choose the new status:").format(ref=report.ref, status=status_label(report.status)),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


def note_prompt(report: Report, status: Status, saved: list[SavedReply]) -> Screen:
    """Ask for an optional public note, typed as a reply; saved replies of the category are one tap away."""
    assert report.id is not None
    rows: list[list[InlineKeyboardButton]] = []
    for reply in saved:
        assert reply.id is not None
        pick = SavedReplyPick(report_id=report.id, status=status.value, reply_id=reply.id)
        rows.append([InlineKeyboardButton(text=f"💬 {reply.title}", callback_data=pick.pack())])
    rows.append(
        [
            InlineKeyboardButton(
                text=_("Without note"),
                callback_data=AgentAction(action="nonote", report_id=report.id, status=status.value).pack(),
            )
        ]
    )
    return Screen(
        _("{ref} → {status}.\nReply to this message with a public note for the residents, or tap “Without note”.").format(
            ref=report.ref, status=status_label(status)
        ),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


def duplicate_prompt(report: Report) -> str:
    return _("{ref} is a duplicate of which report? Reply to this message with its reference (like PAL-2026-000012).").format(
        ref=report.ref
    )


def unknown_reference(typed: str) -> str:
    return _("No report has the reference {ref}. Reply again with a valid reference.").format(ref=html.escape(typed[:40]))
