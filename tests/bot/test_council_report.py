"""The council's report at a realistic volume: nothing overlaps, nothing leaves the page, plain
French with its plurals and numbers, the commune's name and a source line, more pages when needed."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.text import Text

from bot.i18n import build_i18n
from notices.stats_report import _pages, render_pdf, render_png_pages
from participation.stats import (
    CategoryFigures,
    ConsultationFigures,
    FeedbackFigures,
    PopulationFigures,
    ReportFigures,
    ResidentFigures,
    SatisfactionFigures,
    Share,
    Stats,
)
from participation.weighting import GroupFigure

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 9, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
HOODS = {
    "centre": "Centre-ville historique",
    "gare": "Quartier de la gare et des Tilleuls",
    "bourg": "Le bourg",
    "hameaux": "Les hameaux du plateau",
    "zac": "ZAC des Champs-Élysées de la Mairie annexe",
}
TITLES = [
    "Réaménagement de la place du marché",
    "Marché nocturne",
    "Cour de l’école Jules-Ferry : végétalisation",
    "Horaires de la médiathèque",
    "Un skatepark près du stade ?",
    "Plan vélo 2027-2030 et stationnement des deux-roues",
    "Éclairage public la nuit",
    "Cantine : plus de bio et de local",
    "Fête de la musique",
    "Budget participatif",
]
CATEGORIES = [
    "Chaussée abîmée, nid-de-poule",
    "Trottoir abîmé ou encombré",
    "Éclairage public en panne",
    "Dépôt sauvage d’ordures",
    "Tag ou graffiti",
    "Espaces verts mal entretenus",
    "Stationnement gênant",
    "Mobilier urbain cassé",
    "Nuisances sonores répétées la nuit",
    "Animal errant ou blessé",
]


def realistic() -> Stats:
    """400 residents, 20 consultations, 100 reports in 10 categories, population known."""
    shares = [Share(code, 80, 0.2, 12, 0.24, 0.2) for code in HOODS]
    consultations = [
        ConsultationFigures(
            slug=f"c{n}",
            title={"fr": TITLES[n % 10] + ("" if n < 10 else " (deuxième tour)")},
            opens_at=START + timedelta(days=3 * n),
            closes_at=START + timedelta(days=3 * n + 14),
            audience=400,
            started=1 + 17 * n,
            finished=1 + 15 * n,
            participation_rate=(1 + 17 * n) / 400,
            completion_rate=(1 + 15 * n) / (1 + 17 * n),
            published=n % 2 == 0,
            by_neighbourhood=shares,
            by_age_bracket=[],
        )
        for n in range(20)
    ]
    groups = [GroupFigure("neighbourhood", code, 2000 + 300 * i, 0.2, 30 + 10 * i, 0.2) for i, code in enumerate(HOODS)]
    groups += [GroupFigure("age", code, 2000, 0.2, 40, 0.2) for code in ("15-29", "30-44", "45-59", "60-74", "75-plus")]
    return Stats(
        start=START,
        end=END,
        residents=ResidentFigures(400, [(date(2026, 8, 31) + timedelta(days=7 * w), w % 7) for w in range(13)], 250, 3),
        consultations=consultations,
        closed_consultations=20,
        published_consultations=10,
        satisfaction=SatisfactionFigures(
            120, 3.8, {1: 5, 2: 10, 3: 25, 4: 40, 5: 40}, [(date(2026, 9, 1), 3.7, 60), (date(2026, 10, 1), 3.9, 60)]
        ),
        feedback=FeedbackFigures(12, 10),
        reports=ReportFigures(
            100,
            90,
            80.0,
            400.0,
            1,
            [CategoryFigures(f"k{i}", {"fr": name}, 10, 9, 24.0 * (i + 1), 24.0 * (i + 5)) for i, name in enumerate(CATEGORIES)],
        ),
        population=PopulationFigures("Insee, recensement 2022", 11500, 250, groups),
    )


def drawn_texts(figure: Any) -> list[tuple[str, Any]]:
    """Every piece of text drawn on the page, with its box in pixels (tick labels only where drawn)."""
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    texts = list(figure.texts)
    for axes in figure.axes:
        texts += [axes.title, axes._left_title, axes._right_title, axes.xaxis.label, axes.yaxis.label, *axes.texts]
        for axis in (axes.xaxis, axes.yaxis):
            texts += [tick.label1 for tick in axis._update_ticks() if tick.label1.get_visible()]
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in texts
        if isinstance(t, Text) and t.get_visible() and t.get_text().strip()
    ]


def test_council_report_at_a_realistic_volume_has_no_overlapping_or_cut_text() -> None:
    i18n = build_i18n("fr")
    with i18n.context(), i18n.use_locale("fr"):
        figures = _pages(
            realistic(), locale="fr", tz=PARIS, hood_names=HOODS, commune="Saint-Palabre", extracted=date(2026, 12, 1)
        )
        pngs = render_png_pages(realistic(), locale="fr", tz=PARIS, hood_names=HOODS, commune="Saint-Palabre")
        pdf = render_pdf(realistic(), locale="fr", tz=PARIS, hood_names=HOODS, commune="Saint-Palabre")
    assert len(figures) >= 2 and len(pngs) == len(figures)  # 20 consultations and 10 categories need more than a page
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= len(figures)
    every = []
    for page, figure in enumerate(figures, start=1):
        texts = drawn_texts(figure)
        width, height = figure.bbox.width, figure.bbox.height
        for text, box in texts:
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height, f"page {page}: {text!r} leaves the page"
        for n, (text, box) in enumerate(texts):
            for other, other_box in texts[n + 1 :]:
                overlap_x = min(box.x1, other_box.x1) - max(box.x0, other_box.x0)
                overlap_y = min(box.y1, other_box.y1) - max(box.y0, other_box.y0)
                assert overlap_x <= 1 or overlap_y <= 1, f"page {page}: {text!r} overlaps {other!r}"
        every += [text for text, _box in texts]
    whole = "\n".join(every)
    assert "Saint-Palabre\u00a0: la participation en chiffres" in whole
    assert f"page 1 sur {len(figures)}" in whole and "Source\u00a0: Palabre, Saint-Palabre" in whole
    assert "Réaménagement de la place du\nmarché" in whole  # wrapped, never cut
    assert "Population\u00a0: Insee, recensement 2022" in whole
    # French numbers and plurals; none of the jargon the review found.
    assert "1 participant sur 400 (0,2\u00a0%)" in whole and "18 participants sur 400 (4,5\u00a0%)" in whole
    assert "20\u00a0% des participants" in whole and "20\u00a0% de la population" in whole
    for jargon in ("centile", "achèvement", "injoignable", "(s)", "(e)"):
        assert jargon not in whole
    if os.environ.get("PALABRE_KEEP_REPORT"):  # to look at it: PALABRE_KEEP_REPORT=/tmp/report
        for page, png in enumerate(pngs, start=1):
            Path(f"{os.environ['PALABRE_KEEP_REPORT']}-{page}.png").write_bytes(png)
