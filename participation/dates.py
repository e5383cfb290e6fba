"""Dates as officials type them (YYYY-MM-DD), read in the commune's time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from config.settings import Settings
from storage.types import utcnow


def parse_period(start: str | None, end: str | None, settings: Settings) -> tuple[datetime, datetime]:
    """[start, end) from dates in the commune's time zone; `end` is included (up to its evening).

    Defaults: the last 90 days up to today. Raises ValueError on a malformed date or an empty period.
    """
    tz = settings.tz
    today = utcnow().astimezone(tz).date()
    last = datetime.strptime(end, "%Y-%m-%d").date() if end else today
    first = datetime.strptime(start, "%Y-%m-%d").date() if start else last - timedelta(days=89)
    if first > last:
        raise ValueError("empty period")
    return datetime.combine(first, time(), tzinfo=tz), datetime.combine(last + timedelta(days=1), time(), tzinfo=tz)
