"""The typed questions: each type accepts and refuses answers as before, and knows its poll, buttons and counts."""

from __future__ import annotations

from typing import Any

import pytest

from participation.consultations.questions import (
    OTHER,
    Input,
    MultipleQuestion,
    Question,
    RankingQuestion,
    ScaleQuestion,
    SingleQuestion,
    TextQuestion,
    Word,
    YesNoQuestion,
    questions_of,
    read_questions,
)
from participation.consultations.refusals import Refusal, Refused
from storage.models import Consultation

CHOICES = [{"id": "a", "label": {"fr": "A"}}, {"id": "b", "label": {"fr": "B"}}, {"id": "c", "label": {"fr": "C"}}]
# As the consultation rows of existing databases hold them (participation/consultation_file.py wrote these).
STORED: list[dict[str, Any]] = [
    {"id": "s", "type": "single", "prompt": {"fr": "?"}, "required": True, "choices": CHOICES, "other": True},
    {"id": "m", "type": "multiple", "prompt": {"fr": "?"}, "required": False, "choices": CHOICES, "other": False, "max": 2},
    {"id": "r", "type": "ranking", "prompt": {"fr": "?"}, "required": False, "choices": CHOICES, "other": False},
    {"id": "y", "type": "yesno", "prompt": {"fr": "?"}, "required": False},
    {"id": "e", "type": "scale", "prompt": {"fr": "?"}, "required": False, "min": 1, "max": 5, "labels": {}},
    {
        "id": "t",
        "type": "text",
        "prompt": {"fr": "?"},
        "required": False,
        "max_length": 10,
        "when": {"question": "y", "in": ["no"]},
    },
]


@pytest.fixture
def questions() -> dict[str, Question]:
    return {q.id: q for q in read_questions(STORED)}


def refusal(question: Question, value: Any, other_text: str | None = None) -> Refusal | None:
    try:
        question.validate_value(value, other_text)
    except Refused as refused:
        return refused.reason
    return None


def test_stored_definitions_read_back_as_the_types_and_are_written_back_unchanged(questions: dict[str, Question]) -> None:
    assert [type(q) for q in questions.values()] == [
        SingleQuestion,
        MultipleQuestion,
        RankingQuestion,
        YesNoQuestion,
        ScaleQuestion,
        TextQuestion,
    ]
    assert [q.stored() for q in questions.values()] == STORED


@pytest.mark.parametrize(
    ("qid", "value", "other_text", "expected"),
    [
        ("s", "a", None, None),
        ("s", "z", None, Refusal.INVALID),
        ("s", OTHER, "Au marché", None),
        ("s", OTHER, "   ", Refusal.EMPTY),
        ("m", ["a", "b"], None, None),
        ("m", ["a", "b", "c"], None, Refusal.TOO_MANY),
        ("m", [], None, Refusal.EMPTY),
        ("m", ["a", "a"], None, Refusal.INVALID),
        ("m", [OTHER], "x", Refusal.INVALID),  # no "other" on this one
        ("r", ["c", "a", "b"], None, None),
        ("r", ["c", "z"], None, Refusal.INVALID),
        ("y", "yes", None, None),
        ("y", True, None, Refusal.INVALID),
        ("e", 5, None, None),
        ("e", 6, None, Refusal.INVALID),
        ("e", True, None, Refusal.INVALID),
        ("t", "  Trop cher ", None, None),
        ("t", "x" * 11, None, Refusal.TOO_LONG),
        ("t", " \u200b ", None, Refusal.EMPTY),
    ],
)
def test_each_type_accepts_and_refuses_its_values(
    questions: dict[str, Question], qid: str, value: Any, other_text: str | None, expected: Refusal | None
) -> None:
    assert refusal(questions[qid], value, other_text) == expected


def test_typed_text_is_cleaned_and_only_text_is_typed(questions: dict[str, Question]) -> None:
    assert questions["t"].validate_value("  Trop cher ") == "Trop cher"
    assert [q.id for q in questions.values() if q.typed] == ["t"]
    assert [q.input for q in questions.values()] == [Input.PICK, Input.TICK, Input.RANK, Input.PICK, Input.PICK, Input.TYPE]


def test_polls_conditions_and_buttons_follow_the_type(questions: dict[str, Question]) -> None:
    assert questions["s"].poll_values() is None  # "other" needs typing: no native poll
    assert questions["m"].poll_values() == ["a", "b", "c"]
    assert questions["y"].poll_values() == ["yes", "no"]
    assert questions["e"].poll_values() is None and questions["r"].poll_values() is None
    assert questions["m"].from_poll(["a", "b", "c"]) == ["a", "b"]  # at most its max
    assert questions["s"].answer_values() == {"a", "b", "c", OTHER}
    assert questions["e"].answer_values() == {1, 2, 3, 4, 5}
    assert questions["t"].answer_values() is None
    assert questions["t"].when is not None and questions["t"].when.holds({"y": "no"})
    assert [o.label for o in questions["y"].options()] == [Word.YES, Word.NO]
    assert questions["e"].button_number(0) == 1 and questions["e"].tapped(5) == 5
    assert questions["y"].tapped(1) == "no"
    with pytest.raises(Refused):
        questions["s"].tapped(3)


def test_ticking_and_ranking_build_the_draft(questions: dict[str, Question]) -> None:
    multiple, ranking = questions["m"], questions["r"]
    assert multiple.toggled(["a"], "b") == ["a", "b"]
    assert multiple.toggled(["a", "b"], "a") == ["b"]
    with pytest.raises(Refused) as too_many:
        multiple.toggled(["a", "b"], "c")
    assert too_many.value.reason == Refusal.TOO_MANY
    assert ranking.toggled(["c"], "a") == ["c", "a"]
    with pytest.raises(Refused):
        ranking.toggled(["c"], "c")
    with pytest.raises(Refused):
        questions["s"].toggled([], "a")


def test_counting_follows_the_type(questions: dict[str, Question]) -> None:
    counted = [(["b", "a"], 3), (["a", "c"], 1)]
    assert questions["r"].matches(["b", "a"], "b") and not questions["r"].matches(["b", "a"], "a")  # first choice only
    assert questions["m"].matches(["b", "a"], "a")
    assert questions["r"].mean_rank("a", counted) == 1.75
    assert questions["e"].mean([(4, 3), (1, 1)], 4) == 3.25
    assert questions["y"].mean([("yes", 2)], 2) is None


def test_a_consultation_whose_questions_change_is_read_anew() -> None:
    consultation = Consultation(id=41, slug="relue", questions=[dict(q) for q in STORED])
    assert questions_of(consultation)[0].required is True
    consultation.questions = [STORED[0] | {"required": False}, *STORED[1:]]  # re-imported before anyone answered
    assert questions_of(consultation)[0].required is False
    assert [q.id for q in questions_of(consultation)] == ["s", "m", "r", "y", "e", "t"]
