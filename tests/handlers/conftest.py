"""Handler tests: the real Dispatcher fed with updates, and a bot session that records requests.

The recording session answers like Telegram would (message ids, True for the rest) and refuses
what Telegram refuses (text over 4096 characters, callback data over 64 bytes), so a handler that
would break in production breaks here first.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import GetMe, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import CallbackQuery, Chat, Message, Update, User

from bot.app import build_dispatcher, reply_middlewares
from bot.fsm_storage import UPDATE_SESSION
from bot.i18n import build_i18n
from config.settings import Settings
from storage.db import SessionMaker

BOT_ID = 123456
TOKEN = f"{BOT_ID}:TEST-token"


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self._message_ids = itertools.count(1000)
        # As `palabre run` builds its reply Bot: the update is committed before each request.
        for middleware in reply_middlewares(Settings(bot_token=TOKEN, _env_file=None)):  # type: ignore[call-arg]
            self.middleware(middleware)

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> TelegramType:
        # Decide, commit, then speak: nothing reaches Telegram while the update's writes are pending.
        update_session = UPDATE_SESSION.get()
        if update_session is not None and update_session.in_transaction():
            raise AssertionError(f"{type(method).__name__} sent inside the update's open transaction")
        self.requests.append(method)
        params = method.model_dump(exclude_none=True)
        text = params.get("text")
        if text is not None and not 1 <= len(text) <= 4096:
            raise TelegramBadRequest(method=method, message="Bad Request: message is too long")
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise TelegramBadRequest(method=method, message="Bad Request: BUTTON_DATA_INVALID")
        returning = method.__returning__
        if isinstance(method, GetMe):
            return User(id=BOT_ID, is_bot=True, first_name="Palabre", username="palabre_test_bot")  # type: ignore[return-value]
        if returning is Message or "Message" in str(returning):
            chat_id = int(params.get("chat_id", 0))
            return Message(  # type: ignore[return-value]
                message_id=next(self._message_ids),
                date=datetime.now(UTC),
                chat=Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup"),
                text=text,
            )
        return True  # type: ignore[return-value]

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError("no file downloads in handler tests")
        yield b""  # pragma: no cover

    def texts(self, chat_id: int) -> list[str]:
        return [
            m.text for m in self.requests if getattr(m, "chat_id", None) == chat_id and isinstance(getattr(m, "text", None), str)
        ]


class Resident:
    """Plays one resident in their private chat."""

    _update_ids = itertools.count(1)

    def __init__(self, dp: Dispatcher, bot: Bot, user_id: int, language_code: str = "fr") -> None:
        self.dp, self.bot, self.user_id = dp, bot, user_id
        self.user = User(id=user_id, is_bot=False, first_name="Camille", language_code=language_code)
        self.chat = Chat(id=user_id, type="private")

    @property
    def session(self) -> RecordingSession:
        return self.bot.session  # type: ignore[return-value]

    def replies(self) -> list[str]:
        return self.session.texts(self.user_id)

    def last_reply(self) -> str:
        return self.replies()[-1]

    async def feed(self, **event: Any) -> None:
        await self.dp.feed_update(self.bot, Update(update_id=next(self._update_ids), **event))

    async def send(self, text: str) -> None:
        await self.feed(message=self._message(text=text))

    async def send_sticker(self) -> None:
        await self.feed(
            message=Message.model_validate(
                {
                    "message_id": 1,
                    "date": datetime.now(UTC),
                    "chat": self.chat.model_dump(),
                    "from": self.user.model_dump(),
                    "sticker": {
                        "file_id": "s1",
                        "file_unique_id": "s1",
                        "type": "regular",
                        "width": 512,
                        "height": 512,
                        "is_animated": False,
                        "is_video": False,
                    },
                }
            )
        )

    async def tap(self, data: str) -> None:
        await self.feed(
            callback_query=CallbackQuery(
                id=str(next(self._update_ids)),
                from_user=self.user,
                chat_instance="ci",
                message=self._message(text="(earlier message)"),
                data=data,
            )
        )

    def _message(self, **fields: Any) -> Message:
        entities = None
        text = fields.get("text", "")
        if text.startswith("/"):
            entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return Message.model_validate(
            {
                "message_id": 1,
                "date": datetime.now(UTC),
                "chat": self.chat.model_dump(),
                "from": self.user.model_dump(),
                **fields,
                **({"entities": entities} if entities else {}),
            }
        )


@pytest.fixture
def settings() -> Settings:
    # No network in tests: the address search is off unless a test serves one.
    return Settings(bot_token=TOKEN, admin_ids=[1], geocoder_url="", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def dispatcher(settings: Settings, sessionmaker: SessionMaker) -> AsyncIterator[tuple[Dispatcher, Bot]]:
    bot = Bot(token=TOKEN, session=RecordingSession())
    dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    yield dp, bot


@pytest.fixture
def resident_factory(dispatcher: tuple[Dispatcher, Bot]):  # type: ignore[no-untyped-def]
    dp, bot = dispatcher

    def make(user_id: int, language_code: str = "fr") -> Resident:
        return Resident(dp, bot, user_id, language_code)

    return make
