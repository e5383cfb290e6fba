"""Photos uploaded with a broadcast: only what Telegram accepts as a photo gets queued to everyone.

A file Telegram refuses would fail once per recipient; checking it once, before the draft, spares that.
"""

from __future__ import annotations

import io
from enum import StrEnum

from PIL import Image

MAX_BYTES = 10 * 1024 * 1024  # Telegram's limit for a photo sent as a file
MAX_SIDES = 10_000  # Telegram: width + height at most 10,000 pixels
MAX_RATIO = 20  # Telegram: one side at most 20 times the other
SUFFIXES = {"JPEG": ".jpg", "PNG": ".png"}


class PhotoProblem(StrEnum):
    FORMAT = "format"  # not a readable JPEG or PNG image
    SIZE = "size"  # heavier than MAX_BYTES
    DIMENSIONS = "dimensions"  # too large or too narrow for Telegram


class InvalidPhoto(ValueError):
    def __init__(self, problem: PhotoProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def check_photo(data: bytes) -> str:
    """The file suffix to store `data` under; InvalidPhoto when Telegram would not take it as a photo."""
    if len(data) > MAX_BYTES:
        raise InvalidPhoto(PhotoProblem.SIZE)
    try:
        # Only the two decoders asked for are tried; the header gives the size without decoding.
        with Image.open(io.BytesIO(data), formats=list(SUFFIXES)) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidPhoto(PhotoProblem.FORMAT) from exc
    if kind not in SUFFIXES:
        raise InvalidPhoto(PhotoProblem.FORMAT)
    if width + height > MAX_SIDES or max(width, height) > MAX_RATIO * min(width, height):
        raise InvalidPhoto(PhotoProblem.DIMENSIONS)
    return SUFFIXES[kind]
