"""Residents and groups that tap and type: FakeUser acts in one chat, FakeGroup is a group chat."""

from __future__ import annotations

import asyncio
import copy
import mimetypes
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.e2e.fake_telegram.entities import utf16_len
from tests.e2e.fake_telegram.limits import SAMPLE_JPEG, SAMPLE_WEBP, Json
from tests.e2e.fake_telegram.params import _image_size
from tests.e2e.fake_telegram.records import CallbackRecord, _describe_message
from tests.e2e.patience import patient

if TYPE_CHECKING:
    from tests.e2e.fake_telegram.server import FakeTelegram


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
