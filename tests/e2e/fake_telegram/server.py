"""The fake Bot API server: HTTP routing, lifecycle, the test-side API and the state every method shares."""

from __future__ import annotations

import asyncio
import copy
import inspect
import itertools
import json
import logging
import random
import socket
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.e2e.fake_telegram.bot_methods import BotMethods
from tests.e2e.fake_telegram.files import FileMethods
from tests.e2e.fake_telegram.limits import NOT_SENT_BY_DEFAULT, SEND_METHODS, UPLOAD_MAX_BYTES, ApiError, Json
from tests.e2e.fake_telegram.messages import MessageMethods
from tests.e2e.fake_telegram.params import _normalize_params
from tests.e2e.fake_telegram.polls import PollMethods
from tests.e2e.fake_telegram.records import (
    CallbackRecord,
    ErrorRecord,
    RequestTrap,
    StoredFile,
    Upload,
    _Call,
    _MessageEvent,
    _Notifier,
    _Ok,
    _PendingUpdate,
)
from tests.e2e.fake_telegram.users import FakeGroup, FakeUser
from tests.e2e.fake_telegram.validation import Validation
from tests.e2e.patience import patient

if TYPE_CHECKING:  # pragma: no cover - only for type hints of the optional helpers
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

log = logging.getLogger("tests.e2e.fake_telegram")


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram(Validation, FileMethods, BotMethods, MessageMethods, PollMethods):
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
