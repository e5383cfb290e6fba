"""Privacy rights as residents read them: the /mydata summary and the /forget prompt and its outcomes."""

from __future__ import annotations

import html

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext


class ForgetCallback(CallbackData, prefix="forget"):
    """`nonce` binds the buttons to the one prompt this resident was shown (kept in their state)."""

    confirm: bool
    nonce: str = ""


def mydata_caption(consultations: int, reports: int, neighbourhood: str | None) -> str:
    """The file's caption: what it is, a plain summary of it, and how to erase it all."""
    parts = [
        ngettext("{count} consultation", "{count} consultations", consultations).format(count=consultations),
        ngettext("{count} report", "{count} reports", reports).format(count=reports),
        _("neighbourhood {name}").format(name=html.escape(neighbourhood)) if neighbourhood else _("no neighbourhood given"),
    ]
    return _(
        "📄 Here is everything we keep about you (a technical file, readable on a computer).\n"
        "In short: {summary}.\nTo erase it all: /forget"
    ).format(summary=", ".join(parts))


def forget_prompt(nonce: str) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "⚠️ <b>Erase my data</b>\n\n"
        "Your profile, your settings, your follow-ups and everything you typed will be deleted. "
        "Your answers to consultations will only remain as anonymous counts, and your reports "
        "without any link to you. You will receive no more messages.\n\nThis cannot be undone."
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("🗑 Yes, erase everything"), callback_data=ForgetCallback(confirm=True, nonce=nonce).pack()
                )
            ],
            [InlineKeyboardButton(text=_("Cancel"), callback_data=ForgetCallback(confirm=False, nonce=nonce).pack())],
        ]
    )
    return text, keyboard


def forget_expired() -> str:
    return _("This button has expired: nothing was erased. To erase your data, type /forget again.")


def agents_redaction_template() -> str:
    """What replaces an erased resident's report in the agents' group (in the current locale), with {ref}."""
    return _("🗑 Report {ref}: its content was removed at the request of the resident who sent it.")


def erased() -> str:
    return _("✅ Your data has been erased. Goodbye! If you ever come back, type /start.")


def nothing_erased() -> str:
    return _("Nothing was erased.")
