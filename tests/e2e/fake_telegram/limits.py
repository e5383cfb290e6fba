"""Telegram's limits, its error wording, and the sample files fake users send."""

from __future__ import annotations

import base64
import re
from typing import Any, TypeAlias

Json: TypeAlias = dict[str, Any]


# --------------------------------------------------------------------------------------------
# Telegram's limits and wording
# --------------------------------------------------------------------------------------------

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_TEXT_MAX = 200
MARKUP_BUTTONS_MAX = 100
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
POLL_OPTIONS_MIN = 2
POLL_OPTIONS_MAX = 12  # Bot API 9.x raised it from 10
POLL_EXPLANATION_MAX = 200
COMMAND_NAME_RE = re.compile(r"^[a-z0-9_]{1,32}$")
COMMAND_DESCRIPTION_MAX = 256
COMMANDS_MAX = 100
UPLOAD_MAX_BYTES = 50 * 1024 * 1024
PHOTO_MAX_BYTES = 10 * 1024 * 1024
GET_FILE_MAX_BYTES = 20 * 1024 * 1024
LONG_POLL_MAX_SECONDS = 50  # Telegram never holds a getUpdates longer than this

ERR_TEXT_EMPTY = "Bad Request: message text is empty"
ERR_TEXT_TOO_LONG = "Bad Request: message is too long"
ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"
ERR_CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
ERR_BUTTON_DATA = "Bad Request: BUTTON_DATA_INVALID"
ERR_BUTTON_TEXT_EMPTY = "Bad Request: text buttons are unallowed in the inline keyboard"
ERR_BUTTON_NO_ACTION = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
ERR_KEYBOARD_BUTTON_TEXT = "Bad Request: keyboard button text must be non-empty"
ERR_MARKUP_JSON = "Bad Request: can't parse reply keyboard markup JSON object"
ERR_MARKUP_TOO_LONG = "Bad Request: reply markup is too long"
ERR_INLINE_EXPECTED = "Bad Request: inline keyboard expected"
ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
ERR_CANT_EDIT = "Bad Request: message can't be edited"
ERR_NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
ERR_NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
ERR_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
ERR_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
ERR_PARSE_ENTITIES = "Bad Request: can't parse entities: "
ERR_BLOCKED = "Forbidden: bot was blocked by the user"
ERR_KICKED = "Forbidden: bot was kicked from the supergroup chat"
ERR_CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
ERR_WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
ERR_INVALID_FILE_ID = "Bad Request: invalid file_id"

# Methods that Telegram's flood control counts (and that throttle_next() answers with 429).
SEND_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendpoll",
        "copymessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "editmessagemedia",
    }
)

# Without allowed_updates, Telegram sends every update type but these.
NOT_SENT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)

# A 160x120 JPEG (803 bytes): what a resident's phone "sends" by default.
SAMPLE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABsSFBcUERsXFhceHBsgKEIrKCUlKFE6PTBCYFVlZF9VXVtqeJmBanGQc1td"
    "hbWGkJ6jq62rZ4C8ybqmx5moq6T/2wBDARweHigjKE4rK06kbl1upKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSk"
    "pKSkpKSkpKSkpKSkpKSkpKSkpKT/wAARCAB4AKADASIAAhEBAxEB/8QAGQABAQEBAQEAAAAAAAAAAAAAAAUEBgMB/8QA"
    "JBABAAEBBwUBAQAAAAAAAAAAAAEDAgQUFVJTkTRyorHRETH/xAAZAQEAAwEBAAAAAAAAAAAAAAAAAwQFAQL/xAAmEQEA"
    "AQICCwEBAAAAAAAAAAAAAQIDBBMREhQxMkFCUVKBkcEh/9oADAMBAAIRAxEAPwDEAuKwAAAAAAAAAAAAAAAAAAAAAADR"
    "gbzt+UPNVdNPFOh2ImdzONGBvO35QYG87flDznW/KPrupV2ZxowN52/KDA3nb8oM635R9NSrszjRgbzt+UGBvO35QZ1v"
    "yj6alXZnGjA3nb8oMDedvygzrflH01KuzONGBvO35Q8LVmbNqbNqPyYn8l6prpq4Z0uTTMb4fAHpwAAAAAAdA590DNx/"
    "T7/FmxzAGasAAAAAACHeOoq98+1xDvHUVe+fbQwHFKC/uh5gNRVAAAAAAHQOfdAzcf0+/wAWbHMAZqwAAAAAAId46ir3"
    "z7XEO8dRV759tDAcUoL+6HmA1FUAAAAAAdA590DNx/T7/FmxzAGasAAAAAACHeOoq98+1xDvHUVe+fbQwHFKC/uh5gNR"
    "VAAAAAAHQOfbMyraafE/VPF2a7ujV5JrVcU6dKoJeZVtNPifpmVbTT4n6pbFdTZ1KoJeZVtNPifpmVbTT4n6bFdM6lUE"
    "vMq2mnxP0zKtpp8T9NiumdSqCXmVbTT4n6ZlW00+J+mxXTOpVEO8dRV759tGZVtNPifrJbtTbt2rc/21P7P4t4WxXamZ"
    "qRXa4qj+PgC8gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAf/9k="
)
# A 64x64 WEBP (82 bytes), for stickers.
SAMPLE_WEBP = base64.b64decode(
    "UklGRkoAAABXRUJQVlA4ID4AAADQAwCdASpAAEAAP3G412Q0ryumoggCkC4JaQAW30CBunFJKHxrssAA/uN3f/62/HP5rqb/BrvScgQerCAAAA=="
)


class ApiError(Exception):
    """An error answer of the Bot API: raised by method handlers, turned into the envelope."""

    def __init__(self, status: int, description: str, parameters: Json | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class EntityParseError(ValueError):
    """The text does not parse in the requested parse mode (message without Telegram's prefix)."""
