"""The consultation file (YAML, PRODUCT.md): read into the typed model, one error per problem with its path.

`parse_consultation` takes the loaded YAML (or the same structure built in the chat) and returns a
`ConsultationSpec`, or raises `InvalidConsultation` listing every problem found, so that an official
fixes a file in one go and nothing is imported from a file with any problem.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from participation.codes import CODE_PROBLEM
from participation.consultations.questions import (
    DURATION,
    MAX_QUESTIONS,
    QUESTION_TYPES,
    SLUG,
    Code,
    Description,
    FileRules,
    Question,
    Title,
    moment,
    problem,
)

QUESTION_KEYS = {"id", "type", "prompt", "choices", "other", "required", "max", "min", "labels", "max_length", "when"}


class InvalidConsultation(ValueError):
    """The file does not follow the format; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _slug(value: Any) -> Any:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise problem("expected 1 to 60 characters among a-z, 0-9 and -")
    return value


def _codes(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise problem("expected a list of codes")
    return value


def _reminders(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise problem("expected a list of delays such as 48h or 6h")
    return value


def _delay(value: Any) -> str:
    if not isinstance(value, str) or not DURATION.fullmatch(value.strip()):
        raise problem("expected a delay such as 48h, 6h, 30m or 2d")
    return value.strip()


def _questions(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise problem("expected a list of at least one question")
    if len(value) > MAX_QUESTIONS:
        raise problem("too many questions ({count}, at most {max})", count=len(value), max=MAX_QUESTIONS)
    return value


Moment = Annotated[datetime, BeforeValidator(moment)]


class ConsultationSpec(BaseModel):
    """A validated consultation, ready to import."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)  # tests and the chat adjust a read file

    slug: Annotated[str, BeforeValidator(_slug)]
    title: Title
    description: Description = {}
    topic: Code | None = None
    neighbourhoods: Annotated[list[Code], BeforeValidator(_codes)] = []
    opens_at: Moment
    closes_at: Moment
    reminders: Annotated[list[Annotated[str, BeforeValidator(_delay)]], BeforeValidator(_reminders)] = []
    questions: Annotated[list[Question], BeforeValidator(_questions)]

    @field_validator("closes_at")
    @classmethod
    def _after_opening(cls, value: datetime, info: ValidationInfo) -> datetime:
        opens_at = info.data.get("opens_at")
        if opens_at is not None and value <= opens_at:
            raise problem("must be after opens_at")
        return value

    def stored_questions(self) -> list[dict[str, Any]]:
        """The questions as the consultation row keeps them (JSON)."""
        return [question.stored() for question in self.questions]


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without its own dates: PyYAML raises on an impossible one (month 13) before any path is known."""


# Dates stay text here; the model turns them into datetimes, with the path of a bad one.
_TextDatesLoader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]  # PyYAML's stubs type the constructor as taking a Node subclass


def load_yaml(text: str) -> Any:
    """Parse YAML text; a syntax error becomes one problem with its line."""
    try:
        return yaml.load(text, Loader=_TextDatesLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise InvalidConsultation([f"{where}: not valid YAML ({reason})"]) from exc


def parse_consultation_file(text: str, default_locale: str, tz: tzinfo) -> ConsultationSpec:
    return parse_consultation(load_yaml(text), default_locale, tz)


def parse_consultation(data: Any, default_locale: str, tz: tzinfo) -> ConsultationSpec:
    """Validate a consultation definition; raises InvalidConsultation with every problem."""
    if not isinstance(data, dict):
        raise InvalidConsultation(["(file): expected a mapping with slug, title, opens_at, closes_at and questions"])
    try:
        return ConsultationSpec.model_validate(data, context=FileRules(default_locale, tz))
    except ValidationError as error:
        details = error.errors()
        # Unknown top-level fields first, as a reader scans the file from its keys.
        details.sort(key=lambda detail: 0 if detail["type"] == "extra_forbidden" and len(detail["loc"]) == 1 else 1)
        raise InvalidConsultation([problem_line(detail, data) for detail in details]) from None


def _path(loc: tuple[int | str, ...]) -> tuple[str, str | None]:
    """The path as the file's readers write it, and the type of the question it is in."""
    path = ""
    qtype = None
    previous: int | str | None = None
    for part in loc:
        if part == "[key]":
            continue  # a mapping's key: the path already names it
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(previous, int) and part in QUESTION_TYPES and path.startswith("questions["):
            qtype = str(part)  # the union's tag, not a field
        else:
            path += f".{part}" if path else str(part)
        previous = part
    return path, qtype


def problem_line(detail: ErrorDetails, data: Any) -> str:
    """One pydantic error as today's `path: message` line."""
    loc = detail["loc"]
    path, qtype = _path(loc)
    kind = detail["type"]
    last = loc[-1] if loc else None
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"{path}.type: expected one of {', '.join(QUESTION_TYPES)}"
    if kind == "missing":
        return f"{path}: {'required for a choice question' if last == 'choices' else 'required'}"
    if kind == "extra_forbidden":
        if qtype is not None and len(loc) == 4 and last in QUESTION_KEYS:
            return f"{path}: not allowed for a {qtype} question"
        if len(loc) >= 2 and loc[-2] == "labels":
            return f"{path}: expected min or max"
        return f"{path}: unknown field"
    if kind == "palabre":
        return f"{path}: {detail['msg']}"
    if kind in ("string_type", "string_pattern_mismatch") and last in ("id", "topic"):
        return f"{path}: {CODE_PROBLEM}"
    return f"{path}: {detail['msg']}"


__all__ = [
    "ConsultationSpec",
    "InvalidConsultation",
    "load_yaml",
    "parse_consultation",
    "parse_consultation_file",
]
