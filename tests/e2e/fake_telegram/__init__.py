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

from tests.e2e.fake_telegram.entities import parse_html, trim_text, utf16_len
from tests.e2e.fake_telegram.limits import SAMPLE_JPEG, ApiError, EntityParseError
from tests.e2e.fake_telegram.records import CallbackRecord, ErrorRecord, RequestTrap, StoredFile, Upload
from tests.e2e.fake_telegram.server import FakeTelegram
from tests.e2e.fake_telegram.users import FakeGroup, FakeUser

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
