"""The council's figures rendered: French text, JSON that round-trips, a one-page PNG and PDF."""

from __future__ import annotations

import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.numbers import format_percent

from bot.i18n import build_i18n
from notices.stats_report import render_pdf, render_png, render_text, to_json
from participation import stats
from storage.db import SessionMaker
from tests.participation.test_stats import END, INTERVAL, NOW, START, generate

PARIS = ZoneInfo("Europe/Paris")


def ngettext_fr(count: int, one: str, many: str) -> str:
    """« 0 rouvert », « 1 rouvert », « 2 rouverts »: French counts 0 and 1 as singular."""
    return f"{count} {one if count < 2 else many}"


async def test_report_in_french_text_json_png_and_pdf(sessionmaker: SessionMaker, tmp_path: Path) -> None:
    await generate(sessionmaker)
    async with sessionmaker() as session:
        figures = await stats.compute_stats(session, START, END, now=NOW, interval_days=INTERVAL)
    names = {"centre": "Centre-ville", "nord": "Quartier Nord"}
    i18n = build_i18n("fr")
    with i18n.context(), i18n.use_locale("fr"):
        text = render_text(figures, locale="fr", tz=PARIS, hood_names=names)
        png = render_png(figures, locale="fr", tz=PARIS, hood_names=names)
        pdf = render_pdf(figures, locale="fr", tz=PARIS, hood_names=names)
    assert text.startswith("Les chiffres de Palabre, du 1 avr. 2026 au 10 juin 2026")
    assert f"Habitants\u00a0: {figures.residents.total} inscrits, {figures.residents.active} actifs" in text
    assert "Centre-ville\u00a0:" in text and "Éclairage\u00a0:" in text
    # Who takes part, by age bracket, beside the neighbourhoods: the same figures as the JSON.
    parc = figures.consultations[0]
    young = next(share for share in parc.by_age_bracket if share.code == "15-29")
    assert f"15 à 29 ans\u00a0: {format_percent(young.participant_share, locale='fr')} des participants" in text
    assert "75 ans et plus\u00a0:" in text and "âge non indiqué\u00a0:" in text
    assert (ngettext_fr(figures.reports.reopened, "rouvert", "rouverts") + " par l’habitant après «\u202frésolu\u202f»") in text
    data = json.loads(to_json(figures))
    assert data["residents"]["total"] == figures.residents.total
    assert data["reports"]["median_hours"] == figures.reports.median_hours
    assert data["satisfaction"]["distribution"] == {str(k): v for k, v in figures.satisfaction.distribution.items()}
    assert data["consultations"][0]["slug"] == "parc" and data["start"] == "2026-04-01T09:00:00+00:00"
    assert [share["code"] for share in data["consultations"][0]["by_age_bracket"]] == [
        share.code for share in parc.by_age_bracket
    ]
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1
    (tmp_path / "stats.png").write_bytes(png)
    if os.environ.get("PALABRE_KEEP_REPORT"):  # to look at it: PALABRE_KEEP_REPORT=/tmp/stats.png
        Path(os.environ["PALABRE_KEEP_REPORT"]).write_bytes(png)


async def test_report_of_an_empty_period_still_renders(sessionmaker: SessionMaker) -> None:
    async with sessionmaker() as session:
        figures = await stats.compute_stats(session, START, END, now=NOW, interval_days=INTERVAL)
    i18n = build_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        text = render_text(figures, locale="en", tz=PARIS, hood_names={})
        png = render_png(figures, locale="en", tz=PARIS, hood_names={})
    assert "Residents: 0 registered, 0 active in the period, 0 have blocked the bot." in text
    assert png.startswith(b"\x89PNG")
