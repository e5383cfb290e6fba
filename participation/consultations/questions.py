"""The consultation model: questions typed by their `type`, each carrying its own rules.

One pydantic model per question type (PRODUCT.md, "Consultation file"). A question knows which
values it accepts, what a native poll of it offers, how its answers are counted, and what a person
is shown; callers ask the question rather than look at its type.

The rules of the file (limits, codes, conditions on earlier questions) apply when a file is read
(`FileRules` in the validation context, see participation/consultations/files.py); a definition
read back from the database was checked when it was imported and is taken as stored.
"""

from __future__ import annotations

import copy
import re
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from enum import StrEnum
from functools import partial
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from participation.codes import CODE_PROBLEM, is_code
from participation.consultations.refusals import Refusal, Refused
from participation.text import clean_text, clean_visible
from storage.models import Consultation

OTHER = "other"  # the answer value of the "other" free answer
QUESTION_TYPES = ("single", "multiple", "scale", "yesno", "text", "ranking")
SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?$")
DURATION = re.compile(r"^(\d{1,4})([mhd])$")

MAX_QUESTIONS = 50
MAX_CHOICES = 12  # an inline keyboard stays readable up to about this many buttons
MAX_RANKING_CHOICES = 8
MAX_SCALE_SPAN = 10
MAX_TEXT_LENGTH = 4000  # a Telegram message holds 4096 characters
DEFAULT_TEXT_LENGTH = 1000
MAX_OTHER_LENGTH = 1000
MAX_TITLE = 200
MAX_PROMPT = 1000
MAX_LABEL = 100  # a native poll option holds 100 characters
MAX_DESCRIPTION = 3000

AnswerValue = str | int | list[str]
Texts = dict[str, str]  # locale -> text


class Word(StrEnum):
    """An option whose words are the bot's own (translated by notices), not the file's."""

    YES = "yes"
    NO = "no"
    OTHER = "other"


class Input(StrEnum):
    """How a person answers: what the question's screen offers."""

    PICK = "pick"  # one tap is the answer (single, yes/no, scale)
    TICK = "tick"  # tick several, then validate (multiple)
    RANK = "rank"  # tap in order of preference, then validate (ranking)
    TYPE = "type"  # type a text (text)


@dataclass(frozen=True)
class Option:
    """One answer a question offers: its value and what it is called."""

    value: str | int
    label: Texts | Word | None  # None: the value is its own label (a scale's number)


@dataclass
class FileRules:
    """The validation context of a file: its language and time zone, and what was read so far."""

    default_locale: str
    tz: tzinfo
    earlier: dict[str, QuestionBase | None] = field(default_factory=dict)  # None: an invalid question
    choice_ids: set[str] = field(default_factory=set)  # of the question being read
    when_target: str | None = None  # of the condition being read


def _rules(info: ValidationInfo) -> FileRules | None:
    return info.context if isinstance(info.context, FileRules) else None


def problem(message: str, **values: Any) -> PydanticCustomError:
    """A problem worded as the file's readers see it (`path: message`)."""
    return PydanticCustomError("palabre", message, values)


# --- Field types with the file's wording ---------------------------------------------------------


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise problem("expected true or false")
    return value


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise problem("expected a whole number")
    return value


def _code(value: Any) -> str:
    if not is_code(value):
        raise problem(CODE_PROBLEM)
    return str(value)


def _locale(value: Any) -> str:
    if not isinstance(value, str) or not LOCALE.fullmatch(value):
        raise problem("not a language code (fr, en, …)")
    return value


def _one_text(max_length: int, value: Any, info: ValidationInfo) -> str:
    if not isinstance(value, str) or not value.strip():
        raise problem("expected a non-empty text")
    if _rules(info) is not None and len(value) > max_length:
        raise problem("too long ({length} characters, at most {max_length})", length=len(value), max_length=max_length)
    return value.strip()


def _texts(required: bool, value: Any, info: ValidationInfo) -> Any:
    """A plain string or a mapping locale -> string, normalised to the mapping."""
    if value is None and required:
        raise problem("required")
    if value is None:
        return {}
    rules = _rules(info)
    if rules is not None and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = {rules.default_locale: str(value)}
    if not isinstance(value, dict) or (required and not value):
        raise problem("expected a text or a mapping of languages to texts")
    return value


def _mapping(message: str, value: Any) -> Any:
    if not isinstance(value, (dict, BaseModel)):
        raise problem(message)
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
Whole = Annotated[int, BeforeValidator(_whole)]
Code = Annotated[str, BeforeValidator(_code)]
Locale = Annotated[str, BeforeValidator(_locale)]
# One alias per length: each text of the file has its own limit.
Title = Annotated[
    dict[Locale, Annotated[str, BeforeValidator(partial(_one_text, MAX_TITLE))]], BeforeValidator(partial(_texts, True))
]
Description = Annotated[
    dict[Locale, Annotated[str, BeforeValidator(partial(_one_text, MAX_DESCRIPTION))]], BeforeValidator(partial(_texts, False))
]
Prompt = Annotated[
    dict[Locale, Annotated[str, BeforeValidator(partial(_one_text, MAX_PROMPT))]], BeforeValidator(partial(_texts, True))
]
Label = Annotated[
    dict[Locale, Annotated[str, BeforeValidator(partial(_one_text, MAX_LABEL))]], BeforeValidator(partial(_texts, True))
]


# --- Parts of a question --------------------------------------------------------------------------


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Code
    label: Label

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any) -> Any:
        return _mapping("expected a mapping with id and label", value)

    @field_validator("id")
    @classmethod
    def _new_id(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules is None:
            return value
        if value == OTHER:
            raise problem("“other” is reserved: use `other: true` for a free answer")
        if value in rules.choice_ids:
            raise problem("“{id}” appears twice", id=value)
        rules.choice_ids.add(value)
        return value


def _condition_value(value: Any, info: ValidationInfo) -> Any:
    """One value of `when.in`: an answer of the question it names."""
    rules = _rules(info)
    if rules is None or rules.when_target is None:
        return value
    target = rules.earlier.get(rules.when_target)
    if target is None:
        return value  # its own problems are already reported
    if isinstance(value, bool) and isinstance(target, YesNoQuestion):  # YAML reads a bare yes/no as a boolean
        value = "yes" if value else "no"
    allowed = target.answer_values()
    if allowed is not None and value not in allowed:
        raise problem("“{value}” is not an answer of question “{question}”", value=str(value), question=target.id)
    return value


class When(BaseModel):
    """Ask the question only when the answer to an earlier one is among `in`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    question: str
    in_: list[Annotated[str | int, BeforeValidator(_condition_value)]] = Field(alias="in")

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any, info: ValidationInfo) -> Any:
        rules = _rules(info)
        if rules is not None:
            rules.when_target = None
        return _mapping("expected a mapping with question and in", value)

    @field_validator("question", mode="before")
    @classmethod
    def _earlier(cls, value: Any, info: ValidationInfo) -> Any:
        rules = _rules(info)
        if rules is None:
            return value
        if not isinstance(value, str) or value not in rules.earlier:
            raise problem("must be the id of an earlier question")
        target = rules.earlier[value]
        if target is not None and target.answer_values() is None:
            raise problem("a text answer cannot be a condition")
        rules.when_target = value
        return value

    @field_validator("in_", mode="before")
    @classmethod
    def _non_empty(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise problem("expected a non-empty list of answer values")
        return value

    def holds(self, answers: Mapping[str, Any]) -> bool:
        """Whether the earlier answer matches (several ticked: any of them)."""
        given = answers.get(self.question)
        if given is None:
            return False
        if isinstance(given, list):
            return any(value in self.in_ for value in given)
        return given in self.in_


# --- Questions ------------------------------------------------------------------------------------


class QuestionBase(BaseModel):
    """What every question has, and the rules each type overrides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: ClassVar[Input] = Input.PICK
    typed: ClassVar[bool] = False  # answered by typing: stored encrypted, erased on /forget
    ordered: ClassVar[bool] = False  # the answer is an order of preference
    several: ClassVar[bool] = False  # several answers at once

    id: Code
    prompt: Prompt
    required: Flag = False
    when: When | None = None

    @model_validator(mode="before")
    @classmethod
    def _start(cls, value: Any, info: ValidationInfo) -> Any:
        rules = _rules(info)
        if rules is not None:
            rules.choice_ids = set()
        return value

    @field_validator("id")
    @classmethod
    def _new_id(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules is None:
            return value
        if value in rules.earlier:
            raise problem("“{id}” is already the id of an earlier question", id=value)
        rules.earlier[value] = None  # known even when invalid: later duplicates are still caught
        return value

    @model_validator(mode="after")
    def _known(self, info: ValidationInfo) -> QuestionBase:
        rules = _rules(info)
        if rules is not None:
            rules.earlier[self.id] = self
        return self

    # The rules every type answers in its own way.

    def options(self) -> list[Option]:
        """The answers offered, in order (none for a typed answer)."""
        return []

    @property
    def has_other(self) -> bool:
        return False

    @property
    def max_choices(self) -> int | None:
        return None

    def answer_values(self) -> set[Any] | None:
        """The values a `when` may name; None when any value goes (text)."""
        values: set[Any] = {option.value for option in self.options()}
        if self.has_other:
            values.add(OTHER)
        return values

    def poll_values(self) -> list[str | int] | None:
        """The value behind each option of a native poll, or None when it cannot be one."""
        return None

    @abstractmethod
    def check(self, value: Any) -> Any:
        """The value if this question accepts it (cleaned); raises Refused otherwise."""

    def validate_value(self, value: Any, other_text: str | None = None) -> Any:
        value = self.check(value)
        uses_other = value == OTHER or (isinstance(value, list) and OTHER in value)
        if uses_other and clean_visible(other_text) is None:
            raise Refused(Refusal.EMPTY)
        return value

    def tapped(self, index: int) -> Any:
        """The answer value behind a button's number; Refused when no such button exists."""
        raise Refused(Refusal.INVALID)

    def button_number(self, index: int) -> int:
        """The number a button of option `index` carries (what `tapped` reads back)."""
        return index

    def toggled(self, draft: list[str], choice_id: str) -> list[str]:
        """The draft after tapping a choice (tick, untick, next in order)."""
        raise Refused(Refusal.INVALID)

    def length_limit(self) -> int | None:
        """How long a typed answer may be (None: not typed)."""
        return None

    def from_poll(self, chosen: list[str | int]) -> Any:
        """The answer value of the options ticked in a native poll."""
        return chosen[0]

    def value_text(self, value: Any) -> str | None:
        """A value that reads as itself (a typed text, a scale's step), or None when it has a label."""
        return None

    def matches(self, value: Any, option: Any) -> bool:
        """Whether an answer counts for `option` (a tick among several, or the value itself)."""
        return option in value if isinstance(value, list) else value == option

    def mean_rank(self, option: Any, counted: list[tuple[Any, int]]) -> float | None:
        return None

    def mean(self, counted: list[tuple[Any, int]], answered: int) -> float | None:
        return None

    def ends(self) -> tuple[int, int] | None:
        return None

    def end_labels(self) -> tuple[Texts | None, Texts | None] | None:
        return None

    def stored(self) -> dict[str, Any]:
        """The definition as the consultation row keeps it (JSON)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _count_choices(limit: int, value: Any) -> Any:
    if not isinstance(value, list):
        raise problem("expected a list of choices")
    if len(value) < 2:
        raise problem("at least 2 needed")
    if len(value) > limit:
        raise problem("too many choices ({count}, at most {limit})", count=len(value), limit=limit)
    return value


class _ChoiceQuestion(QuestionBase):
    choices: Annotated[list[Choice], BeforeValidator(partial(_count_choices, MAX_CHOICES))]
    other: Flag = False

    def options(self) -> list[Option]:
        return [Option(choice.id, choice.label) for choice in self.choices]

    @property
    def has_other(self) -> bool:
        return self.other

    def _ids(self) -> list[str]:
        return [choice.id for choice in self.choices] + ([OTHER] if self.other else [])


class SingleQuestion(_ChoiceQuestion):
    type: Literal["single"]

    def check(self, value: Any) -> Any:
        if value not in self._ids():
            raise Refused(Refusal.INVALID)
        return value

    def tapped(self, index: int) -> Any:
        if 0 <= index < len(self.choices):
            return self.choices[index].id
        raise Refused(Refusal.INVALID)

    def poll_values(self) -> list[str | int] | None:
        return None if self.other else [choice.id for choice in self.choices]


def _several(question: _ChoiceQuestion, value: Any) -> list[str]:
    ids = question._ids()
    if not isinstance(value, list) or not value or len(set(value)) != len(value) or any(v not in ids for v in value):
        raise Refused(Refusal.EMPTY if value == [] else Refusal.INVALID)
    return value


class MultipleQuestion(_ChoiceQuestion):
    type: Literal["multiple"]
    max: Whole | None = None

    input: ClassVar[Input] = Input.TICK
    several: ClassVar[bool] = True

    @field_validator("max")
    @classmethod
    def _within_choices(cls, value: int | None, info: ValidationInfo) -> int | None:
        rules = _rules(info)
        if rules is None or value is None:
            return value
        count = len(rules.choice_ids) + (1 if info.data.get("other") else 0)
        if not 1 <= value <= max(count, 1):
            raise problem("must be between 1 and the number of choices ({count})", count=count)
        return value

    @property
    def max_choices(self) -> int | None:
        return self.max or None

    def check(self, value: Any) -> Any:
        value = _several(self, value)
        if self.max and len(value) > self.max:
            raise Refused(Refusal.TOO_MANY, {"max": self.max})
        return value

    def toggled(self, draft: list[str], choice_id: str) -> list[str]:
        if choice_id not in [choice.id for choice in self.choices]:
            raise Refused(Refusal.INVALID)
        if choice_id in draft:
            return [value for value in draft if value != choice_id]
        if self.max and len(draft) >= self.max:
            raise Refused(Refusal.TOO_MANY, {"max": self.max})
        return [*draft, choice_id]

    def poll_values(self) -> list[str | int] | None:
        return None if self.other else [choice.id for choice in self.choices]

    def from_poll(self, chosen: list[str | int]) -> Any:
        return chosen[: self.max] if self.max else chosen


class RankingQuestion(_ChoiceQuestion):
    type: Literal["ranking"]
    choices: Annotated[list[Choice], BeforeValidator(partial(_count_choices, MAX_RANKING_CHOICES))]

    input: ClassVar[Input] = Input.RANK
    ordered: ClassVar[bool] = True
    several: ClassVar[bool] = True

    @field_validator("other")
    @classmethod
    def _no_other(cls, value: bool) -> bool:
        if value:
            raise problem("a ranking cannot have an “other” free answer")
        return value

    def check(self, value: Any) -> Any:
        return _several(self, value)

    def toggled(self, draft: list[str], choice_id: str) -> list[str]:
        if choice_id not in [choice.id for choice in self.choices] or choice_id in draft:
            raise Refused(Refusal.INVALID)
        return [*draft, choice_id]

    def matches(self, value: Any, option: Any) -> bool:
        return bool(value) and value[0] == option  # counted as first choice

    def mean_rank(self, option: Any, counted: list[tuple[Any, int]]) -> float | None:
        positions = [(value.index(option) + 1, n) for value, n in counted if option in value]
        ranked = sum(n for _, n in positions)
        return round(sum(p * n for p, n in positions) / ranked, 2) if ranked else None


class YesNoQuestion(QuestionBase):
    type: Literal["yesno"]

    def options(self) -> list[Option]:
        return [Option("yes", Word.YES), Option("no", Word.NO)]

    def check(self, value: Any) -> Any:
        if value not in ("yes", "no"):
            raise Refused(Refusal.INVALID)
        return value

    def tapped(self, index: int) -> Any:
        if index in (0, 1):
            return ("yes", "no")[index]
        raise Refused(Refusal.INVALID)

    def poll_values(self) -> list[str | int] | None:
        return ["yes", "no"]


class ScaleLabels(BaseModel):
    """What the ends of a scale mean."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: Label | None = None
    max: Label | None = None

    @model_validator(mode="before")
    @classmethod
    def _is_mapping(cls, value: Any) -> Any:
        return _mapping("expected a mapping with min and max", value)


class ScaleQuestion(QuestionBase):
    type: Literal["scale"]
    min: Whole = 1
    max: Whole = 5
    labels: ScaleLabels = ScaleLabels()

    @field_validator("max")
    @classmethod
    def _span(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("min")
        if _rules(info) is None or low is None:
            return value
        if value <= low:
            raise problem("must be greater than min")
        if value - low > MAX_SCALE_SPAN:
            raise problem("a scale has at most {steps} steps", steps=MAX_SCALE_SPAN + 1)
        return value

    def options(self) -> list[Option]:
        return [Option(value, None) for value in range(self.min, self.max + 1)]

    def check(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not self.min <= value <= self.max:
            raise Refused(Refusal.INVALID)
        return value

    def tapped(self, index: int) -> Any:
        return self.check(index)  # a scale's button carries its value

    def button_number(self, index: int) -> int:
        return self.min + index

    def value_text(self, value: Any) -> str | None:
        return f"{value}/{self.max}"

    def mean(self, counted: list[tuple[Any, int]], answered: int) -> float | None:
        return round(sum(v * n for v, n in counted) / answered, 2) if answered else None

    def ends(self) -> tuple[int, int] | None:
        return self.min, self.max

    def end_labels(self) -> tuple[Texts | None, Texts | None] | None:
        return self.labels.min, self.labels.max


class TextQuestion(QuestionBase):
    type: Literal["text"]
    max_length: Whole = DEFAULT_TEXT_LENGTH

    input: ClassVar[Input] = Input.TYPE
    typed: ClassVar[bool] = True

    @field_validator("max_length")
    @classmethod
    def _length(cls, value: int, info: ValidationInfo) -> int:
        if _rules(info) is not None and not 1 <= value <= MAX_TEXT_LENGTH:
            raise problem("must be between 1 and {max}", max=MAX_TEXT_LENGTH)
        return value

    def answer_values(self) -> set[Any] | None:
        return None

    def length_limit(self) -> int | None:
        return self.max_length

    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or clean_visible(value) is None:
            raise Refused(Refusal.EMPTY)
        value = clean_text(value)
        if len(value) > self.max_length:
            raise Refused(Refusal.TOO_LONG, {"max": self.max_length, "length": len(value)})
        return value

    def value_text(self, value: Any) -> str | None:
        return str(value)


def _question_mapping(value: Any) -> Any:
    return _mapping("expected a mapping with id, type and prompt", value)


Question = Annotated[
    SingleQuestion | MultipleQuestion | RankingQuestion | YesNoQuestion | ScaleQuestion | TextQuestion,
    Field(discriminator="type"),
    BeforeValidator(_question_mapping),
]
QUESTIONS: TypeAdapter[list[Question]] = TypeAdapter(list[Question])


def read_questions(stored: list[dict[str, Any]]) -> list[Question]:
    """The typed questions of a definition kept in the database."""
    return QUESTIONS.validate_python(stored)


def stored_questions(questions: list[Question]) -> list[dict[str, Any]]:
    return [question.stored() for question in questions]


def is_visible(question: Question, answers: Mapping[str, Any]) -> bool:
    """A question with `when` is asked only when the earlier answer matches."""
    return question.when is None or question.when.holds(answers)


def moment(value: Any, info: ValidationInfo) -> Any:
    """A date and time; without an offset it is in the commune's time zone."""
    if value is None:
        raise problem("required")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise problem("expected a date and time such as 2026-12-01T08:00:00+01:00") from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(0, 0))
    if not isinstance(value, datetime):
        raise problem("expected a date and time such as 2026-12-01T08:00:00+01:00")
    rules = _rules(info)
    if value.tzinfo is None and rules is not None:
        value = value.replace(tzinfo=rules.tz)
    return value


_READ: dict[int, tuple[list[dict[str, Any]], list[Question]]] = {}
_READ_LIMIT = 64  # consultations open at once, with room to spare


def questions_of(consultation: Consultation) -> list[Question]:
    """The typed questions of a stored consultation: the one way the domain reads its JSON column.

    Kept per consultation while its definition is unchanged: reading 12 questions costs about
    0.5 ms, comparing them to the cached definition a few microseconds, and every tap reads them.
    """
    stored = consultation.questions
    if consultation.id is None:
        return read_questions(stored)
    cached = _READ.get(consultation.id)
    if cached is not None and cached[0] == stored:
        return list(cached[1])  # the questions are frozen; the list is the caller's
    questions = read_questions(stored)
    if len(_READ) >= _READ_LIMIT:
        _READ.pop(next(iter(_READ)))
    _READ[consultation.id] = (copy.deepcopy(stored), questions)
    return list(questions)
