"""The reminder before a consultation closes says how long is really left, in French and English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.i18n import build_i18n
from notices.publication import time_left

NNBSP = "\u202f"


def said(locale: str, left: timedelta) -> str:
    i18n = build_i18n("fr")
    with i18n.context(), i18n.use_locale(locale):
        return time_left("Le parc", "28\u00a0décembre à 21\u00a0h\u00a050" if locale == "fr" else "28 December at 21:50", left)


@pytest.mark.parametrize(
    ("left", "start"),
    [
        (timedelta(minutes=40), "⏰ Il reste moins d’une heure"),
        (timedelta(minutes=70), "⏰ Plus qu’une heure"),
        (timedelta(hours=6, seconds=-20), "⏰ Plus que 6 heures"),
        (timedelta(hours=30), "⏰ Plus qu’un jour"),
        (timedelta(hours=47), "⏰ Plus que 2 jours"),
        (timedelta(days=7), "⏰ Plus que 7 jours"),
    ],
)
def test_french_reminder_says_the_real_time_left(left: timedelta, start: str) -> None:
    assert said("fr", left) == (
        f"{start} pour donner votre avis sur «{NNBSP}Le parc{NNBSP}» (fin le 28\u00a0décembre à 21\u00a0h\u00a050). "
        "Cela prend 2 minutes."
    )


@pytest.mark.parametrize(
    ("left", "start"),
    [
        (timedelta(minutes=5), "⏰ Less than an hour left"),
        (timedelta(minutes=89), "⏰ Only one hour left"),
        (timedelta(hours=2), "⏰ Only 2 hours left"),
        (timedelta(hours=23), "⏰ Only 23 hours left"),
        (timedelta(hours=25), "⏰ Only one day left"),
        (timedelta(hours=48), "⏰ Only 2 days left"),
    ],
)
def test_english_reminder_says_the_real_time_left(left: timedelta, start: str) -> None:
    assert said("en", left) == f"{start} to give your opinion on “Le parc” (closes on 28 December at 21:50). It takes 2 minutes."
