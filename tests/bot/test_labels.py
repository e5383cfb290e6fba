"""Dates as a mairie writes them, through the one helper every message uses."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from notices.labels import spoken_date

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_french_dates_read_as_a_mairie_writes_them() -> None:
    assert spoken_date(datetime(2026, 12, 28, 20, 50, tzinfo=UTC), PARIS, "fr", now=NOW) == "28\u00a0décembre à 21\u00a0h\u00a050"
    assert spoken_date(datetime(2027, 9, 1, 8, 0, tzinfo=UTC), PARIS, "fr", now=NOW) == "1er\u00a0septembre 2027 à 10\u00a0h"
    assert spoken_date(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), PARIS, "fr", with_time=False, now=NOW) == "1er\u00a0décembre"


def test_english_dates_are_british() -> None:
    assert spoken_date(datetime(2026, 12, 28, 20, 50, tzinfo=UTC), PARIS, "en", now=NOW) == "28 December at 21:50"
    assert (
        spoken_date(datetime(2026, 12, 28, 20, 50, tzinfo=UTC), PARIS, "en", weekday=True, now=NOW)
        == "Monday 28 December at 21:50"
    )
