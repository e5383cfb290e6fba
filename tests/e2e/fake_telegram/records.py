"""What the fake records and waits on: uploads, stored files, callbacks, errors, traps, pending updates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.fake_telegram.limits import Json

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
