"""Numbers as the reader writes them («57,2 %», «3,0 sur 5»), through Babel's locale data."""

from __future__ import annotations

from babel import Locale
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_percent


def _with_fraction(pattern: str, fraction: str) -> str:
    """The locale's pattern with `fraction` digits after its last integer digit."""
    at = pattern.rfind("0")
    return pattern[: at + 1] + fraction + pattern[at + 1 :]


def format_percent(share: float, locale: str, *, digits: int = 1) -> str:
    """A share (0.572) as a percentage in `locale`: «57,2 %» in French, «57.2%» in English; no useless «,0»."""
    pattern = Locale.parse(locale).percent_formats[None].pattern
    return babel_percent(share, format=_with_fraction(pattern, "." + "#" * digits if digits else ""), locale=locale)


def format_points(points: float, locale: str) -> str:
    """Percentage points with one decimal («4,9»)."""
    return format_decimal(points, format="#,##0.0", locale=locale)


def format_number(value: float, locale: str, *, digits: int = 1) -> str:
    """A mean or a ratio with a fixed number of decimals («3,0»), grouped as the locale does."""
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0", locale=locale)
