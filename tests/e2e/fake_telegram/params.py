"""Parameters as the Bot API receives them (form fields are strings), and image sizes as Telegram decodes them."""

from __future__ import annotations

import contextlib
import json
import re
import struct
from typing import Any

from tests.e2e.fake_telegram.limits import ApiError, Json

_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
        "open_period",
        "close_date",
        "correct_option_id",
        "max_connections",
        "until_date",
    }
)
_FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "is_anonymous",
        "allows_multiple_answers",
        "allows_revoting",
        "shuffle_options",
        "allow_adding_options",
        "hide_results_until_closes",
        "members_only",
        "is_closed",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "allow_paid_broadcast",
        "has_spoiler",
        "show_caption_above_media",
        "disable_content_type_detection",
    }
)
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "options",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "question_entities",
        "explanation_entities",
        "description_entities",
        "correct_option_ids",
        "country_codes",
        "media",
    }
)
_INT_RE = re.compile(r"^-?\d+$")


def _normalize_params(raw: Json) -> Json:
    """Give known fields their types (forms carry only strings; aiogram JSON-encodes objects).

    A value that does not convert is kept as received: the handler that needs it answers 400.
    """
    params: Json = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _INT_FIELDS and _INT_RE.match(value.strip()):
                value = int(value)
            elif key in _FLOAT_FIELDS:
                with contextlib.suppress(ValueError):
                    value = float(value)
            elif key in _BOOL_FIELDS and value.strip().lower() in {"true", "false", "1", "0"}:
                value = value.strip().lower() in {"true", "1"}
            elif key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
        params[key] = value
    return params


def _opt_str(p: Json, name: str) -> str | None:
    value = p.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(400, f'Bad Request: field "{name}" must be of type String')
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise ApiError(400, f'Bad Request: field "{name}" must be of type String')


def _opt_int(p: Json, name: str) -> int | None:
    value = p.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f'Bad Request: field "{name}" must be of type Integer')
    return value


def _req_int(p: Json, name: str) -> int:
    value = _opt_int(p, name)
    if value is None:
        raise ApiError(400, f"Bad Request: {name} is empty")
    return value


def _opt_bool(p: Json, name: str) -> bool:
    value = p.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(400, f'Bad Request: field "{name}" must be of type Boolean')
    return value


def _opt_json(p: Json, name: str, error: str) -> Any:
    value = p.get(name)
    if isinstance(value, str):
        if value == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, error) from None
    return value


def _image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a JPEG/PNG/GIF/WEBP/BMP, or None when Telegram could not decode it."""
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if marker == 0xFF:
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8X":
            return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
        if chunk == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        return None
    if data[:2] == b"BM" and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(width), abs(height)
    return None


def _scaled(width: int, height: int, limit: int) -> tuple[int, int]:
    biggest = max(width, height)
    if biggest <= limit:
        return width, height
    return max(1, round(width * limit / biggest)), max(1, round(height * limit / biggest))
