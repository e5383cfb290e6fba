"""The one rule for codes in the files a town hall writes (consultations, categories, topics, neighbourhoods).

A code names a thing in files, exports, deep links, callback data and Open311's service_code:
lowercase letters, digits, - and _, starting with a letter or a digit, 1 to 32 characters — short
enough for Telegram's 64-byte callback data (docs/formats.md).
"""

from __future__ import annotations

import re

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
CODE_PROBLEM = "expected a code of 1 to 32 lowercase letters, digits, - or _"


def is_code(value: object) -> bool:
    """Whether `value` follows the rule for codes."""
    return isinstance(value, str) and CODE.fullmatch(value) is not None
