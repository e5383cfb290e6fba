"""Why an action on a consultation was refused: raised by the domain, turned into words by notices."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Refusal(StrEnum):
    """Why an action on a consultation was refused; handlers turn each into a clear message."""

    UNKNOWN = "unknown"  # no such consultation or response, or not this resident's (forged data)
    NOT_OPEN_YET = "not_open_yet"
    CLOSED = "closed"
    DRAFT = "draft"
    NOT_IN_AUDIENCE = "not_in_audience"
    STALE = "stale"  # an earlier message's button, or a second tap
    INVALID = "invalid"  # a value the question does not accept (forged data)
    TOO_MANY = "too_many"  # more ticks than the question's max
    TOO_LONG = "too_long"
    EMPTY = "empty"
    REQUIRED = "required"  # skipping a required question


class Refused(Exception):
    def __init__(self, reason: Refusal, detail: dict[str, Any] | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail or {}
