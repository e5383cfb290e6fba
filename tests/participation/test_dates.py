"""The one grammar of dates officials type (participation/dates.py), form by form."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from config.settings import Settings
from participation.dates import DateProblem, DateRefused, parse_day, parse_moment, parse_period, split_period

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    "typed",
    [
        "2026-12-01",
        "01/12/2026",
        "1/12/2026",
        "1/12/26",
        "01.12.2026",
        "01-12-2026",
        "1/12",
        "1 décembre",
        "1er décembre",
        "1er Décembre 2026",
        "1 déc. 2026",
        "1 decembre",
        "mardi 1 décembre",
        "1 December 2026",
        "December 1st",
        "December 1, 2026",
        "  1  décembre  ",
    ],
)
def test_every_documented_form_of_a_day_reads_the_same_day(typed: str) -> None:
    assert parse_day(typed, PARIS, ahead=True, now=NOW) == date(2026, 12, 1)
    assert parse_moment(typed, PARIS, now=NOW) == datetime(2026, 12, 1, 0, 0, tzinfo=PARIS)


@pytest.mark.parametrize(
    "typed",
    [
        "1/12 18h30",
        "1/12 18 h 30",
        "1/12 à 18h30",
        "1 décembre 18:30",
        "2026-12-01 18:30",
        "2026-12-01T18:30",
        "December 1 at 18:30",
    ],
)
def test_a_time_after_the_day_is_read_in_the_communes_zone(typed: str) -> None:
    assert parse_moment(typed, PARIS, now=NOW) == datetime(2026, 12, 1, 18, 30, tzinfo=PARIS)


def test_an_hour_alone_and_an_iso_offset() -> None:
    assert parse_moment("1/12 18h", PARIS, now=NOW) == datetime(2026, 12, 1, 18, 0, tzinfo=PARIS)
    assert parse_moment("2026-12-01T17:30:00+00:00", PARIS, now=NOW).astimezone(PARIS).hour == 18


def test_a_day_without_a_year_is_the_next_one_to_come_or_the_last_one_past() -> None:
    assert parse_day("15/01", PARIS, ahead=True, now=NOW) == date(2027, 1, 15)
    assert parse_day("15/01", PARIS, ahead=False, now=NOW) == date(2026, 1, 15)
    assert parse_day("1 septembre", PARIS, ahead=False, now=NOW) == date(2026, 9, 1)
    assert parse_day("1 septembre", PARIS, ahead=True, now=NOW) == date(2027, 9, 1)
    assert parse_day("29/11", PARIS, ahead=True, now=NOW) == date(2026, 11, 29)  # today is not past


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("demain", DateProblem.UNREADABLE),
        ("", DateProblem.UNREADABLE),
        ("12", DateProblem.UNREADABLE),
        ("1 ju 2026", DateProblem.UNREADABLE),  # juin or juillet: not guessed
        ("31/02/2026", DateProblem.NO_SUCH_DAY),
        ("2026-13-01", DateProblem.NO_SUCH_DAY),
        ("1/12 25h00", DateProblem.NO_SUCH_DAY),
    ],
)
def test_what_is_not_a_date_is_refused_with_its_reason(typed: str, problem: DateProblem) -> None:
    with pytest.raises(DateRefused) as refused:
        parse_moment(typed, PARIS, now=NOW)
    assert refused.value.problem == problem and refused.value.typed == typed


def test_a_meeting_needs_its_time_and_a_day_for_figures_has_none() -> None:
    with pytest.raises(DateRefused) as refused:
        parse_moment("12/12/2026", PARIS, time_needed=True, now=NOW)
    assert refused.value.problem == DateProblem.NO_TIME
    with pytest.raises(DateRefused):
        parse_day("1/12 18h30", PARIS, now=NOW)


def test_a_period_in_one_line_and_an_empty_period() -> None:
    assert split_period("1 septembre au 30 novembre", PARIS) == ("1 septembre", "30 novembre")
    assert split_period("du 1/09 au 30/11", PARIS) == ("1/09", "30/11")
    assert split_period("1 septembre 2026 30 novembre 2026", PARIS) == ("1 septembre 2026", "30 novembre 2026")
    assert split_period("1/09 30/11", PARIS) == ("1/09", "30/11")
    assert split_period("2026-09-01", PARIS) == ("2026-09-01", None)
    assert split_period("", PARIS) == (None, None)
    with pytest.raises(DateRefused):
        split_period("hier et avant-hier", PARIS)
    settings = Settings(timezone="Europe/Paris", _env_file=None)  # type: ignore[call-arg]
    first, last = parse_period("01/09/2026", "30 novembre 2026", settings)
    assert (first, last) == (datetime(2026, 9, 1, tzinfo=PARIS), datetime(2026, 12, 1, tzinfo=PARIS))
    with pytest.raises(DateRefused) as refused:
        parse_period("2026-12-01", "2026-11-01", settings)
    assert refused.value.problem == DateProblem.EMPTY_PERIOD
