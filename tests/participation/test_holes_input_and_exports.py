"""Issue 13: formulas typed by residents stay text in every export; control and invisible characters never reach storage."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation import feedback as feedback_module
from participation import report_export
from participation import results as r
from participation.audit import Source
from participation.reports import Problem, ReportError, create_report
from participation.residents import get_or_create_resident
from participation.text import clean_text, clean_visible, has_visible
from storage.models import Feedback, Report
from tests.consultation_helpers import add_consultation, add_resident
from tests.participation.reports_support import RecordingNotifier, load_categories
from tests.participation.test_results import FREQUENCE, PIETONNE, POURQUOI, SATISFACTION, respond

FORMULA = '=HYPERLINK("http://x","y")'


async def test_results_exports_keep_formulas_as_text_and_numbers_as_numbers(session: AsyncSession) -> None:
    consultation = await add_consultation(session)
    ana = await add_resident(session, 41, neighbourhood="centre")
    bob = await add_resident(session, 42)
    await respond(session, consultation, ana, {FREQUENCE: "hebdo", SATISFACTION: 4, PIETONNE: "no", POURQUOI: FORMULA})
    await respond(session, consultation, bob, {FREQUENCE: "mois", SATISFACTION: 2, PIETONNE: "no", POURQUOI: "-2 degrés @ midi"})
    results = await r.compute_results(session, consultation, locale="fr", yes="Oui", no="Non")

    rows = list(csv.reader(io.StringIO(r.to_csv(results).decode("utf-8-sig"))))
    assert [row[-1] for row in rows[1:]] == ["'" + FORMULA, "'-2 degrés @ midi"]
    assert [row[5] for row in rows[1:]] == ["4", "2"]  # a scale answer is a plain number, unquoted
    streamed = io.BytesIO()
    await r.write_csv(session, consultation, streamed)
    assert streamed.getvalue() == r.to_csv(results)

    workbook = load_workbook(io.BytesIO(r.to_xlsx(results)))
    sheet = workbook["responses"]
    cells = [sheet.cell(row=2, column=column) for column in range(1, sheet.max_column + 1)]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert cells[-1].value == "'" + FORMULA and cells[-1].data_type == "s"
    assert cells[5].value == 4 and cells[5].data_type == "n"  # numeric answers are numeric cells
    summary = workbook["summary"]
    assert all(cell.data_type != "f" for row in summary.iter_rows() for cell in row)
    assert ["pourquoi", "text", "'" + FORMULA] in [[c.value for c in row][:3] for row in summary.iter_rows()]


async def test_report_exports_neutralise_formulas(session: AsyncSession) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 601)
    await create_report(
        session,
        category=categories["voirie-chaussee"],
        description="@SUM(1+1) trou énorme",
        photos=[],
        lat=None,
        lon=None,
        address="+33 rue du Port",
        resident=camille,
        source=Source.CHAT,
        notifier=RecordingNotifier(),
    )
    rows = await report_export.export_rows(session, "fr")
    exported = list(csv.DictReader(io.StringIO(report_export.to_csv(rows).decode("utf-8-sig"))))
    assert (exported[0]["description"], exported[0]["address"]) == ("'@SUM(1+1) trou énorme", "'+33 rue du Port")
    geojson = json.loads(report_export.to_geojson(rows))
    assert geojson["features"][0]["properties"]["description"] == "'@SUM(1+1) trou énorme"
    assert geojson["features"][0]["properties"]["followers"] == 0


@pytest.mark.parametrize("text", ["\u200b\u200b\u200b", "\u200d\ufeff \u2060", "\x00\x0b", " \u00a0\u202f"])
async def test_a_text_with_nothing_visible_is_refused(session: AsyncSession, text: str) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 602)
    with pytest.raises(ReportError) as caught:
        await create_report(
            session,
            category=categories["bruit"],
            description=text,
            photos=[],
            lat=None,
            lon=None,
            address=None,
            resident=camille,
            source=Source.CHAT,
            notifier=RecordingNotifier(),
        )
    assert caught.value.problem == Problem.DESCRIPTION_EMPTY
    with pytest.raises(feedback_module.FeedbackRefused):
        await feedback_module.submit(session, camille, text)
    assert await session.scalar(select(Report.id)) is None and await session.scalar(select(Feedback.id)) is None


async def test_control_characters_are_removed_before_storage_on_every_backend(session: AsyncSession) -> None:
    categories = await load_categories(session)
    camille = await get_or_create_resident(session, 603)
    report = await create_report(
        session,
        category=categories["bruit"],
        description="Bruit\x00 la\x0b nuit\x1f",
        photos=[],
        lat=None,
        lon=None,
        address="2 rue\x00 Haute",
        resident=camille,
        source=Source.CHAT,
        notifier=RecordingNotifier(),
    )
    await feedback_module.submit(session, camille, "Merci\x00 !")
    await session.commit()  # PostgreSQL refuses NUL in text: this commit is the proof
    assert (report.description, report.address) == ("Bruit la nuit", "2 rue Haute")
    assert await session.scalar(select(Feedback.text)) == "Merci !"


def test_cleaning_keeps_line_breaks_and_letters() -> None:
    assert clean_text(" Ligne 1\nLigne\t2\r\n ") == "Ligne 1\nLigne\t2"
    assert has_visible("\u200b é") and not has_visible("\u200b\u200c\u200e")
    assert clean_visible("\x00\u200b") is None
