"""Checks shared by the methods: flood limits, chats, texts and captions, keyboards, replies, edits."""

from __future__ import annotations

import copy
import math
import re
import time
import urllib.parse
from collections import deque
from typing import Any

from tests.e2e.fake_telegram.entities import _normalize_link, parse_html, trim_text
from tests.e2e.fake_telegram.limits import (
    CALLBACK_DATA_MAX_BYTES,
    CAPTION_MAX,
    ERR_BLOCKED,
    ERR_BUTTON_DATA,
    ERR_BUTTON_NO_ACTION,
    ERR_BUTTON_TEXT_EMPTY,
    ERR_CANT_EDIT,
    ERR_CAPTION_TOO_LONG,
    ERR_CHAT_ID_EMPTY,
    ERR_CHAT_NOT_FOUND,
    ERR_EDIT_NOT_FOUND,
    ERR_INLINE_EXPECTED,
    ERR_KEYBOARD_BUTTON_TEXT,
    ERR_KICKED,
    ERR_MARKUP_JSON,
    ERR_MARKUP_TOO_LONG,
    ERR_NOT_MODIFIED,
    ERR_PARSE_ENTITIES,
    ERR_REPLY_NOT_FOUND,
    ERR_TEXT_EMPTY,
    ERR_TEXT_TOO_LONG,
    MARKUP_BUTTONS_MAX,
    TEXT_MAX,
    ApiError,
    EntityParseError,
    Json,
)
from tests.e2e.fake_telegram.params import _opt_bool, _opt_int, _opt_json, _opt_str


class Validation:
    """Checks shared by the methods: flood limits, chats, texts and captions, keyboards, replies, edits (mixed into FakeTelegram, whose state it uses)."""

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
