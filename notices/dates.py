"""What an official reads when a date they typed is refused: one sentence naming the forms accepted."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from participation.dates import DateProblem, DateRefused


def date_refusal(refused: DateRefused) -> str:
    """Why the date was refused, with examples of the grammar of participation/dates.py."""
    if refused.problem == DateProblem.NO_SUCH_DAY:
        return _("This day or time does not exist: check the date you typed.")
    if refused.problem == DateProblem.NO_TIME:
        return _("Please add the time, for example: 12/12 18:30.")
    if refused.problem == DateProblem.EMPTY_PERIOD:
        return _("The first day of the period must not come after the last one.")
    return _("We could not read this date. Write it for example: 1 December 18:30, 01/12/2026 18:30 or 2026-12-01 18:30.")


def period_refusal(refused: DateRefused) -> str:
    """/stats with a period it cannot read: the same sentence, and how to ask for a period."""
    return _("{problem} For a period: /stats 1/09 30/11 (or /stats alone for the last 90 days).").format(
        problem=date_refusal(refused)
    )
