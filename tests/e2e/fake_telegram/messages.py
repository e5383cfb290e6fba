"""Methods on messages: send, edit, delete, callback answers, chat actions."""

from __future__ import annotations

from tests.e2e.fake_telegram.limits import (
    CALLBACK_ANSWER_TEXT_MAX,
    CHAT_ACTIONS,
    ERR_DELETE_NOT_FOUND,
    ERR_NO_CAPTION_TO_EDIT,
    ERR_NO_TEXT_TO_EDIT,
    ERR_QUERY_TOO_OLD,
    ERR_TEXT_EMPTY,
    ApiError,
    Json,
)
from tests.e2e.fake_telegram.params import _opt_int, _opt_str
from tests.e2e.fake_telegram.records import _Call


class MessageMethods:
    """Methods on messages: send, edit, delete, callback answers, chat actions (mixed into FakeTelegram, whose state it uses)."""

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
