"""Native polls: sendPoll and stopPoll with Telegram's sizes."""

from __future__ import annotations

import copy
from typing import Any

from tests.e2e.fake_telegram.limits import (
    POLL_EXPLANATION_MAX,
    POLL_OPTION_MAX,
    POLL_OPTIONS_MAX,
    POLL_OPTIONS_MIN,
    POLL_QUESTION_MAX,
    ApiError,
    Json,
)
from tests.e2e.fake_telegram.params import _opt_bool, _opt_int, _opt_json, _opt_str
from tests.e2e.fake_telegram.records import _Call


class PollMethods:
    """Native polls: sendPoll and stopPoll with Telegram's sizes (mixed into FakeTelegram, whose state it uses)."""

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
