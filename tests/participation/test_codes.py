"""One rule for codes: the consultation, categories and topics/neighbourhoods files accept and refuse the same ones."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from participation import subscriptions
from participation.categories import CategoryFileError, parse_categories
from participation.codes import CODE_PROBLEM
from participation.consultation_file import InvalidConsultation, parse_consultation

GOOD = ["a", "9", "voirie-chaussee", "aire_de_jeux", "q1", "x" * 32]
BAD = ["Centre", "voirie.chaussee", "-debut", "_debut", "place du marché", "é", "x" * 33, ""]


def consultation_problems(code: str) -> list[str]:
    data = {
        "slug": "essai",
        "title": "Essai",
        "topic": code,
        "neighbourhoods": [code],
        "opens_at": "2026-12-01T08:00:00+01:00",
        "closes_at": "2026-12-15T20:00:00+01:00",
        "questions": [
            {"id": code, "type": "single", "prompt": "?", "choices": [{"id": code, "label": "A"}, {"id": "b", "label": "B"}]}
        ],
    }
    try:
        parse_consultation(data, "fr", ZoneInfo("Europe/Paris"))
    except InvalidConsultation as error:
        return error.problems
    return []


def category_problems(code: str) -> list[str]:
    try:
        parse_categories(f'categories:\n  - {{code: "{code}", group: Voirie, name: Trou}}\n')
    except CategoryFileError as error:
        return error.problems
    return []


def subscription_problems(code: str, key: str) -> list[str]:
    try:
        subscriptions.parse_file(f'{key}:\n  - {{code: "{code}", name: Centre}}\n', key)
    except subscriptions.FileInvalid as error:
        return error.problems
    return []


@pytest.mark.parametrize("code", GOOD)
def test_a_good_code_is_accepted_by_every_format(code: str) -> None:
    assert consultation_problems(code) == []
    assert category_problems(code) == []
    assert subscription_problems(code, "topics") == []
    assert subscription_problems(code, "neighbourhoods") == []


@pytest.mark.parametrize("code", BAD)
def test_a_bad_code_is_refused_by_every_format_in_the_same_words(code: str) -> None:
    assert consultation_problems(code) == [
        f"topic: {CODE_PROBLEM}",
        f"neighbourhoods[0]: {CODE_PROBLEM}",
        f"questions[0].id: {CODE_PROBLEM}",
        f"questions[0].choices[0].id: {CODE_PROBLEM}",
    ]
    assert category_problems(code) == [f"categories[0].code: {CODE_PROBLEM}"]
    assert subscription_problems(code, "topics") == [f"topics[0].code: {CODE_PROBLEM}"]
    assert subscription_problems(code, "neighbourhoods") == [f"neighbourhoods[0].code: {CODE_PROBLEM}"]
