"""Text typed by people, made safe to store and to serve: one function for every text input.

Control characters are removed (PostgreSQL refuses NUL; XML cannot carry most of C0), line breaks
and tabs are kept, and a text is "visible" only when it holds at least one printable character
(zero-width spaces, joiners and direction marks alone say nothing).
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls except tab, line feed and carriage return, DEL, C1 controls, lone surrogates, and
# the two non-characters XML 1.0 forbids.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# Categories with no glyph of their own: separators, controls, format characters (zero-width…).
_INVISIBLE = {"Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me", "Cn", "Co", "Cs"}


def clean_text(text: str | None) -> str:
    """`text` without control characters, outer blanks removed."""
    if not text:
        return ""
    return _CONTROL.sub("", text).strip()


def has_visible(text: str | None) -> bool:
    """True when `text` holds at least one character a reader would see."""
    return any(unicodedata.category(char) not in _INVISIBLE for char in text or "")


def clean_visible(text: str | None) -> str | None:
    """`clean_text`, or None when nothing visible is left (the caller refuses it clearly)."""
    cleaned = clean_text(text)
    return cleaned if has_visible(cleaned) else None


def strip_controls(text: str) -> str:
    """`text` without control characters, nothing else changed (also makes it XML 1.0 safe)."""
    return _CONTROL.sub("", text)
