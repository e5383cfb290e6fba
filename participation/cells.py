"""Export cells a spreadsheet program will not evaluate: what residents typed stays text.

A cell starting with = + - @ (or a tab or carriage return before one) is read as a formula by
Excel and LibreOffice, e.g. =HYPERLINK(...) typed as a free answer. Such text gets a leading
apostrophe, as OWASP advises; numbers, also negative ones, are left as they are.
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def safe_text(text: str) -> str:
    """`text`, prefixed with an apostrophe when a spreadsheet would run it as a formula."""
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def safe_cell(value: Any) -> Any:
    """A cell value for CSV or XLSX: strings made safe, numbers (not booleans) kept as numbers."""
    if isinstance(value, str):
        return safe_text(value)
    return value
