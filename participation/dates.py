"""Dates and times as officials type them — in the chat, the command line and the back office: one grammar.

A day:  2026-12-01 · 01/12/2026 (also 1/12/26, 01.12.2026, 01-12-2026) · 1/12 · 1 décembre · 1er déc. 2026 ·
        mardi 1 décembre · 1 December 2026 · December 1st.
A time, after the day (with « à », « at », a comma or nothing between): 18h30 · 18h · 18 h 30 · 18:30.
ISO 8601 (2026-12-01T18:30, with or without an offset) is read as it is.
A day without a year is the next such day for something to come (a meeting, a closing date), and the last
such day for a period of figures. Everything is in the commune's time zone.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from config.settings import Settings
from storage.types import utcnow


class DateProblem(StrEnum):
    UNREADABLE = "unreadable"  # not a date of the grammar above
    NO_SUCH_DAY = "no_such_day"  # 31/02, 2026-13-01
    NO_TIME = "no_time"  # a day alone where a time is needed
    EMPTY_PERIOD = "empty_period"  # the first day comes after the last


class DateRefused(ValueError):
    """What an official typed is not a date; `problem` says why, for one clear sentence."""

    def __init__(self, problem: DateProblem, typed: str) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.typed = typed


_MONTHS = {
    1: ("janvier", "january"),
    2: ("fevrier", "february"),
    3: ("mars", "march"),
    4: ("avril", "april"),
    5: ("mai", "may"),
    6: ("juin", "june"),
    7: ("juillet", "july"),
    8: ("aout", "august"),
    9: ("septembre", "september"),
    10: ("octobre", "october"),
    11: ("novembre", "november"),
    12: ("decembre", "december"),
}
_WEEKDAYS = [
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
]

_DAY_PATTERNS = (
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{4}|\d{2}))?"),
    re.compile(r"(?P<d>\d{1,2})(?:er|st|nd|rd|th)?\s+(?P<name>[a-z]{3,}\.?)(?:\s+(?P<y>\d{4}))?"),
    re.compile(r"(?P<name>[a-z]{3,}\.?)\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?"),
)
_TIME = r"(?P<hh>\d{1,2})\s*(?:h\s*(?P<mm>\d{2})?|:(?P<mm2>\d{2}))"
_SEPARATOR = r"(?:\s*,\s*|\s+a\s+|\s+at\s+|\s+)"


def _plain(text: str) -> str:
    """Lower case, no accents, single spaces: « 1er Décembre  à 18H30 » → « 1er decembre a 18h30 »."""
    dashed = text.replace("\u2013", "-").replace("\u2014", "-")
    folded = unicodedata.normalize("NFKD", dashed.strip().lower()).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", folded)


def _month(name: str) -> int | None:
    """The month a name or a prefix of at least three letters stands for (« déc. », « sept », « December »)."""
    word = name.rstrip(".")
    found = {number for number, names in _MONTHS.items() for full in names if full.startswith(word)}
    return found.pop() if len(found) == 1 else None


def _year_for(month: int, day: int, today: date, ahead: bool) -> date:
    candidate = date(today.year, month, day)
    if ahead and candidate < today:
        return date(today.year + 1, month, day)
    if not ahead and candidate > today:
        return date(today.year - 1, month, day)
    return candidate


def _read(text: str, *, today: date, ahead: bool) -> tuple[date, time | None]:
    plain = _plain(text)
    for weekday in _WEEKDAYS:  # « mardi 1 décembre »: the weekday adds nothing
        if plain.startswith(weekday + " "):
            plain = plain[len(weekday) + 1 :].lstrip(", ")
            break
    for pattern in _DAY_PATTERNS:
        found = re.fullmatch(pattern.pattern + rf"(?:{_SEPARATOR}{_TIME})?", plain)
        if found is None:
            continue
        parts = found.groupdict()
        month = _month(parts["name"]) if parts.get("name") else int(parts["m"])
        if month is None:
            continue
        try:
            day_number = int(parts["d"])
            if parts["y"] is None:
                day = _year_for(month, day_number, today, ahead)
            else:
                year = int(parts["y"])
                day = date(2000 + year if year < 100 else year, month, day_number)
            clock = None
            if parts["hh"] is not None:
                clock = time(int(parts["hh"]), int(parts["mm"] or parts["mm2"] or 0))
        except ValueError:
            raise DateRefused(DateProblem.NO_SUCH_DAY, text) from None
        return day, clock
    raise DateRefused(DateProblem.UNREADABLE, text)


def parse_day(text: str, tz: ZoneInfo, *, ahead: bool = False, now: datetime | None = None) -> date:
    """A day typed by an official (see the module's grammar); a time after it is refused."""
    today = (now or utcnow()).astimezone(tz).date()
    day, clock = _read(text, today=today, ahead=ahead)
    if clock is not None:
        raise DateRefused(DateProblem.UNREADABLE, text)
    return day


def parse_moment(
    text: str, tz: ZoneInfo, *, ahead: bool = True, time_needed: bool = False, now: datetime | None = None
) -> datetime:
    """A day and time typed by an official, aware in the commune's time zone; a day alone is its midnight.

    `time_needed`: a day alone is refused (NO_TIME), as for a meeting that starts at an hour.
    """
    if _iso(text) is not None:
        moment = _iso_checked(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    today = (now or utcnow()).astimezone(tz).date()
    day, clock = _read(text, today=today, ahead=ahead)
    if clock is None and time_needed:
        raise DateRefused(DateProblem.NO_TIME, text)
    return datetime.combine(day, clock or time(), tzinfo=tz)


def _iso(text: str) -> re.Match[str] | None:
    """ISO 8601 with a time (2026-12-01T18:30[:00][+01:00]), which `datetime.fromisoformat` reads."""
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}[tT]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[zZ]|[+-]\d{2}:?\d{2})?", text.strip())


def _iso_checked(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("z", "+00:00").replace("Z", "+00:00"))
    except ValueError:
        raise DateRefused(DateProblem.NO_SUCH_DAY, text) from None


def parse_period(start: str | None, end: str | None, settings: Settings) -> tuple[datetime, datetime]:
    """[start, end) from days typed by an official, in the commune's time zone; `end` is included (up to its evening).

    Defaults: the last 90 days up to today. Raises DateRefused on a day it cannot read or an empty period.
    """
    tz = settings.tz
    today = utcnow().astimezone(tz).date()
    last = parse_day(end, tz) if end else today
    first = parse_day(start, tz) if start else last - timedelta(days=89)
    if first > last:
        raise DateRefused(DateProblem.EMPTY_PERIOD, f"{start} {end}")
    return datetime.combine(first, time(), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)


def split_period(text: str, tz: ZoneInfo) -> tuple[str | None, str | None]:
    """The first and last days of a period typed in one line: « 1/09 30/11 », « 1 septembre au 30 novembre ».

    « du … au … », « from … to … » and a dash may join them; one day alone is the first. Raises DateRefused.
    """
    plain = _plain(text)
    plain = re.sub(r"^(?:du|from)\s+", "", plain)
    if not plain:
        return None, None
    for joint in (" au ", " to ", " - "):
        if joint in plain:
            first, _, last = plain.partition(joint)
            return first.strip(), last.strip()

    def reads(candidate: str) -> bool:
        try:
            parse_day(candidate, tz)
        except DateRefused:
            return False
        return True

    if reads(plain):
        return plain, None
    words = plain.split(" ")
    for cut in range(1, len(words)):
        first, last = " ".join(words[:cut]), " ".join(words[cut:])
        if reads(first) and reads(last):
            return first, last
    parse_day(text, tz)  # not a period: refused with what is wrong with it as one day (31/02 does not exist)
    raise DateRefused(DateProblem.UNREADABLE, text)
