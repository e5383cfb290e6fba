"""Methods about the bot itself: getMe, getUpdates and webhooks, commands, menu button."""

from __future__ import annotations

import copy
import re
import time
import urllib.parse

from tests.e2e.fake_telegram.limits import (
    COMMAND_DESCRIPTION_MAX,
    COMMAND_NAME_RE,
    COMMAND_SCOPES,
    COMMANDS_MAX,
    ERR_CONFLICT_POLL,
    ERR_CONFLICT_WEBHOOK,
    LONG_POLL_MAX_SECONDS,
    ApiError,
    Json,
)
from tests.e2e.fake_telegram.params import _opt_bool, _opt_int, _opt_json, _opt_str
from tests.e2e.fake_telegram.records import _Call, _Ok, _PendingUpdate


class BotMethods:
    """Methods about the bot itself: getMe, getUpdates and webhooks, commands, menu button (mixed into FakeTelegram, whose state it uses)."""

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
