"""The consultation file: a good file is read as written; a bad one lists every problem with its path."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from participation.consultation_file import InvalidConsultation, parse_consultation, parse_consultation_file

DATA = Path(__file__).resolve().parent.parent / "data"
PARIS = ZoneInfo("Europe/Paris")


def problems_of(name: str) -> list[str]:
    with pytest.raises(InvalidConsultation) as raised:
        parse_consultation_file((DATA / name).read_text(encoding="utf-8"), "fr", PARIS)
    return raised.value.problems


def test_the_sample_file_is_read_as_written() -> None:
    spec = parse_consultation_file((DATA / "consultation_marche.yaml").read_text(encoding="utf-8"), "fr", PARIS)
    assert spec.slug == "place-du-marche"
    assert spec.title["fr"] == "Réaménagement de la place du marché"
    assert [q.type for q in spec.questions] == ["single", "multiple", "scale", "yesno", "text"]
    assert spec.questions[1].max_choices == 2
    # YAML reads a bare `no` as false: the condition still names the answer "no".
    assert spec.stored_questions()[4]["when"] == {"question": "pietonne", "in": ["no"]}
    assert spec.opens_at.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


def test_choices_slug_dates_and_duplicates_are_each_reported() -> None:
    assert problems_of("consultation_broken_choices.yaml") == [
        "colour: unknown field",
        "slug: expected 1 to 60 characters among a-z, 0-9 and -",
        "title.fr: expected a non-empty text",
        "closes_at: must be after opens_at",
        "questions[0].choices: at least 2 needed",
        "questions[1].id: “frequence” is already the id of an earlier question",
        "questions[1].choices[1].id: “a” appears twice",
        "questions[1].max: must be between 1 and the number of choices (1)",
    ]


def test_types_ranges_and_conditions_are_each_reported() -> None:
    assert problems_of("consultation_broken_types.yaml") == [
        "opens_at: expected a date and time such as 2026-12-01T08:00:00+01:00",
        "closes_at: required",
        "questions[0].type: expected one of single, multiple, scale, yesno, text, ranking",
        "questions[1].max: must be greater than min",
        "questions[2].prompt: required",
        "questions[2].max_length: must be between 1 and 4000",
        "questions[3].when.question: must be the id of an earlier question",
    ]


def test_conditions_name_real_answers_and_rankings_have_no_other() -> None:
    assert problems_of("consultation_broken_when.yaml") == [
        "questions[1].when.in[0]: “c” is not an answer of question “q1”",
        "questions[2].other: a ranking cannot have an “other” free answer",
    ]


def test_yaml_syntax_errors_name_their_line() -> None:
    assert problems_of("consultation_broken_yaml.yaml") == [
        "line 3: not valid YAML (expected ',' or ']', but got '<stream end>')"
    ]


def test_a_file_that_is_not_a_mapping_is_one_problem() -> None:
    with pytest.raises(InvalidConsultation) as raised:
        parse_consultation(["a", "list"], "fr", PARIS)
    assert raised.value.problems == ["(file): expected a mapping with slug, title, opens_at, closes_at and questions"]
