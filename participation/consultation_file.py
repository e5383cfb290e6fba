"""The consultation file (YAML, PRODUCT.md): validation with one error per problem and its path.

`parse_consultation` takes the loaded YAML (or the same structure built in the chat) and returns
a normalised `ConsultationSpec`, or raises `InvalidConsultation` listing every problem found, so
that an official fixes a file in one go and nothing is imported from a file with any problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from typing import Any

import yaml

QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "text", "ranking")
CHOICE_TYPES = ("single", "multiple", "ranking")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
DURATION = re.compile(r"^(\d{1,4})([mhd])$")

MAX_QUESTIONS = 50
MAX_CHOICES = 12  # an inline keyboard stays readable up to about this many buttons
MAX_RANKING_CHOICES = 8
MAX_SCALE_SPAN = 10
MAX_TEXT_LENGTH = 4000  # a Telegram message holds 4096 characters
DEFAULT_TEXT_LENGTH = 1000
MAX_TITLE = 200
MAX_PROMPT = 1000
MAX_LABEL = 100  # a native poll option holds 100 characters
MAX_DESCRIPTION = 3000
OTHER = "other"  # the answer value of the "other" free answer

TOP_KEYS = {"slug", "title", "description", "topic", "neighbourhoods", "opens_at", "closes_at", "reminders", "questions"}
QUESTION_KEYS = {"id", "type", "prompt", "choices", "other", "required", "max", "min", "labels", "max_length", "when"}


class InvalidConsultation(ValueError):
    """The file does not follow the format; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ConsultationSpec:
    """A validated consultation, ready to import."""

    slug: str
    title: dict[str, str]
    description: dict[str, str]
    topic: str | None
    neighbourhoods: list[str]
    opens_at: datetime
    closes_at: datetime
    reminders: list[str]
    questions: list[dict[str, Any]] = field(default_factory=list)


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without its own dates: PyYAML raises on an impossible one (month 13) before any path is known."""


# Dates stay text here; the checker turns them into datetimes, with the path of a bad one.
_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def load_yaml(text: str) -> Any:
    """Parse YAML text; a syntax error becomes one problem with its line."""
    try:
        return yaml.load(text, Loader=_TextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidConsultation([f"{where}: not valid YAML ({problem})"]) from exc


def parse_consultation_file(text: str, default_locale: str, tz: tzinfo) -> ConsultationSpec:
    return parse_consultation(load_yaml(text), default_locale, tz)


class _Checker:
    def __init__(self, default_locale: str, tz: tzinfo) -> None:
        self.problems: list[str] = []
        self.default_locale = default_locale
        self.tz = tz

    def error(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def text(self, value: Any, path: str, *, max_length: int, required: bool = True) -> dict[str, str]:
        """A plain string or a mapping locale -> string, normalised to the mapping."""
        if value is None:
            if required:
                self.error(path, "required")
            return {}
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = {self.default_locale: str(value)}
        if not isinstance(value, dict) or not value:
            self.error(path, "expected a text or a mapping of languages to texts")
            return {}
        result: dict[str, str] = {}
        for locale, text in value.items():
            if not isinstance(locale, str) or not LOCALE.fullmatch(locale):
                self.error(f"{path}.{locale}", "not a language code (fr, en, …)")
                continue
            if not isinstance(text, str) or not text.strip():
                self.error(f"{path}.{locale}", "expected a non-empty text")
                continue
            if len(text) > max_length:
                self.error(f"{path}.{locale}", f"too long ({len(text)} characters, at most {max_length})")
                continue
            result[locale] = text.strip()
        return result

    def moment(self, value: Any, path: str) -> datetime | None:
        if value is None:
            self.error(path, "required")
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.error(path, "expected a date and time such as 2026-12-01T08:00:00+01:00")
                return None
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(0, 0))
        if not isinstance(value, datetime):
            self.error(path, "expected a date and time such as 2026-12-01T08:00:00+01:00")
            return None
        if value.tzinfo is None:  # times without offset are in the commune's time zone
            value = value.replace(tzinfo=self.tz)
        return value

    def code_list(self, value: Any, path: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, "expected a list of codes")
            return []
        codes = []
        for index, code in enumerate(value):
            if not isinstance(code, str) or not CODE.fullmatch(code):
                self.error(f"{path}[{index}]", "expected a code of lowercase letters, digits, - or _")
            else:
                codes.append(code)
        return codes

    def flag(self, value: Any, path: str, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(path, "expected true or false")
            return default
        return value

    def integer(self, value: Any, path: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(path, "expected a whole number")
            return None
        return value


def parse_consultation(data: Any, default_locale: str, tz: tzinfo) -> ConsultationSpec:
    """Validate a consultation definition; raises InvalidConsultation with every problem."""
    check = _Checker(default_locale, tz)
    if not isinstance(data, dict):
        raise InvalidConsultation(["(file): expected a mapping with slug, title, opens_at, closes_at and questions"])
    for key in data:
        if key not in TOP_KEYS:
            check.error(str(key), "unknown field")

    slug = data.get("slug")
    if slug is None:
        check.error("slug", "required")
    elif not isinstance(slug, str) or not SLUG.fullmatch(slug):
        check.error("slug", "expected 1 to 60 characters among a-z, 0-9 and -")
    title = check.text(data.get("title"), "title", max_length=MAX_TITLE)
    description = check.text(data.get("description"), "description", max_length=MAX_DESCRIPTION, required=False)
    topic = data.get("topic")
    if topic is not None and (not isinstance(topic, str) or not CODE.fullmatch(topic)):
        check.error("topic", "expected a code of lowercase letters, digits, - or _")
        topic = None
    neighbourhoods = check.code_list(data.get("neighbourhoods"), "neighbourhoods")
    opens_at = check.moment(data.get("opens_at"), "opens_at")
    closes_at = check.moment(data.get("closes_at"), "closes_at")
    if opens_at and closes_at and closes_at <= opens_at:
        check.error("closes_at", "must be after opens_at")

    reminders: list[str] = []
    raw_reminders = data.get("reminders")
    if raw_reminders is not None:
        if not isinstance(raw_reminders, list):
            check.error("reminders", "expected a list of delays such as 48h or 6h")
        else:
            for index, delay in enumerate(raw_reminders):
                if not isinstance(delay, str) or not DURATION.fullmatch(delay.strip()):
                    check.error(f"reminders[{index}]", "expected a delay such as 48h, 6h, 30m or 2d")
                else:
                    reminders.append(delay.strip())

    questions = _questions(check, data.get("questions"))
    if check.problems:
        raise InvalidConsultation(check.problems)
    assert isinstance(slug, str) and opens_at is not None and closes_at is not None
    return ConsultationSpec(
        slug=slug,
        title=title,
        description=description,
        topic=topic,
        neighbourhoods=neighbourhoods,
        opens_at=opens_at,
        closes_at=closes_at,
        reminders=reminders,
        questions=questions,
    )


def _questions(check: _Checker, raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        check.error("questions", "required")
        return []
    if not isinstance(raw, list) or not raw:
        check.error("questions", "expected a list of at least one question")
        return []
    if len(raw) > MAX_QUESTIONS:
        check.error("questions", f"too many questions ({len(raw)}, at most {MAX_QUESTIONS})")
    seen: dict[str, dict[str, Any]] = {}
    questions: list[dict[str, Any]] = []
    for index, item in enumerate(raw):
        path = f"questions[{index}]"
        if not isinstance(item, dict):
            check.error(path, "expected a mapping with id, type and prompt")
            continue
        question, valid = _question(check, item, path, seen)
        if isinstance(question.get("id"), str) and question["id"] not in seen:
            seen[question["id"]] = question  # known even when invalid: later duplicates are still caught
        if valid:
            questions.append(question)
    return questions


def _question(
    check: _Checker, item: dict[str, Any], path: str, earlier: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    for key in item:
        if key not in QUESTION_KEYS:
            check.error(f"{path}.{key}", "unknown field")
    before = len(check.problems)
    qid = item.get("id")
    if qid is None:
        check.error(f"{path}.id", "required")
    elif not isinstance(qid, str) or not CODE.fullmatch(qid):
        check.error(f"{path}.id", "expected a code of lowercase letters, digits, - or _")
    elif qid in earlier:
        check.error(f"{path}.id", f"“{qid}” is already the id of an earlier question")
    qtype = item.get("type")
    if qtype not in QUESTION_TYPES:
        check.error(f"{path}.type", f"expected one of {', '.join(QUESTION_TYPES)}")
    prompt = check.text(item.get("prompt"), f"{path}.prompt", max_length=MAX_PROMPT)
    question: dict[str, Any] = {
        "id": qid,
        "type": qtype,
        "prompt": prompt,
        "required": check.flag(item.get("required"), f"{path}.required", False),
    }

    if qtype in CHOICE_TYPES:
        question["choices"] = _choices(check, item.get("choices"), f"{path}.choices", qtype)
        other = check.flag(item.get("other"), f"{path}.other", False)
        if other and qtype == "ranking":
            check.error(f"{path}.other", "a ranking cannot have an “other” free answer")
        question["other"] = other and qtype != "ranking"
    else:
        for key in ("choices", "other"):
            if key in item:
                check.error(f"{path}.{key}", f"not allowed for a {qtype} question")

    if qtype == "multiple" and item.get("max") is not None:
        maximum = check.integer(item.get("max"), f"{path}.max")
        count = len(question["choices"]) + (1 if question["other"] else 0)
        if maximum is not None and not 1 <= maximum <= max(count, 1):
            check.error(f"{path}.max", f"must be between 1 and the number of choices ({count})")
        question["max"] = maximum
    elif qtype == "scale":
        low = check.integer(item.get("min", 1), f"{path}.min")
        high = check.integer(item.get("max", 5), f"{path}.max")
        if low is not None and high is not None:
            if high <= low:
                check.error(f"{path}.max", "must be greater than min")
            elif high - low + 1 > MAX_SCALE_SPAN + 1:
                check.error(f"{path}.max", f"a scale has at most {MAX_SCALE_SPAN + 1} steps")
        question["min"], question["max"] = low, high
        labels = item.get("labels")
        question["labels"] = {}
        if labels is not None:
            if not isinstance(labels, dict):
                check.error(f"{path}.labels", "expected a mapping with min and max")
            else:
                for end, text in labels.items():
                    if end not in ("min", "max"):
                        check.error(f"{path}.labels.{end}", "expected min or max")
                    else:
                        question["labels"][end] = check.text(text, f"{path}.labels.{end}", max_length=MAX_LABEL)
    elif qtype == "text":
        length = item.get("max_length", DEFAULT_TEXT_LENGTH)
        length = check.integer(length, f"{path}.max_length")
        if length is not None and not 1 <= length <= MAX_TEXT_LENGTH:
            check.error(f"{path}.max_length", f"must be between 1 and {MAX_TEXT_LENGTH}")
        question["max_length"] = length
    for key, allowed in (("max", ("multiple", "scale")), ("min", ("scale",)), ("labels", ("scale",)), ("max_length", ("text",))):
        if key in item and qtype in QUESTION_TYPES and qtype not in allowed:
            check.error(f"{path}.{key}", f"not allowed for a {qtype} question")

    when = item.get("when")
    if when is not None:
        question["when"] = _when(check, when, f"{path}.when", earlier)
    return question, len(check.problems) == before


def _choices(check: _Checker, raw: Any, path: str, qtype: str) -> list[dict[str, Any]]:
    if raw is None:
        check.error(path, "required for a choice question")
        return []
    if not isinstance(raw, list):
        check.error(path, "expected a list of choices")
        return []
    if len(raw) < 2:
        check.error(path, "at least 2 needed")
    limit = MAX_RANKING_CHOICES if qtype == "ranking" else MAX_CHOICES
    if len(raw) > limit:
        check.error(path, f"too many choices ({len(raw)}, at most {limit})")
    choices: list[dict[str, Any]] = []
    ids: set[str] = set()
    for index, choice in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(choice, dict):
            check.error(where, "expected a mapping with id and label")
            continue
        for key in choice:
            if key not in ("id", "label"):
                check.error(f"{where}.{key}", "unknown field")
        cid = choice.get("id")
        if cid is None:
            check.error(f"{where}.id", "required")
            continue
        if not isinstance(cid, str) or not CODE.fullmatch(cid):
            check.error(f"{where}.id", "expected a code of lowercase letters, digits, - or _")
            continue
        if cid == OTHER:
            check.error(f"{where}.id", "“other” is reserved: use `other: true` for a free answer")
            continue
        if cid in ids:
            check.error(f"{where}.id", f"“{cid}” appears twice")
            continue
        ids.add(cid)
        choices.append({"id": cid, "label": check.text(choice.get("label"), f"{where}.label", max_length=MAX_LABEL)})
    return choices


def question_values(question: dict[str, Any]) -> set[Any] | None:
    """The answer values a `when` may name for this question; None when any value goes (text)."""
    qtype = question["type"]
    if qtype in ("single", "multiple", "ranking"):
        values: set[Any] = {choice["id"] for choice in question.get("choices", [])}
        if question.get("other"):
            values.add(OTHER)
        return values
    if qtype == "yesno":
        return {"yes", "no"}
    if qtype == "scale" and question.get("min") is not None and question.get("max") is not None:
        return set(range(question["min"], question["max"] + 1))
    return None


def _when(check: _Checker, raw: Any, path: str, earlier: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        check.error(path, "expected a mapping with question and in")
        return None
    for key in raw:
        if key not in ("question", "in"):
            check.error(f"{path}.{key}", "unknown field")
    target = raw.get("question")
    if target not in earlier:
        check.error(f"{path}.question", "must be the id of an earlier question")
        return None
    values = raw.get("in")
    if not isinstance(values, list) or not values:
        check.error(f"{path}.in", "expected a non-empty list of answer values")
        return None
    if earlier[target]["type"] == "yesno":  # YAML reads a bare yes/no as a boolean
        values = [("yes" if value else "no") if isinstance(value, bool) else value for value in values]
    if earlier[target]["type"] not in QUESTION_TYPES:
        return None  # its own type is already reported
    allowed = question_values(earlier[target])
    if allowed is None:
        check.error(f"{path}.question", "a text answer cannot be a condition")
        return None
    for index, value in enumerate(values):
        if value not in allowed:
            check.error(f"{path}.in[{index}]", f"“{value}” is not an answer of question “{target}”")
    return {"question": target, "in": list(values)}
