"""Names of the domain's fixed values in the current locale, for the chat and the council's report alike."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from participation.residents import AgeBracket


def age_bracket_label(code: str) -> str:
    """An age bracket as residents read it ("30 to 44"); an unknown code is shown as it is."""
    labels: dict[str, str] = {
        AgeBracket.FROM_15_TO_29: _("15 to 29"),
        AgeBracket.FROM_30_TO_44: _("30 to 44"),
        AgeBracket.FROM_45_TO_59: _("45 to 59"),
        AgeBracket.FROM_60_TO_74: _("60 to 74"),
        AgeBracket.FROM_75: _("75 and over"),
    }
    return labels.get(code, code)


def spoken_date(
    moment: datetime, tz: ZoneInfo, locale: str, *, with_time: bool = True, weekday: bool = False, now: datetime | None = None
) -> str:
    """A date as a mairie writes it: « 28 décembre à 21 h 50 », « 1er septembre 2027 »; « 28 December at 21:50 ».

    The one helper for every date a person reads; the year shows only when it is not this year's.
    """
    local = moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=UTC).astimezone(tz)
    this_year = (now or datetime.now(UTC)).astimezone(tz).year
    month = format_date(local.date(), "MMMM", locale=locale)
    day_name = format_date(local.date(), "EEEE", locale=locale) + " " if weekday else ""
    year = "" if local.year == this_year else f" {local.year}"
    if locale == "fr":
        day = "1er" if local.day == 1 else str(local.day)
        text = f"{day_name}{day}\u00a0{month}{year}"
        if with_time:
            minutes = f"\u00a0{local.minute:02d}" if local.minute else ""
            text += f" à {local.hour}\u00a0h{minutes}"
        return text
    text = f"{day_name}{local.day} {month}{year}"
    if with_time:
        text += f" at {local.hour:02d}:{local.minute:02d}"
    return text


def town_hall(commune_name: str) -> str:
    """Who speaks: « la mairie de Saint-Martin », or « votre mairie » when no commune is set."""
    if commune_name.strip():
        return _("the town hall of {commune}").format(commune=commune_name.strip())
    return _("your town hall")


def capitalized(text: str) -> str:
    """A sentence's first letter in capitals (« la mairie de … » at the start of a line)."""
    return text[:1].upper() + text[1:]
