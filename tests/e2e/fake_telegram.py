"""A strict fake of the Telegram Bot API, for Palabre's end-to-end tests.

Telegram cannot be reached from the tests, and a lenient mock would let through exactly the
mistakes that only show up in production (a 65-byte callback_data, an unescaped ``<`` in a
commune name, a 4097-character digest, a broadcast that trips the flood limits...). This module
serves the Bot API over real HTTP on 127.0.0.1, in the test's event loop, so that the bot (an
``aiogram.Bot`` in the same process, or the real ``palabre run`` process) talks to it exactly as
it talks to ``api.telegram.org``:

    async with FakeTelegram() as fake:
        # point the bot at fake.base_url with fake.token, start it, then:
        resident = fake.user(1001, "Marie")
        await resident.send_command("/start")
        welcome = await resident.wait_message("Bienvenue")
        await resident.tap("Signaler un problème")
        ...

What it emulates, and how strictly:

* Routes ``/bot{token}/{method}`` (GET or POST; JSON, urlencoded or multipart bodies, with
  nested objects as JSON strings inside form fields, as aiogram sends them) and
  ``/file/bot{token}/{file_path}``. Telegram's envelope, status codes and error wording, so that
  aiogram raises the same exception classes it would raise against Telegram.
* Long polling with ``offset``/``limit``/``timeout``/``allowed_updates``, the 409 of two
  concurrent ``getUpdates`` and of ``getUpdates`` while a webhook is set.
* Messages, edits, deletions, callback queries, photos/documents (uploads are kept and can be
  downloaded back), polls, chat actions, commands, menu button, webhook settings.
* Validation with Telegram's limits: text 1..4096 and captions ..1024 characters *after* entity
  parsing, callback_data 1..64 bytes, button texts, URLs of URL buttons, poll sizes, command
  names, HTML parse mode (tags, attributes, nesting, entities).
  ``strict_html`` (on by default) is one notch stricter than the real server: it rejects a bare
  ``&`` or ``>``, which the Bot API documentation requires to be escaped but which the server
  tolerates, because an unescaped ``&`` in user-provided text means an unescaped ``<`` will
  eventually break the message.
* Unknown chats ("chat not found": a private chat exists only once its user wrote to the bot),
  blocked users (403), flood limits (429 with ``retry_after``), and privacy mode in groups
  (the bot only receives commands, replies to itself and mentions).

Stored messages are Telegram-shaped dicts (``msg["text"]``, ``msg["reply_markup"]``,
``msg.get("photo")``...). As on Telegram, ``text``/``caption`` are the *parsed* strings (tags
stripped, entities in ``entities``/``caption_entities``) and are trimmed of surrounding
whitespace; the raw parameters are in :attr:`FakeTelegram.requests`.

Not emulated (requests for them answer 404 or a 400 that says so): inline mode, payments,
media groups, channels, Markdown parse modes, webhook delivery, automatic url/mention entity
detection in plain text.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import inspect
import itertools
import json
import logging
import math
import mimetypes
import random
import re
import secrets
import socket
import struct
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from aiohttp import web

from tests.e2e.patience import patient

if TYPE_CHECKING:  # pragma: no cover - only for type hints of the optional helpers
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

log = logging.getLogger(__name__)

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


# --------------------------------------------------------------------------------------------
# Text: UTF-16 offsets, HTML parse mode, trimming
# --------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit of Telegram's entity offsets and lengths."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_PLAIN_RUN = re.compile(r"[^&<>]+")
_ASCII_SPACE = " \t\n\r\v\f"


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output where the entity starts
    out_index: int  # index in the output pieces, to recover the tag's text (for <a> without href)
    order: int  # opening order, to sort entities covering the same range outer-first


def _decode_html_entity(source: str, i: int) -> tuple[str, int] | None:
    """Decode the character reference at source[i] == '&' like tdlib does.

    Returns (character, index after it), or None when tdlib would keep the '&' literally
    (unknown named entity, malformed numeric reference).
    """
    n = len(source)
    j = i + 1
    if j < n and source[j] == "#":
        j += 1
        base = 10
        if j < n and source[j] == "x":  # tdlib only knows the lowercase x
            base = 16
            j += 1
        start = j
        allowed = "0123456789abcdefABCDEF" if base == 16 else "0123456789"
        while j < n and source[j] in allowed:
            j += 1
        digits = source[start:j]
        if not digits or j - i >= 10:
            return None
        code = int(digits, base)
        if code == 0 or code >= 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = j
        while j < n and source[j].isascii() and source[j].isalpha():
            j += 1
        char = _NAMED_ENTITIES.get(source[start:j], "")
        if not char:
            return None
    if j < n and source[j] == ";":
        j += 1
    return char, j


def _normalize_link(url: str) -> str | None:
    """What tdlib's check_url makes of an href: None when Telegram drops the link."""
    if not url or any(c.isspace() for c in url):
        return None
    parsed = urllib.parse.urlsplit(url if "://" in url or url.lower().startswith("tg:") else "http://" + url)
    scheme = parsed.scheme.lower()
    if scheme == "tg":
        return url
    if scheme not in {"http", "https", "ton", "ftp"}:
        return None
    host = parsed.hostname or ""
    if "." not in host or host.endswith(".") or host.startswith("."):
        return None
    normalized = parsed.geturl()
    if not parsed.path:
        normalized = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, "/", parsed.query, parsed.fragment))
    return normalized


def parse_html(source: str, *, strict: bool = True) -> tuple[str, list[Json]]:
    """Parse Telegram's HTML parse mode into (plain text, entities), or raise EntityParseError.

    Follows tdlib's parser (tags, attributes, error messages with byte offsets). With ``strict``,
    a '&' that is not a character reference and a bare '>' are errors too (see module docstring).
    """
    out: list[str] = []
    pos = 0
    stack: list[_OpenTag] = []
    found: list[tuple[int, int, int, Json]] = []  # (offset, -length, order, entity)
    orders = itertools.count()
    n = len(source)
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8", "surrogatepass"))

    def emit(piece: str) -> None:
        nonlocal pos
        out.append(piece)
        pos += utf16_len(piece)

    while i < n:
        char = source[i]
        if char == "&":
            decoded = _decode_html_entity(source, i)
            if decoded is None:
                if strict:
                    raise EntityParseError(
                        f'Unescaped "&" at byte offset {byte_offset(i)} (FakeTelegram strict_html: the Bot API requires &amp;)'
                    )
                emit("&")
                i += 1
                continue
            emit(decoded[0])
            i = decoded[1]
            continue
        if char == ">":
            if strict:
                raise EntityParseError(
                    f'Unescaped ">" at byte offset {byte_offset(i)} (FakeTelegram strict_html: the Bot API requires &gt;)'
                )
            emit(">")
            i += 1
            continue
        if char != "<":
            match = _PLAIN_RUN.match(source, i)
            assert match is not None
            emit(match.group())
            i = match.end()
            continue

        begin = i
        if i + 1 < n and source[i + 1] == "/":
            # End tag: closes the innermost open tag ("</>" closes whatever is open).
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 2
            while j < n and not source[j].isspace() and source[j] != ">":
                j += 1
            end_name = source[i + 2 : j].lower()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            top = stack[-1]
            if end_name and end_name != top.name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", found "</{end_name}>"'
                )
            stack.pop()
            i = j + 1
            entity = _entity_for(top, pos, "".join(out[top.out_index :]), found)
            if entity is not None:
                found.append((entity["offset"], -entity["length"], top.order, entity))
            continue

        # Start tag.
        j = i + 1
        while j < n and not source[j].isspace() and source[j] != ">":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i + 1 : j].lower()
        if name not in _HTML_TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] == ">":
                break
            attr_start = j
            while j < n and not source[j].isspace() and source[j] not in "=>":
                j += 1
            attr = source[attr_start:j].lower()
            if not attr:
                raise EntityParseError(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}')
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            if source[j] != "=":
                attrs.setdefault(attr, "")  # valueless attribute, e.g. <blockquote expandable>
                continue
            j += 1
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise EntityParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(begin)}')
            quote = source[j]
            if quote in "\"'":
                j += 1
                value: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded = _decode_html_entity(source, j)
                        if decoded is not None:
                            value.append(decoded[0])
                            j = decoded[1]
                            continue
                    value.append(source[j])
                    j += 1
                if j >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                j += 1
                attrs.setdefault(attr, "".join(value))
            else:
                token_start = j
                while j < n and ((source[j].isascii() and source[j].isalnum()) or source[j] in ".-"):
                    j += 1
                if j < n and not source[j].isspace() and source[j] != ">":
                    raise EntityParseError(f"Unexpected end of name token at byte offset {byte_offset(token_start)}")
                attrs.setdefault(attr, source[token_start:j].lower())
        i = j + 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise EntityParseError(f'Tag "tg-emoji" must have a numeric "emoji-id" at byte offset {byte_offset(begin)}')
        if name == "tg-time" and not attrs.get("unix", "").isdigit():
            raise EntityParseError(f'Tag "tg-time" must have a numeric "unix" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attrs, pos, len(out), next(orders)))

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities = [entity for *_, entity in sorted(found, key=lambda item: item[:3])]
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), entities


def _entity_for(tag: _OpenTag, end: int, inner_text: str, found: list[tuple[int, int, int, Json]]) -> Json | None:
    """The entity a closed tag produces (None for empty ranges and dropped links)."""
    length = end - tag.start
    if length <= 0:
        return None
    entity: Json = {"type": _HTML_TAGS[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        url = _normalize_link(tag.attrs.get("href") or inner_text)
        if url is None:
            return None
        entity["url"] = url
    elif tag.name == "code":
        css = tag.attrs.get("class", "")
        if css.startswith("language-") and len(css) > len("language-"):
            entity["_language"] = css[len("language-") :]
    elif tag.name == "pre":
        # <pre><code class="language-x">...</code></pre> is one pre entity with a language.
        for index, (_, _, _, inner) in enumerate(found):
            if inner["type"] == "code" and "_language" in inner and inner["offset"] == tag.start and inner["length"] == length:
                entity["language"] = inner["_language"]
                del found[index]
                break
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "tg-time":
        entity["unix_time"] = int(tag.attrs["unix"])
        if tag.attrs.get("format"):
            entity["date_time_format"] = tag.attrs["format"]
    return entity


def trim_text(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    """Strip surrounding whitespace like Telegram does, keeping entities on the same characters."""
    stripped = text.strip(_ASCII_SPACE)
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(_ASCII_SPACE))])
    total = utf16_len(stripped)
    kept: list[Json] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        stop = min(entity["offset"] + entity["length"] - shift, total)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


# --------------------------------------------------------------------------------------------
# Small helpers: waiting, parameters, files
# --------------------------------------------------------------------------------------------


class _Notifier:
    """Wake every waiter when something changed (a lock-free asyncio.Condition)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """Wait for the next notify(); False on timeout. Checks made before awaiting this are
        race-free: the event is captured synchronously, before any other task can run."""
        event = self._event
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)

    def __repr__(self) -> str:
        return f"Upload(filename={self.filename!r}, content_type={self.content_type!r}, size={len(self.data)})"


@dataclass
class StoredFile:
    """A file the fake knows (uploaded by the bot or sent by a fake user), served by getFile."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)
    kind: str  # "photo", "document", "sticker"
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)


@dataclass
class CallbackRecord:
    """A callback_query sent by a fake user, and the bot's answer to it."""

    id: str
    chat_id: int
    user_id: int
    message_id: int
    data: str
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    answer: Json | None = None


@dataclass
class ErrorRecord:
    """An error answer given to the bot (for assertions and for failure messages)."""

    method: str
    params: Json
    status: int
    description: str


@dataclass
class RequestTrap:
    """Holds the answer to the first request matching it (see ``FakeTelegram.trap``)."""

    method: str
    match: Callable[[Json], bool]
    hit: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    params: Json | None = None

    def release(self) -> None:
        """Let the held answer go (if the bot is still there to read it)."""
        self.released.set()


@dataclass
class _PendingUpdate:
    update: Json
    kind: str
    chat_id: int | None
    delivered: bool = False
    again: bool = False  # sent again by `deliver_again`: survives the offset that confirmed it once

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _MessageEvent:
    seq: int
    kind: str  # "sent" or "edited"
    message_id: int
    snapshot: Json


@dataclass
class _Call:
    method: str
    params: Json
    uploads: dict[str, Upload]


@dataclass
class _Ok:
    """A successful result that Telegram accompanies with a description (webhook methods)."""

    result: Any
    description: str


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


def _describe_message(message: Json) -> str:
    """One line per message for assertion errors: text/caption, media, buttons."""
    parts = [f"#{message.get('message_id')}"]
    if message.get("edit_date"):
        parts.append("(edited)")
    for key in ("photo", "document", "sticker", "poll", "location"):
        if key in message:
            parts.append(f"[{key}]")
    content = message.get("text") or message.get("caption") or (message.get("poll") or {}).get("question") or ""
    parts.append(repr(content[:160] + ("…" if len(content) > 160 else "")))
    markup = message.get("reply_markup") or {}
    buttons = [button.get("text") for row in markup.get("inline_keyboard", []) for button in row]
    if buttons:
        parts.append(f"buttons={buttons}")
    return " ".join(parts)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A fake Bot API server. See the module docstring; the rate limits are plain attributes
    that tests may change at any time (None disables a limit)."""

    def __init__(
        self,
        *,
        token: str = "123456:TEST-token",
        bot_username: str = "palabre_test_bot",
        bot_first_name: str = "Palabre",
        global_per_second: int | None = 30,
        per_chat_per_second: int | None = None,
        per_group_per_minute: int | None = 20,
        strict_html: bool = True,
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"not a Bot API token: {token!r}")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.global_per_second = global_per_second
        self.per_chat_per_second = per_chat_per_second
        self.per_group_per_minute = per_group_per_minute
        self.strict_html = strict_html
        self.privacy_mode = privacy_mode
        self._host = host
        # Only the flood-control windows use this clock, so that tests of the limits can freeze
        # time instead of depending on how fast the machine sends; waiting helpers use real time.
        self.clock = clock

        # Inspection (public, read by tests).
        self.requests: list[tuple[str, Json]] = []
        self.errors: list[ErrorRecord] = []
        self.rate_limited: list[tuple[str, Json, int]] = []  # (method, params, retry_after)
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.menu_buttons: dict[int | None, Json] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted: list[tuple[int, int]] = []  # (chat_id, message_id)
        self.files: dict[str, StoredFile] = {}
        self.webhook: Json | None = None
        self.filtered_updates: list[tuple[Json, str]] = []  # updates Telegram would not deliver, and why
        self.unknown_methods: list[str] = []

        # State.
        self._chats: dict[int, Json] = {}
        self._messages: dict[int, dict[int, Json]] = {}  # chat -> message_id -> every message
        self._bot_messages: dict[int, list[Json]] = {}  # chat -> the bot's messages, in order
        self._events: dict[int, list[_MessageEvent]] = {}
        self._next_message_id: dict[int, int] = {}
        self._reply_keyboards: dict[int, list[list[Json]] | None] = {}
        self._blocked: set[int] = set()
        self._users: dict[int, FakeUser] = {}
        self._actors: dict[tuple[int, int], FakeUser] = {}
        self._callbacks: dict[str, CallbackRecord] = {}
        self._polls: dict[str, tuple[int, int]] = {}  # poll id -> (chat_id, message_id)
        self._poll_votes: dict[str, dict[int, list[int]]] = {}  # poll id -> user -> options
        self._photo_sizes: dict[str, list[Json]] = {}  # any size's file_id -> all sizes
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._seq = 0

        self._pending: list[_PendingUpdate] = []
        self._webhook_targets: list[str] = []
        self._webhook_turn = 0
        self._webhook_tasks: set[asyncio.Task[None]] = set()
        self._webhook_client: Any = None
        self.webhook_deliveries: list[tuple[str, int, int]] = []
        self._next_update_id = 100_000
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0

        self._global_sends: deque[float] = deque()
        self._chat_sends: dict[int, deque[float]] = {}
        self._throttle_left = 0
        self._throttle_retry_after = 1

        self._activity: dict[int, float] = {}
        self._updates_changed = _Notifier()
        self._messages_changed = _Notifier()
        self._activity_changed = _Notifier()
        self._requests_changed = _Notifier()

        # Seconds every Bot API call but getUpdates waits before it is handled, as a round trip to
        # Telegram does: a number, or (low, high) for a uniform draw; None answers at once.
        self.latency: float | tuple[float, float] | None = None
        self._traps: list[RequestTrap] = []

        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, Callable[[_Call], Any]] = {
            "getme": self._m_get_me,
            "logout": self._m_true,
            "close": self._m_true,
            "getupdates": self._m_get_updates,
            "setwebhook": self._m_set_webhook,
            "deletewebhook": self._m_delete_webhook,
            "getwebhookinfo": self._m_get_webhook_info,
            "setmycommands": self._m_set_my_commands,
            "getmycommands": self._m_get_my_commands,
            "deletemycommands": self._m_delete_my_commands,
            "setchatmenubutton": self._m_set_chat_menu_button,
            "getchatmenubutton": self._m_get_chat_menu_button,
            "sendmessage": self._m_send_message,
            "editmessagetext": self._m_edit_message_text,
            "editmessagecaption": self._m_edit_message_caption,
            "editmessagereplymarkup": self._m_edit_message_reply_markup,
            "deletemessage": self._m_delete_message,
            "answercallbackquery": self._m_answer_callback_query,
            "sendchataction": self._m_send_chat_action,
            "sendphoto": self._m_send_photo,
            "senddocument": self._m_send_document,
            "sendpoll": self._m_send_poll,
            "stoppoll": self._m_stop_poll,
            "getfile": self._m_get_file,
        }

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an OS-chosen port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram already started")
        app = web.Application(client_max_size=UPLOAD_MAX_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: when a client gives up on a long poll (e.g. the dispatcher is
        # stopped), the waiting handler goes away instead of lingering and answering a 409 later.
        runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        self._port = sock.getsockname()[1]
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._closing = False

    def deliver_by_webhook(self, targets: list[str]) -> None:
        """From now on act as Telegram in webhook mode behind a load balancer: each new update is
        POSTed, with the secret token of setWebhook, to the next of `targets` in turn (round robin),
        without waiting for the previous one, as Telegram does with several connections.
        `webhook_deliveries` records (target, update_id, HTTP status) for each."""
        if self.webhook is None:
            raise AssertionError("the bot has not called setWebhook")
        self._webhook_targets = list(targets)
        self._webhook_turn = 0

    def _push_by_webhook(self, update: Json) -> None:
        import aiohttp

        target = self._webhook_targets[self._webhook_turn % len(self._webhook_targets)]
        self._webhook_turn += 1
        secret = (self.webhook or {}).get("secret_token")

        async def post() -> None:
            if self._webhook_client is None:
                self._webhook_client = aiohttp.ClientSession()
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
            async with self._webhook_client.post(target, json=update, headers=headers) as response:
                await response.read()
                self.webhook_deliveries.append((target, int(update["update_id"]), response.status))

        task = asyncio.get_running_loop().create_task(post())
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)

    async def stop(self) -> None:
        """Answer pending long polls with [] and close the server."""
        for task in list(self._webhook_tasks):
            task.cancel()
        if self._webhook_client is not None:
            await self._webhook_client.close()
            self._webhook_client = None
        if self._runner is None:
            return
        self._closing = True
        self._updates_changed.notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """E.g. http://127.0.0.1:41234, for TelegramAPIServer.from_base()."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self._host}:{self._port}"

    def api_server(self) -> TelegramAPIServer:
        """An aiogram TelegramAPIServer pointing at this fake."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    def aiogram_session(self) -> AiohttpSession:
        """A fresh aiogram session pointing at this fake (pass it to aiogram.Bot)."""
        from aiogram.client.session.aiohttp import AiohttpSession

        return AiohttpSession(api=self.api_server())

    # ---- test-side API ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Camille",
        language_code: str | None = "fr",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The resident with this id, in their private chat with the bot (same object each time)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user: Json = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        chat: Json = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name:
            chat["last_name"] = last_name
        if username:
            chat["username"] = username
        actor = FakeUser(self, user, chat)
        self._users[user_id] = actor
        return actor

    def group(self, chat_id: int, title: str = "Conseil de quartier") -> FakeGroup:
        """A supergroup the bot is a member of. Act in it with ``fake.user(...).in_chat(chat_id)``."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = self._chats.get(chat_id) or {"id": chat_id, "type": "supergroup", "title": title}
        self._open_chat(chat)
        return FakeGroup(self, chat)

    def block(self, chat_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot (a group removes it): every send to the chat answers 403,
        until ``unblock`` or until the user writes to the bot again (as on Telegram, where
        writing to a blocked bot means restarting it).

        With ``notify``, also send the my_chat_member update Telegram sends in that case."""
        self._blocked.add(chat_id)
        chat = self._chats.get(chat_id)
        if notify and chat is not None:
            actor = self._users.get(chat_id)
            sender = actor.user if actor is not None else {"id": abs(chat_id), "is_bot": False, "first_name": "?"}
            self._enqueue(
                "my_chat_member",
                {
                    "chat": copy.deepcopy(chat),
                    "from": sender,
                    "date": int(time.time()),
                    "old_chat_member": {"status": "member", "user": self.bot_user},
                    "new_chat_member": {"status": "kicked", "user": self.bot_user, "until_date": 0},
                },
                chat_id,
            )

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def throttle_next(self, n_requests: int, retry_after: int) -> None:
        """Answer 429 (with this retry_after) to the next n send-like requests, whatever the rate."""
        self._throttle_left = n_requests
        self._throttle_retry_after = retry_after

    def trap(self, method: str, match: Callable[[Json], bool] | str | None = None) -> RequestTrap:
        """Catch the first ``method`` request whose params match (a callable, or a substring of its
        text or caption): it is handled (the message is sent, as Telegram would once the request
        arrived), then ``trap.hit`` is set and the answer is held until ``trap.release()``. A test
        can kill the bot right then: the bot made the call but never learnt it succeeded."""
        if isinstance(match, str):
            needle = match
            match = lambda params: needle in str(params.get("text") or "") + str(params.get("caption") or "")  # noqa: E731
        trap = RequestTrap(method.lower(), match or (lambda _params: True))
        self._traps.append(trap)
        return trap

    def _sprung(self, key: str, params: Json) -> RequestTrap | None:
        for trap in self._traps:
            if trap.method == key and not trap.hit.is_set() and trap.match(params):
                trap.params = params
                trap.hit.set()
                return trap
        return None

    async def _round_trip(self) -> None:
        latency = self.latency
        if isinstance(latency, tuple):
            latency = random.uniform(*latency)
        if latency:
            await asyncio.sleep(latency)

    @property
    def count_429(self) -> int:
        return len(self.rate_limited)

    def sent_to(self, chat_id: int) -> list[Json]:
        """The bot's messages in a chat, in order, as currently stored (edits applied, deleted
        ones removed). The dicts are live: they change when the bot edits them."""
        return list(self._bot_messages.get(chat_id, []))

    def calls(self, method: str) -> list[Json]:
        """The params of every request to ``method`` (case-insensitive), in order."""
        wanted = method.lower()
        return [params for name, params in self.requests if name.lower() == wanted]

    def errors_for(self, chat_id: int) -> list[ErrorRecord]:
        return [error for error in self.errors if error.params.get("chat_id") == chat_id]

    def assert_no_errors(self, *, allow: Iterable[str] = ()) -> None:
        """Fail if the bot got any error answer, except descriptions containing one of ``allow``."""
        allowed = tuple(allow)
        unexpected = [e for e in self.errors if not any(fragment in e.description for fragment in allowed)]
        if unexpected:
            lines = [f"{e.method} -> {e.status} {e.description} (params={e.params})" for e in unexpected]
            raise AssertionError("the bot received error answers:\n" + "\n".join(lines))

    @property
    def pending_updates(self) -> list[Json]:
        """Updates not confirmed by the bot yet (an offset above their update_id)."""
        return [pending.update for pending in self._pending]

    def marker(self) -> int:
        """A point in time for ``wait_message(after=...)``: only later sends/edits match."""
        return self._seq

    async def wait_request(self, method: str, *, count: int = 1, timeout: float = 10.0) -> Json:
        """Wait until ``method`` has been called ``count`` times in total; return those params."""
        timeout = patient(timeout)
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls(method)
            if len(calls) >= count:
                return calls[count - 1]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{method} was called {len(calls)} times within {timeout}s, expected {count}")
            await self._requests_changed.wait(remaining)

    async def wait_idle(self, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until no request concerned any chat for ``quiet`` seconds and every update was fetched."""
        await self._wait_quiet(None, quiet, timeout)

    # ---- internals shared with FakeUser ----------------------------------------------------

    def _open_chat(self, chat: Json) -> None:
        chat_id = chat["id"]
        if chat_id not in self._chats:
            self._chats[chat_id] = chat
            self._messages.setdefault(chat_id, {})
            self._bot_messages.setdefault(chat_id, [])
            self._events.setdefault(chat_id, [])

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = message_id
        return message_id

    def _bump_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _touch(self, chat_id: int | None) -> None:
        if chat_id is None:
            return
        self._activity[chat_id] = time.monotonic()
        self._activity_changed.notify()

    def _is_allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in NOT_SENT_BY_DEFAULT
        return kind in self._allowed_updates

    def _enqueue(self, kind: str, payload: Json, chat_id: int | None, *, deliver: bool = True, reason: str = "") -> Json:
        """Queue an update for getUpdates. The payload is copied: the update shows the state of
        things when it happened, not after later edits."""
        self._next_update_id += 1
        update = {"update_id": self._next_update_id, kind: copy.deepcopy(payload)}
        if deliver and self._webhook_targets:
            self._pending.append(_PendingUpdate(update, kind, chat_id, delivered=True))
            self._push_by_webhook(update)
        elif deliver:
            self._pending.append(_PendingUpdate(update, kind, chat_id))
            self._updates_changed.notify()
        else:
            self.filtered_updates.append((update, reason))
        self._touch(chat_id)
        return update

    def deliver_again(self, update: Json) -> None:
        """Deliver an update a second time, with its update_id, as Telegram does when the bot's
        confirmation was lost (a crash, a webhook answer that timed out)."""
        if self._webhook_targets:
            self._push_by_webhook(copy.deepcopy(update))
            return
        self._pending.insert(
            0, _PendingUpdate(copy.deepcopy(update), next(k for k in update if k != "update_id"), None, again=True)
        )
        self._updates_changed.notify()

    def _store_message(self, chat_id: int, message: Json, *, from_bot: bool) -> None:
        self._messages[chat_id][message["message_id"]] = message
        if from_bot:
            self._bot_messages[chat_id].append(message)
            self._record_event(chat_id, "sent", message)

    def _record_event(self, chat_id: int, kind: str, message: Json) -> None:
        event = _MessageEvent(self._bump_seq(), kind, message["message_id"], copy.deepcopy(message))
        self._events[chat_id].append(event)
        self._messages_changed.notify()

    async def _wait_quiet(self, chat_id: int | None, quiet: float, timeout: float) -> None:
        # A loaded machine pauses longer between steps: "quiet" must outlast those pauses too.
        quiet, timeout = patient(quiet), patient(timeout)
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            unfetched = [p for p in self._pending if not p.delivered and (chat_id is None or p.chat_id == chat_id)]
            activity = self._activity.values() if chat_id is None else [self._activity.get(chat_id, 0.0)]
            last = max(activity, default=0.0)
            idle_for = now - last
            if not unfetched and idle_for >= quiet:
                return
            if now >= deadline:
                where = "any chat" if chat_id is None else f"chat {chat_id}"
                if unfetched:
                    raise AssertionError(
                        f"{len(unfetched)} update(s) for {where} were never fetched by getUpdates "
                        f"within {timeout}s: is the bot polling?"
                    )
                raise AssertionError(f"the bot was still busy with {where} after {timeout}s")
            wait_for = quiet - idle_for if not unfetched and idle_for < quiet else quiet
            await self._activity_changed.wait(min(max(wait_for, 0.01), deadline - now))

    # ---- HTTP ------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> tuple[Json, dict[str, Upload]]:
        raw: Json = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.body_exists:
            content_type = request.content_type
            try:
                if content_type == "application/json":
                    try:
                        body = await request.json()
                    except ValueError:
                        raise ApiError(400, "Bad Request: can't parse JSON object") from None
                    if not isinstance(body, dict):
                        raise ApiError(400, "Bad Request: can't parse JSON object")
                    raw.update(body)
                elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                    form = await request.post()
                    for key, value in form.items():
                        if isinstance(value, web.FileField):
                            uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                        else:
                            raw[key] = value
            except web.HTTPRequestEntityTooLarge:
                raise ApiError(413, "Request Entity Too Large") from None
        params = _normalize_params(raw)
        attached = {v[len("attach://") :] for v in params.values() if isinstance(v, str) and v.startswith("attach://")}
        for key, upload in uploads.items():
            if key not in attached:  # a file sent directly in the field (not via attach://)
                params[key] = upload
        return params, uploads

    def _respond(self, body: Json, status: int = 200) -> web.Response:
        return web.json_response(body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    def _fail(self, method: str, params: Json, error: ApiError) -> web.Response:
        self.errors.append(ErrorRecord(method, params, error.status, error.description))
        log.info("FakeTelegram: %s -> %s %s", method, error.status, error.description)
        return self._respond(error.body(), error.status)

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._fail(method, {}, ApiError(401, "Unauthorized"))
        try:
            params, uploads = await self._read_params(request)
        except ApiError as error:
            return self._fail(method, {}, error)
        self.requests.append((method, params))
        self._requests_changed.notify()
        chat_id = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
        self._touch(chat_id)
        key = method.lower()
        if key != "getupdates":
            await self._round_trip()
        trap: RequestTrap | None = None
        try:
            handler = self._handlers.get(key)
            if handler is None:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found: method not found")
            if key in SEND_METHODS and self._throttle_left > 0:
                self._throttle_left -= 1
                self._too_many(self._throttle_retry_after)
            result = handler(_Call(method, params, uploads))
            if inspect.isawaitable(result):
                result = await result
            trap = self._sprung(key, params)
        except ApiError as error:
            if error.status == 429:
                self.rate_limited.append((method, params, int((error.parameters or {}).get("retry_after", 0))))
            return self._fail(method, params, error)
        except Exception as exc:  # a bug of the fake must not look like a Telegram answer
            log.exception("FakeTelegram crashed on %s", method)
            return self._fail(method, params, ApiError(500, f"Internal Server Error: FakeTelegram bug: {exc!r}"))
        finally:
            self._touch(chat_id)
        if trap is not None:
            await trap.released.wait()  # cancelled with the request if the bot goes away
        body: Json = {"ok": True, "result": result}
        if isinstance(result, _Ok):
            body = {"ok": True, "result": result.result, "description": result.description}
        return self._respond(body)

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return self._respond({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    # ---- shared validation -----------------------------------------------------------------

    def _too_many(self, retry_after: int) -> None:
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def _rate_gate(self, chat_id: int) -> None:
        """Telegram's flood control: check, then count this send. Call it after validation,
        right before performing the send (a refused send is not performed)."""
        now = self.clock()
        chat_window = 60.0 if chat_id < 0 else 1.0
        chat_sends = self._chat_sends.setdefault(chat_id, deque())
        for sends, window in ((self._global_sends, 1.0), (chat_sends, chat_window)):
            while sends and now - sends[0] >= window:
                sends.popleft()
        limits: list[tuple[deque[float], int, float]] = []
        if self.global_per_second:
            limits.append((self._global_sends, self.global_per_second, 1.0))
        if chat_id < 0 and self.per_group_per_minute:
            limits.append((chat_sends, self.per_group_per_minute, 60.0))
        if chat_id > 0 and self.per_chat_per_second:
            limits.append((chat_sends, self.per_chat_per_second, 1.0))
        for sends, limit, window in limits:
            if len(sends) >= limit:
                self._too_many(max(1, math.ceil(window - (now - sends[-limit]))))
        self._global_sends.append(now)
        chat_sends.append(now)

    def _chat(self, p: Json) -> Json:
        value = p.get("chat_id")
        if value is None or value == "":
            raise ApiError(400, ERR_CHAT_ID_EMPTY)
        if isinstance(value, str):
            name = value.lstrip("@").lower()
            chat = next((c for c in self._chats.values() if str(c.get("username", "")).lower() == name), None)
        elif isinstance(value, int) and not isinstance(value, bool):
            chat = self._chats.get(value)
        else:
            raise ApiError(400, 'Bad Request: field "chat_id" must be of type Integer or String')
        if chat is None:
            raise ApiError(400, ERR_CHAT_NOT_FOUND)
        return chat

    def _send_chat(self, p: Json) -> Json:
        chat = self._chat(p)
        if chat["id"] in self._blocked:
            raise ApiError(403, ERR_KICKED if chat["id"] < 0 else ERR_BLOCKED)
        return chat

    def _format(self, raw: str, parse_mode: Any, entities: Any, *, entities_field: str) -> tuple[str, list[Json]]:
        """Parse a text/caption like Telegram: parse mode or explicit entities, then trim."""
        if parse_mode:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    text, parsed = parse_html(raw, strict=self.strict_html)
                except EntityParseError as exc:
                    raise ApiError(400, ERR_PARSE_ENTITIES + str(exc)) from None
            elif mode in ("markdown", "markdownv2"):
                raise ApiError(400, ERR_PARSE_ENTITIES + f"FakeTelegram does not emulate parse_mode {parse_mode!r}; use HTML")
            else:
                raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            text = raw
            if entities is None:
                parsed = []
            elif isinstance(entities, list) and all(
                isinstance(e, dict)
                and isinstance(e.get("type"), str)
                and isinstance(e.get("offset"), int)
                and isinstance(e.get("length"), int)
                for e in entities
            ):
                parsed = [dict(e) for e in entities if e["length"] > 0]
            else:
                raise ApiError(400, f"Bad Request: can't parse {entities_field} JSON object")
        return trim_text(text, parsed)

    def _text(self, p: Json, *, required_error: str) -> tuple[str, list[Json]]:
        raw = _opt_str(p, "text")
        if not raw:
            raise ApiError(400, required_error)
        text, entities = self._format(
            raw,
            p.get("parse_mode"),
            _opt_json(p, "entities", "Bad Request: can't parse entities JSON object"),
            entities_field="entities",
        )
        if not text:
            raise ApiError(400, ERR_TEXT_EMPTY)
        if len(text) > TEXT_MAX:  # code points, like tdlib's utf8_length
            raise ApiError(400, ERR_TEXT_TOO_LONG)
        return text, entities

    def _caption(self, p: Json) -> tuple[str, list[Json]]:
        raw = _opt_str(p, "caption") or ""
        if not raw:
            return "", []
        caption, entities = self._format(
            raw,
            p.get("parse_mode"),
            _opt_json(p, "caption_entities", "Bad Request: can't parse caption_entities JSON object"),
            entities_field="caption_entities",
        )
        if len(caption) > CAPTION_MAX:
            raise ApiError(400, ERR_CAPTION_TOO_LONG)
        return caption, entities

    def _markup(self, p: Json, *, inline_only: bool = False) -> tuple[str, Json] | None:
        """Validate reply_markup; return (kind, markup) with kind inline/reply/remove/force_reply."""
        markup = _opt_json(p, "reply_markup", ERR_MARKUP_JSON)
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, ERR_MARKUP_JSON)
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400, 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
                )
            if sum(len(row) for row in rows) > MARKUP_BUTTONS_MAX:
                raise ApiError(400, ERR_MARKUP_TOO_LONG)
            for row in rows:
                for button in row:
                    self._check_inline_button(button)
            return "inline", markup
        if inline_only:
            raise ApiError(400, ERR_INLINE_EXPECTED)
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(400, 'Bad Request: field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays')
            if sum(len(row) for row in rows) > MARKUP_BUTTONS_MAX:
                raise ApiError(400, ERR_MARKUP_TOO_LONG)
            for row in rows:
                for button in row:
                    text = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                    if not isinstance(text, str):
                        raise ApiError(400, 'Bad Request: can\'t parse keyboard button: Field "text" must be of type String')
                    if not text.strip():
                        raise ApiError(400, ERR_KEYBOARD_BUTTON_TEXT)
            return "reply", markup
        if markup.get("remove_keyboard") is True:
            return "remove", markup
        if markup.get("force_reply") is True:
            return "force_reply", markup
        raise ApiError(400, ERR_MARKUP_JSON)

    def _check_inline_button(self, button: Any) -> None:
        if not isinstance(button, dict):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise ApiError(400, 'Bad Request: can\'t parse inline keyboard button: Field "text" must be of type String')
        if not text.strip():
            raise ApiError(400, ERR_BUTTON_TEXT_EMPTY)
        actions = [
            key
            for key in (
                "url",
                "callback_data",
                "web_app",
                "login_url",
                "switch_inline_query",
                "switch_inline_query_current_chat",
                "switch_inline_query_chosen_chat",
                "copy_text",
                "callback_game",
                "pay",
            )
            if key in button and button[key] is not None
        ]
        if not actions:
            raise ApiError(400, ERR_BUTTON_NO_ACTION)
        if "callback_data" in actions:
            data = button["callback_data"]
            if not isinstance(data, str) or not data or len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
                raise ApiError(400, ERR_BUTTON_DATA)
        if "url" in actions:
            url = button["url"]
            scheme = urllib.parse.urlsplit(url).scheme.lower() if isinstance(url, str) else ""
            if scheme == "tg":
                return
            if scheme not in ("http", "https") or _normalize_link(url) is None:
                raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
            host = urllib.parse.urlsplit(url).hostname or ""
            if host in ("localhost",) or re.match(r"^\d+\.\d+\.\d+\.\d+$", host):
                raise ApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")

    def _reply_to(self, p: Json, chat: Json) -> Json | None:
        parameters = _opt_json(p, "reply_parameters", "Bad Request: can't parse reply parameters JSON object")
        allow_missing = _opt_bool(p, "allow_sending_without_reply")
        message_id = _opt_int(p, "reply_to_message_id")
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            allow_missing = bool(parameters.get("allow_sending_without_reply", allow_missing))
            if parameters.get("chat_id") not in (None, chat["id"]):
                raise ApiError(400, "Bad Request: FakeTelegram does not emulate replies to other chats")
        if message_id is None:
            return None
        target = self._messages[chat["id"]].get(message_id) if isinstance(message_id, int) else None
        if target is None:
            if allow_missing:
                return None
            raise ApiError(400, ERR_REPLY_NOT_FOUND)
        reply = copy.deepcopy(target)
        reply.pop("reply_to_message", None)  # Telegram does not nest replies further
        return reply

    def _apply_keyboard(self, chat_id: int, markup: tuple[str, Json] | None) -> None:
        if markup is None:
            return
        kind, body = markup
        if kind == "reply":
            self._reply_keyboards[chat_id] = [
                [b if isinstance(b, dict) else {"text": b} for b in row] for row in body["keyboard"]
            ]
        elif kind == "remove":
            self._reply_keyboards[chat_id] = None

    def _bot_message(self, chat: Json, content: Json, markup: tuple[str, Json] | None, reply_to: Json | None) -> Json:
        """Store a message sent by the bot; return the copy that goes in the API answer."""
        chat_id = chat["id"]
        message: Json = {
            "message_id": self._new_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": copy.deepcopy(chat),
            "date": int(time.time()),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        if markup is not None and markup[0] == "inline" and markup[1]["inline_keyboard"]:
            # Telegram echoes only inline keyboards in Message.reply_markup.
            message["reply_markup"] = {"inline_keyboard": copy.deepcopy(markup[1]["inline_keyboard"])}
        self._apply_keyboard(chat_id, markup)
        self._store_message(chat_id, message, from_bot=True)
        return copy.deepcopy(message)

    def _editable(self, p: Json) -> tuple[Json, Json]:
        if p.get("inline_message_id"):
            raise ApiError(400, "Bad Request: FakeTelegram does not emulate inline messages")
        chat = self._chat(p)
        message_id = _opt_int(p, "message_id")
        message = self._messages[chat["id"]].get(message_id) if message_id is not None else None
        if message is None:
            raise ApiError(400, ERR_EDIT_NOT_FOUND)
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, ERR_CANT_EDIT)
        return chat, message

    def _commit_edit(self, chat: Json, message: Json, changes: Json, markup: tuple[str, Json] | None) -> Json:
        new_markup = {"inline_keyboard": markup[1]["inline_keyboard"]} if markup and markup[1]["inline_keyboard"] else None
        # A None change means "absent", which message.get() also returns for a missing key.
        unchanged = all(message.get(key) == value for key, value in changes.items())
        if unchanged and message.get("reply_markup") == new_markup:
            raise ApiError(400, ERR_NOT_MODIFIED)
        self._rate_gate(chat["id"])
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        if new_markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = copy.deepcopy(new_markup)
        message["edit_date"] = int(time.time())
        self._record_event(chat["id"], "edited", message)
        return copy.deepcopy(message)

    # ---- files -----------------------------------------------------------------------------

    def _new_file(
        self, kind: str, data: bytes, *, extension: str, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        prefixes = {"photo": "AgACAgQAAxkBAA", "document": "BQACAgQAAxkBAA", "sticker": "CAACAgIAAxkBAA"}
        number = next(self._file_counter)
        folder = {"photo": "photos", "document": "documents", "sticker": "stickers"}[kind]
        stored = StoredFile(
            file_id=prefixes[kind] + secrets.token_urlsafe(30),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            file_path=f"{folder}/file_{number}{extension}",
            data=data,
            kind=kind,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _store_photo(self, data: bytes, size: tuple[int, int]) -> list[Json]:
        """The PhotoSize array of a new photo: a thumbnail and the full size. Both serve the
        original bytes (the fake does not resize); the last one is the original."""
        width, height = size
        sizes: list[Json] = []
        for limit in (90, 2560):
            w, h = _scaled(width, height, limit)
            stored = self._new_file("photo", data, extension=".jpg", mime_type="image/jpeg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        for photo_size in sizes:
            self._photo_sizes[photo_size["file_id"]] = sizes
        return sizes

    def _input_file(self, call: _Call, name: str) -> Upload | StoredFile:
        """The file of a send* request: an upload (direct or attach://) or a known file_id."""
        value = call.params.get(name)
        if isinstance(value, Upload):
            upload = value
        elif isinstance(value, str) and value.startswith("attach://"):
            found = call.uploads.get(value[len("attach://") :])
            if found is None:
                raise ApiError(400, f'Bad Request: can\'t find attached file "{value[len("attach://") :]}"')
            upload = found
        elif isinstance(value, str) and value:
            if value.startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: failed to get HTTP URL content (FakeTelegram cannot fetch URLs)")
            stored = self.files.get(value)
            if stored is None:
                raise ApiError(400, ERR_WRONG_FILE_ID)
            return stored
        else:
            raise ApiError(400, f"Bad Request: there is no {name} in the request")
        if not upload.data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return upload

    # ---- methods: bot and webhook ----------------------------------------------------------

    def _m_true(self, call: _Call) -> bool:
        return True

    def _m_get_me(self, call: _Call) -> Json:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_get_updates(self, call: _Call) -> list[Json]:
        p = call.params
        if self.webhook is not None:
            raise ApiError(409, ERR_CONFLICT_WEBHOOK)
        offset = _opt_int(p, "offset")
        limit = _opt_int(p, "limit") or 100
        limit = min(max(limit, 1), 100)
        timeout = min(max(_opt_int(p, "timeout") or 0, 0), LONG_POLL_MAX_SECONDS)
        allowed = _opt_json(p, "allowed_updates", "Bad Request: can't parse allowed_updates JSON object")
        if isinstance(allowed, list):
            # Persistent, like Telegram; an empty list means "the default set".
            self._allowed_updates = frozenset(str(kind) for kind in allowed) or None

        # The newest request wins: an older one still waiting is answered 409 below.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_changed.notify()

        if offset is not None and offset != 0:
            if offset > 0:
                self._pending = [pending for pending in self._pending if pending.update_id >= offset or pending.again]
            else:
                self._pending = self._pending[offset:]
        deadline = time.monotonic() + timeout
        while True:
            if self.webhook is not None:
                raise ApiError(409, ERR_CONFLICT_WEBHOOK)
            if generation != self._poll_generation:
                raise ApiError(409, ERR_CONFLICT_POLL)
            batch = self._deliverable(limit)
            remaining = deadline - time.monotonic()
            if batch or remaining <= 0 or self._closing:
                return batch
            await self._updates_changed.wait(remaining)

    def _deliverable(self, limit: int) -> list[Json]:
        batch: list[Json] = []
        kept: list[_PendingUpdate] = []
        for pending in self._pending:
            if not self._is_allowed(pending.kind):
                # Telegram drops what allowed_updates excludes; it is not delivered later.
                self.filtered_updates.append((pending.update, "not in allowed_updates"))
                continue
            if pending.again and pending.delivered:
                continue  # a redelivery happens once
            kept.append(pending)
            if len(batch) < limit:
                pending.delivered = True
                batch.append(copy.deepcopy(pending.update))
        self._pending = kept
        if batch:
            self._activity_changed.notify()
        return batch

    def _m_set_webhook(self, call: _Call) -> _Ok:
        p = call.params
        url = _opt_str(p, "url") or ""
        if not url:
            self.webhook = None
            return _Ok(True, "Webhook was deleted")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme != "https" or not parsed.hostname:
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        if parsed.port not in (None, 80, 88, 443, 8443):
            raise ApiError(400, "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret_token = _opt_str(p, "secret_token")
        if secret_token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret_token):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        max_connections = _opt_int(p, "max_connections")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: bad max_connections")
        allowed = _opt_json(p, "allowed_updates", "Bad Request: can't parse allowed_updates JSON object")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(str(kind) for kind in allowed) or None
        if _opt_bool(p, "drop_pending_updates"):
            self._pending.clear()
        self.webhook = {"url": url, "secret_token": secret_token, "max_connections": max_connections or 40}
        self._updates_changed.notify()  # a waiting getUpdates must now fail
        return _Ok(True, "Webhook was set")

    def _m_delete_webhook(self, call: _Call) -> _Ok:
        if _opt_bool(call.params, "drop_pending_updates"):
            self._pending.clear()
        existed = self.webhook is not None
        self.webhook = None
        return _Ok(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    def _m_get_webhook_info(self, call: _Call) -> Json:
        info: Json = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}
        if self.webhook is not None:
            info["url"] = self.webhook["url"]
            info["max_connections"] = self.webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _commands_key(self, p: Json) -> tuple[str, str]:
        scope = _opt_json(p, "scope", "Bad Request: can't parse BotCommandScope JSON object") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise ApiError(400, "Bad Request: unsupported bot command scope type")
        scope_key = scope["type"]
        if scope_key in ("chat", "chat_administrators", "chat_member"):
            chat = self._chat(scope)
            scope_key = f"{scope_key}:{chat['id']}"
            if scope["type"] == "chat_member":
                scope_key += f":{scope.get('user_id')}"
        language = _opt_str(p, "language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return scope_key, language

    def _m_set_my_commands(self, call: _Call) -> bool:
        p = call.params
        commands = _opt_json(p, "commands", "Bad Request: can't parse commands JSON object")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        if len(commands) > COMMANDS_MAX:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        cleaned: list[Json] = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not COMMAND_NAME_RE.match(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not description.strip() or len(description) > COMMAND_DESCRIPTION_MAX:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(p)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _m_get_my_commands(self, call: _Call) -> list[Json]:
        return copy.deepcopy(self.commands.get(self._commands_key(call.params), []))

    def _m_delete_my_commands(self, call: _Call) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    def _m_set_chat_menu_button(self, call: _Call) -> bool:
        p = call.params
        chat_id = self._chat(p)["id"] if p.get("chat_id") not in (None, "") else None
        button = _opt_json(p, "menu_button", "Bad Request: can't parse menu button JSON object") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
            raise ApiError(400, "Bad Request: unsupported menu button type")
        if button["type"] == "web_app":
            web_app = button.get("web_app") or {}
            if not button.get("text") or not str(web_app.get("url", "")).startswith("https://"):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
        self.menu_buttons[chat_id] = button
        return True

    def _m_get_chat_menu_button(self, call: _Call) -> Json:
        p = call.params
        chat_id = self._chat(p)["id"] if p.get("chat_id") not in (None, "") else None
        return copy.deepcopy(self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"})

    # ---- methods: messages -----------------------------------------------------------------

    def _m_send_message(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        text, entities = self._text(p, required_error=ERR_TEXT_EMPTY)
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        content: Json = {"text": text}
        if entities:
            content["entities"] = entities
        return self._bot_message(chat, content, markup, reply_to)

    def _m_edit_message_text(self, call: _Call) -> Json:
        p = call.params
        chat, message = self._editable(p)
        if "text" not in message:
            raise ApiError(400, ERR_NO_TEXT_TO_EDIT)
        text, entities = self._text(p, required_error=ERR_TEXT_EMPTY)
        markup = self._markup(p, inline_only=True)
        return self._commit_edit(chat, message, {"text": text, "entities": entities or None}, markup)

    def _m_edit_message_caption(self, call: _Call) -> Json:
        p = call.params
        chat, message = self._editable(p)
        if not any(key in message for key in ("photo", "document", "video", "animation", "audio", "voice")):
            raise ApiError(400, ERR_NO_CAPTION_TO_EDIT)
        caption, entities = self._caption(p)
        markup = self._markup(p, inline_only=True)
        return self._commit_edit(chat, message, {"caption": caption or None, "caption_entities": entities or None}, markup)

    def _m_edit_message_reply_markup(self, call: _Call) -> Json:
        p = call.params
        chat, message = self._editable(p)
        markup = self._markup(p, inline_only=True)
        return self._commit_edit(chat, message, {}, markup)

    def _m_delete_message(self, call: _Call) -> bool:
        p = call.params
        chat = self._chat(p)
        message_id = _opt_int(p, "message_id")
        stored = self._messages[chat["id"]].pop(message_id, None) if message_id is not None else None
        if message_id is None or stored is None:
            raise ApiError(400, ERR_DELETE_NOT_FOUND)
        bot_messages = self._bot_messages[chat["id"]]
        bot_messages[:] = [m for m in bot_messages if m is not stored]
        self.deleted.append((chat["id"], message_id))
        self._messages_changed.notify()
        return True

    def _m_answer_callback_query(self, call: _Call) -> bool:
        p = call.params
        query_id = _opt_str(p, "callback_query_id") or ""
        record = self._callbacks.get(query_id)
        if record is None or record.answered.is_set():
            raise ApiError(400, ERR_QUERY_TOO_OLD)
        text = _opt_str(p, "text")
        if text is not None and len(text) > CALLBACK_ANSWER_TEXT_MAX:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        record.answer = dict(p)
        record.answered.set()
        self._touch(record.chat_id)
        return True

    def _m_send_chat_action(self, call: _Call) -> bool:
        p = call.params
        chat = self._send_chat(p)
        action = _opt_str(p, "action")
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        return True

    def _m_send_photo(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        source = self._input_file(call, "photo")
        size: tuple[int, int] | None = None
        if isinstance(source, StoredFile):
            if source.kind != "photo":
                raise ApiError(400, f"Bad Request: can't use file of type {source.kind.capitalize()} as Photo")
        else:
            size = _image_size(source.data)
            if size is None:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
            if len(source.data) > PHOTO_MAX_BYTES:
                raise ApiError(400, "Bad Request: file is too big")
            if size[0] + size[1] > 10000 or max(size) > 20 * max(1, min(size)):
                raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        if isinstance(source, StoredFile):
            sizes = copy.deepcopy(self._photo_sizes[source.file_id])
        else:
            assert size is not None
            sizes = self._store_photo(source.data, size)
        content: Json = {"photo": copy.deepcopy(sizes)}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        if _opt_bool(p, "has_spoiler"):
            content["has_media_spoiler"] = True
        return self._bot_message(chat, content, markup, reply_to)

    def _m_send_document(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        source = self._input_file(call, "document")
        if isinstance(source, StoredFile) and source.kind != "document":
            raise ApiError(400, f"Bad Request: can't use file of type {source.kind.capitalize()} as Document")
        if isinstance(source, Upload) and len(source.data) > UPLOAD_MAX_BYTES:
            raise ApiError(413, "Request Entity Too Large")
        caption, entities = self._caption(p)
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        if isinstance(source, Upload):
            file_name = source.filename or "document"
            mime_type = (
                mimetypes.guess_type(file_name)[0]
                or (source.content_type if source.content_type and source.content_type != "application/octet-stream" else None)
                or "application/octet-stream"
            )
            extension = mimetypes.guess_extension(mime_type) or ""
            if "." in file_name:
                extension = "." + file_name.rsplit(".", 1)[1]
            stored = self._new_file("document", source.data, extension=extension, file_name=file_name, mime_type=mime_type)
        else:
            stored = source
        document: Json = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        content: Json = {"document": document}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return self._bot_message(chat, content, markup, reply_to)

    def _poll_text(self, raw: Any, parse_mode: Any, field_name: str) -> tuple[str, list[Json]]:
        text = raw if isinstance(raw, str) else ""
        plain, entities = self._format(text, parse_mode, None, entities_field=field_name)
        # Telegram keeps only custom emoji entities in poll questions and options.
        return plain, [e for e in entities if e["type"] == "custom_emoji"]

    def _m_send_poll(self, call: _Call) -> Json:
        p = call.params
        chat = self._send_chat(p)
        question, question_entities = self._poll_text(_opt_str(p, "question"), p.get("question_parse_mode"), "question_entities")
        if not question:
            raise ApiError(400, "Bad Request: poll question must be non-empty")
        if len(question) > POLL_QUESTION_MAX:
            raise ApiError(400, f"Bad Request: poll question length must not exceed {POLL_QUESTION_MAX}")
        raw_options = _opt_json(p, "options", "Bad Request: can't parse options JSON object")
        if not isinstance(raw_options, list):
            raise ApiError(400, 'Bad Request: parameter "options" is required')
        options: list[Json] = []
        for index, raw in enumerate(raw_options):
            if isinstance(raw, dict):
                text, entities = self._poll_text(raw.get("text"), raw.get("text_parse_mode"), "text_entities")
            else:
                text, entities = self._poll_text(raw if isinstance(raw, str) else "", None, "text_entities")
            if not text:
                raise ApiError(400, "Bad Request: poll options must be non-empty")
            if len(text) > POLL_OPTION_MAX:
                raise ApiError(400, f"Bad Request: poll options length must not exceed {POLL_OPTION_MAX}")
            option: Json = {"persistent_id": str(index), "text": text, "voter_count": 0}
            if entities:
                option["text_entities"] = entities
            options.append(option)
        if len(options) < POLL_OPTIONS_MIN:
            raise ApiError(400, "Bad Request: poll must have at least 2 option")
        if len(options) > POLL_OPTIONS_MAX:
            raise ApiError(400, f"Bad Request: poll can't have more than {POLL_OPTIONS_MAX} options")
        if len({option["text"] for option in options}) != len(options):
            raise ApiError(400, "Bad Request: POLL_OPTION_DUPLICATE")
        poll_type = _opt_str(p, "type") or "regular"
        if poll_type not in ("regular", "quiz"):
            raise ApiError(400, "Bad Request: wrong poll type specified")
        correct = _opt_json(p, "correct_option_ids", "Bad Request: can't parse correct_option_ids JSON object")
        if correct is None and _opt_int(p, "correct_option_id") is not None:
            correct = [_opt_int(p, "correct_option_id")]
        if poll_type == "quiz":
            if not correct:
                raise ApiError(400, "Bad Request: QUIZ_CORRECT_ANSWERS_EMPTY")
            if not isinstance(correct, list) or not all(isinstance(c, int) and 0 <= c < len(options) for c in correct):
                raise ApiError(400, "Bad Request: QUIZ_CORRECT_ANSWER_INVALID")
        explanation = _opt_str(p, "explanation")
        explanation_text = ""
        explanation_entities: list[Json] = []
        if explanation:
            explanation_text, explanation_entities = self._format(
                explanation, p.get("explanation_parse_mode"), None, entities_field="explanation_entities"
            )
            if len(explanation_text) > POLL_EXPLANATION_MAX:
                raise ApiError(400, "Bad Request: explanation is too long")
        markup = self._markup(p)
        reply_to = self._reply_to(p, chat)
        self._rate_gate(chat["id"])
        is_anonymous = p.get("is_anonymous")
        allows_revoting = p.get("allows_revoting")
        poll: Json = {
            "id": str(5_000_000_000_000_000_000 + next(self._callback_counter)),
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": _opt_bool(p, "is_closed"),
            "is_anonymous": True if is_anonymous is None else bool(is_anonymous),
            "type": poll_type,
            "allows_multiple_answers": _opt_bool(p, "allows_multiple_answers"),
            "allows_revoting": (poll_type == "regular") if allows_revoting is None else bool(allows_revoting),
            "members_only": _opt_bool(p, "members_only"),
        }
        if question_entities:
            poll["question_entities"] = question_entities
        if poll_type == "quiz":
            poll["correct_option_ids"] = list(correct)
            poll["correct_option_id"] = correct[0]
        if explanation_text:
            poll["explanation"] = explanation_text
            if explanation_entities:
                poll["explanation_entities"] = explanation_entities
        for key in ("open_period", "close_date"):
            if _opt_int(p, key):
                poll[key] = _opt_int(p, key)
        result = self._bot_message(chat, {"poll": poll}, markup, reply_to)
        self._polls[poll["id"]] = (chat["id"], result["message_id"])
        self._poll_votes[poll["id"]] = {}
        return result

    def _m_stop_poll(self, call: _Call) -> Json:
        p = call.params
        chat = self._chat(p)
        message_id = _opt_int(p, "message_id")
        message = self._messages[chat["id"]].get(message_id) if message_id is not None else None
        if message is None or "poll" not in message:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise ApiError(400, "Bad Request: poll can't be stopped")
        if message["poll"]["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        markup = self._markup(p, inline_only=True)
        message["poll"]["is_closed"] = True
        if markup is not None:
            if markup[1]["inline_keyboard"]:
                message["reply_markup"] = {"inline_keyboard": copy.deepcopy(markup[1]["inline_keyboard"])}
            else:
                message.pop("reply_markup", None)
        self._record_event(chat["id"], "edited", message)
        self._enqueue("poll", message["poll"], None)
        return copy.deepcopy(message["poll"])

    def _m_get_file(self, call: _Call) -> Json:
        stored = self.files.get(_opt_str(call.params, "file_id") or "")
        if stored is None:
            raise ApiError(400, ERR_INVALID_FILE_ID)
        if stored.file_size > GET_FILE_MAX_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
            "file_path": stored.file_path,
        }


# --------------------------------------------------------------------------------------------
# The residents
# --------------------------------------------------------------------------------------------


class FakeUser:
    """A resident acting in one chat: their private chat with the bot, or a group (``in_chat``).

    Every action queues a realistic update for getUpdates and returns it. Waiting helpers look
    at what the bot did *after* the actor's last action.
    """

    def __init__(self, fake: FakeTelegram, user: Json, chat: Json) -> None:
        self.fake = fake
        self.user = user
        self.chat = chat
        self._last_action = 0
        self._last_callback_id: str | None = None

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.user['first_name']!r}, chat_id={self.chat_id})"

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return self.chat["type"] == "private"

    def in_chat(self, chat_id: int) -> FakeUser:
        """The same person acting in a group created with ``fake.group``."""
        if chat_id == self.id:
            return self.fake.user(self.id)
        chat = self.fake._chats.get(chat_id)
        if chat is None or chat["type"] == "private":
            raise AssertionError(f"no group {chat_id}: create it with fake.group({chat_id}, title)")
        key = (self.id, chat_id)
        actor = self.fake._actors.get(key)
        if actor is None:
            actor = self.fake._actors[key] = FakeUser(self.fake, self.user, chat)
        return actor

    def open_chat(self) -> None:
        """Make the private chat exist without sending anything (a resident who started the bot
        earlier): until then, sends to it answer "chat not found" like Telegram."""
        self.fake._open_chat(self.chat)

    # ---- actions ---------------------------------------------------------------------------

    def _after_action(self) -> None:
        self._last_action = self.fake._bump_seq()

    def _message(self, content: Json, *, reply_to: Json | int | None = None, addressed: bool = False) -> Json:
        fake = self.fake
        fake._open_chat(self.chat)
        if self.is_private:
            fake.unblock(self.chat_id)
        message: Json = {
            "message_id": fake._new_message_id(self.chat_id),
            "from": dict(self.user),
            "chat": copy.deepcopy(self.chat),
            "date": int(time.time()),
        }
        replied_to_bot = False
        if reply_to is not None:
            target_id = reply_to["message_id"] if isinstance(reply_to, dict) else int(reply_to)
            target = fake._messages[self.chat_id].get(target_id)
            if target is None:
                raise AssertionError(f"cannot reply to message {target_id}: not in chat {self.chat_id}")
            replied = copy.deepcopy(target)
            replied.pop("reply_to_message", None)
            message["reply_to_message"] = replied
            replied_to_bot = target.get("from", {}).get("id") == fake.bot_id
        message.update(content)
        fake._store_message(self.chat_id, message, from_bot=False)
        # Privacy mode: in groups the bot only sees commands, replies to it and mentions.
        text = str(content.get("text") or content.get("caption") or "")
        delivered = (
            self.is_private
            or not fake.privacy_mode
            or addressed
            or replied_to_bot
            or text.startswith("/")
            or f"@{fake.bot_username}".lower() in text.lower()
        )
        update = fake._enqueue("message", message, self.chat_id, deliver=delivered, reason="privacy mode")
        self._after_action()
        return update

    async def send_text(self, text: str, *, reply_to: Json | int | None = None) -> Json:
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        return self._message({"text": text}, reply_to=reply_to)

    async def send_command(self, text: str) -> Json:
        """E.g. "/start" or "/start ref-42": a bot_command entity covers the command part."""
        if not text.startswith("/"):
            raise ValueError("a command starts with /")
        command = text.split(maxsplit=1)[0]
        return self._message({"text": text, "entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]})

    async def send_sticker(self, emoji: str = "👍") -> Json:
        stored = self.fake._new_file("sticker", SAMPLE_WEBP, extension=".webp", mime_type="image/webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "PalabreTestStickers",
            "file_size": stored.file_size,
        }
        return self._message({"sticker": sticker})

    async def send_photo(self, data: bytes = SAMPLE_JPEG, caption: str | None = None) -> Json:
        size = _image_size(data)
        if size is None:
            raise ValueError("send_photo needs image bytes (JPEG, PNG, GIF, WEBP or BMP)")
        content: Json = {"photo": self.fake._store_photo(data, size)}
        if caption:
            content["caption"] = caption
        return self._message(content)

    async def send_document(self, filename: str, data: bytes, mime_type: str | None = None, caption: str | None = None) -> Json:
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        extension = "." + filename.rsplit(".", 1)[1] if "." in filename else ""
        stored = self.fake._new_file("document", data, extension=extension, file_name=filename, mime_type=mime_type)
        document = {
            "file_name": filename,
            "mime_type": mime_type,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        content: Json = {"document": document}
        if caption:
            content["caption"] = caption
        return self._message(content)

    async def send_location(self, latitude: float, longitude: float) -> Json:
        return self._message({"location": {"latitude": latitude, "longitude": longitude}})

    async def send_venue(self, latitude: float, longitude: float, title: str, address: str) -> Json:
        """A place chosen on the map (📎 › Location › a named place): Telegram sends a venue and its location."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._message({"location": location, "venue": {"location": location, "title": title, "address": address}})

    def reply_keyboard(self) -> list[str]:
        """Button texts of the reply keyboard currently shown in this chat ([] if none/removed)."""
        rows = self.fake._reply_keyboards.get(self.chat_id) or []
        return [button["text"] for row in rows for button in row]

    async def press(self, text: str) -> Json:
        """Press a reply-keyboard button: it must be on the current keyboard."""
        available = self.reply_keyboard()
        if text not in available:
            raise AssertionError(f"no reply keyboard button {text!r} in chat {self.chat_id}; buttons: {available}")
        return self._message({"text": text}, addressed=True)

    def _keyboard_message(self, message: Json | int | None, *, need_keyboard: bool) -> Json:
        fake = self.fake
        if message is not None:
            message_id = message["message_id"] if isinstance(message, dict) else int(message)
            stored = fake._messages.get(self.chat_id, {}).get(message_id)
            if stored is None:
                raise AssertionError(f"message {message_id} no longer exists in chat {self.chat_id} (deleted?)")
            return stored
        for stored in reversed(fake._bot_messages.get(self.chat_id, [])):
            if not need_keyboard or (stored.get("reply_markup") or {}).get("inline_keyboard"):
                return stored
        raise AssertionError(
            f"no bot message{' with an inline keyboard' if need_keyboard else ''} in chat {self.chat_id}; "
            f"messages: {self._recent()}"
        )

    def _callback(self, message: Json, data: str) -> Json:
        fake = self.fake
        query_id = str(4_000_000_000_000_000_000 + next(fake._callback_counter))
        fake._callbacks[query_id] = CallbackRecord(query_id, self.chat_id, self.id, message["message_id"], data)
        self._last_callback_id = query_id
        query = {
            "id": query_id,
            "from": dict(self.user),
            "message": copy.deepcopy(message),
            "chat_instance": str((self.chat_id * 2654435761 + fake.bot_id) % 10**19),
            "data": data,
        }
        update = fake._enqueue("callback_query", query, self.chat_id)
        self._after_action()
        return update

    async def tap(self, button_text: str, message: Json | int | None = None) -> Json:
        """Tap the inline button labelled ``button_text`` (exact, else the only one containing it)
        on ``message`` or on the latest bot message with an inline keyboard."""
        target = self._keyboard_message(message, need_keyboard=True)
        buttons = [b for row in (target.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        matches = [b for b in buttons if b.get("text") == button_text]
        if not matches:
            matches = [b for b in buttons if button_text.casefold() in str(b.get("text", "")).casefold()]
            if len(matches) > 1:
                raise AssertionError(
                    f"{button_text!r} matches several buttons of message {target['message_id']}: "
                    f"{[b.get('text') for b in matches]}"
                )
        if not matches:
            raise AssertionError(
                f"no button {button_text!r} on message {target['message_id']} "
                f"({_describe_message(target)}); buttons: {[b.get('text') for b in buttons]}"
            )
        button = matches[0]
        if "callback_data" not in button:
            kind = next((k for k in button if k != "text"), "?")
            raise AssertionError(f"button {button.get('text')!r} is a {kind} button: tapping it sends no callback_query")
        return self._callback(target, button["callback_data"])

    async def tap_data(self, data: str, message: Json | int | None = None) -> Json:
        """Send a callback_query with arbitrary (possibly forged or stale) data."""
        target = self._keyboard_message(message, need_keyboard=False)
        return self._callback(target, data)

    async def answer_poll(self, poll_id: str, option_ids: list[int]) -> Json:
        """Vote (or retract with []) in a poll sent by the bot: a poll_answer update."""
        fake = self.fake
        location = fake._polls.get(poll_id)
        if location is None:
            raise AssertionError(f"unknown poll {poll_id!r}")
        chat_id, message_id = location
        message = fake._messages[chat_id].get(message_id)
        if message is None:
            raise AssertionError(f"the message of poll {poll_id} was deleted")
        poll = message["poll"]
        if poll["is_closed"]:
            raise AssertionError(f"poll {poll_id} is closed: Telegram clients cannot vote")
        if poll["is_anonymous"]:
            raise AssertionError(
                f"poll {poll_id} is anonymous: Telegram never sends poll_answer updates for anonymous polls "
                "(send it with is_anonymous=False)"
            )
        if any(not 0 <= i < len(poll["options"]) for i in option_ids) or len(set(option_ids)) != len(option_ids):
            raise AssertionError(f"invalid option ids {option_ids} for a poll of {len(poll['options'])} options")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise AssertionError(f"poll {poll_id} does not allow multiple answers")
        votes = fake._poll_votes[poll_id]
        if self.id in votes and not poll.get("allows_revoting", True):
            raise AssertionError(f"poll {poll_id} does not allow changing one's vote")
        for index in votes.pop(self.id, []):
            poll["options"][index]["voter_count"] -= 1
        if option_ids:
            votes[self.id] = list(option_ids)
            for index in option_ids:
                poll["options"][index]["voter_count"] += 1
        poll["total_voter_count"] = len(votes)
        answer = {
            "poll_id": poll_id,
            "user": dict(self.user),
            "option_ids": list(option_ids),
            "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
        }
        update = fake._enqueue("poll_answer", answer, self.chat_id)
        # Bots also receive the new state of the polls they sent.
        fake._enqueue("poll", poll, None)
        self._after_action()
        return update

    # ---- inspection ------------------------------------------------------------------------

    @property
    def messages(self) -> list[Json]:
        """The bot's messages in this chat as currently stored (edits applied)."""
        return self.fake.sent_to(self.chat_id)

    @property
    def last_message(self) -> Json:
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot has sent nothing to chat {self.chat_id}")
        return messages[-1]

    def mark(self) -> int:
        """A marker for ``wait_message(after=...)``: only what the bot sends or edits later matches."""
        return self.fake.marker()

    def _recent(self, count: int = 5) -> str:
        messages = self.fake._bot_messages.get(self.chat_id, [])[-count:]
        lines = [_describe_message(m) for m in messages] or ["(none)"]
        errors = self.fake.errors_for(self.chat_id)[-3:]
        lines += [f"error answered to the bot: {e.method} -> {e.description}" for e in errors]
        return "\n  " + "\n  ".join(lines)

    async def wait_message(
        self,
        predicate: Callable[[Json], bool] | str | None = None,
        timeout: float = 10.0,
        after: int | Json | None = None,
    ) -> Json:
        """Wait for the first bot message sent or edited in this chat after this actor's last
        action (or after ``after``: a marker from ``mark()`` or a message returned earlier) that
        matches ``predicate`` (a callable on the message dict, or a substring of its text,
        caption or poll question). Returns a snapshot of the message as it was then."""
        fake = self.fake
        marker = self._last_action
        if isinstance(after, int):
            marker = after
        elif isinstance(after, dict):
            events = fake._events.get(self.chat_id, [])
            same = next((e for e in events if e.snapshot is after), None)
            if same is None:
                same = next((e for e in reversed(events) if e.message_id == after.get("message_id")), None)
            if same is None:
                raise AssertionError("`after` is not a message of this chat")
            marker = same.seq

        def matches(message: Json) -> bool:
            if predicate is None:
                return True
            if isinstance(predicate, str):
                haystack = " ".join(
                    str(part)
                    for part in (
                        message.get("text"),
                        message.get("caption"),
                        (message.get("poll") or {}).get("question"),
                    )
                    if part
                )
                return predicate in haystack
            return bool(predicate(message))

        timeout = patient(timeout)
        deadline = time.monotonic() + timeout
        while True:
            for event in fake._events.get(self.chat_id, []):
                if event.seq > marker and matches(event.snapshot):
                    return event.snapshot
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                wanted = "any message" if predicate is None else repr(predicate)
                raise AssertionError(
                    f"no bot message matching {wanted} in chat {self.chat_id} within {timeout}s; latest messages:{self._recent()}"
                )
            await fake._messages_changed.wait(remaining)

    async def wait_callback_answer(self, timeout: float = 10.0) -> Json:
        """The answerCallbackQuery params for this actor's latest tap (e.g. ``["text"]``)."""
        if self._last_callback_id is None:
            raise AssertionError("no tap yet")
        record = self.fake._callbacks[self._last_callback_id]
        timeout = patient(timeout)
        try:
            await asyncio.wait_for(record.answered.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bot did not answer callback query {record.id} (data={record.data!r}) within {timeout}s: "
                f"Telegram clients keep a spinner on the button until it does{self._recent()}"
            ) from None
        assert record.answer is not None
        return record.answer

    async def wait_idle(self, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait until the bot made no request about this chat for ``quiet`` seconds (and fetched
        every update of this chat)."""
        await self.fake._wait_quiet(self.chat_id, quiet, timeout)


class FakeGroup:
    """A group chat of the fake (see ``FakeTelegram.group``)."""

    def __init__(self, fake: FakeTelegram, chat: Json) -> None:
        self.fake = fake
        self.chat = chat

    @property
    def chat_id(self) -> int:
        return int(self.chat["id"])

    @property
    def title(self) -> str:
        return str(self.chat["title"])

    @property
    def messages(self) -> list[Json]:
        return self.fake.sent_to(self.chat_id)

    def member(self, user_id: int, first_name: str = "Camille", language_code: str | None = "fr") -> FakeUser:
        """A user acting in this group."""
        return self.fake.user(user_id, first_name, language_code).in_chat(self.chat_id)


__all__ = [
    "SAMPLE_JPEG",
    "ApiError",
    "CallbackRecord",
    "EntityParseError",
    "ErrorRecord",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "RequestTrap",
    "StoredFile",
    "Upload",
    "parse_html",
    "trim_text",
    "utf16_len",
]
