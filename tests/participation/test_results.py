"""Results: counts and percentages from submitted responses only; exports show residents by pseudonym only."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from participation import consultations as c
from participation import results as r
from tests.consultation_helpers import add_consultation, add_resident

FREQUENCE, PRIORITES, SATISFACTION, PIETONNE, POURQUOI = range(5)


async def respond(session, consultation, resident, answers: dict[int, object], submit: bool = True) -> None:  # type: ignore[no-untyped-def]
    view = await c.begin(session, consultation, resident)
    rid = view.response.id
    while view.response.cursor is not None:
        index = view.response.cursor
        value = answers.get(index)
        if value is None:
            view = await c.skip(session, resident, rid, view.response.step, index)
        elif index == PRIORITES:
            for choice in value:  # type: ignore[attr-defined]
                view = await c.toggle(session, resident, rid, view.response.step, index, choice)
            view = await c.validate_draft(session, resident, rid, view.response.step, index)
        else:
            view = await c.answer(session, resident, rid, view.response.step, index, value)
        if not submit and index == FREQUENCE:
            return
    await c.submit(session, resident, rid, view.response.step)


async def test_counts_percentages_texts_and_participation(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    ana = await add_resident(session, 31, neighbourhood="centre")
    bob = await add_resident(session, 32, neighbourhood="centre")
    cleo = await add_resident(session, 33)
    dan = await add_resident(session, 34, neighbourhood="gare")
    await respond(session, consultation, ana, {FREQUENCE: "hebdo", PRIORITES: ["arbres", "bancs"], SATISFACTION: 4, PIETONNE: "no", POURQUOI: "Le bruit, l’été"})
    await respond(session, consultation, bob, {FREQUENCE: "hebdo", PRIORITES: ["arbres"], SATISFACTION: 2, PIETONNE: "yes"})
    await respond(session, consultation, cleo, {FREQUENCE: "mois", PIETONNE: "yes"})
    await respond(session, consultation, dan, {FREQUENCE: "jamais"}, submit=False)  # started, not finished

    results = await r.compute_results(session, consultation, locale="fr", yes="Oui", no="Non")
    assert (results.started, results.finished) == (4, 3)
    assert results.by_neighbourhood == {"": (1, 1), "centre": (2, 2), "gare": (1, 0)}
    frequence, priorites, satisfaction, pietonne, pourquoi = results.questions
    assert [(o.label, o.count, o.percent) for o in frequence.options] == [("Chaque semaine", 2, 66.7), ("Chaque mois", 1, 33.3), ("Jamais", 0, 0.0)]
    assert [(o.value, o.count) for o in priorites.options] == [("arbres", 2), ("bancs", 1), ("velos", 0)]
    assert (priorites.answered, priorites.skipped) == (2, 1)
    assert satisfaction.mean == 3 and [o.count for o in satisfaction.options] == [0, 1, 0, 1, 0]
    assert [(o.label, o.count) for o in pietonne.options] == [("Oui", 2), ("Non", 1)]
    assert pourquoi.texts == ["Le bruit, l’été"]

    rows = list(csv.reader(io.StringIO(r.to_csv(results).decode("utf-8-sig"))))
    assert r.to_csv(results).startswith(b"\xef\xbb\xbf")
    assert rows[0] == ["resident", "neighbourhood", "submitted_at", "frequence", "priorites", "satisfaction", "pietonne", "pourquoi"]
    assert [row[0] for row in rows[1:]] == [ana.pseudonym, bob.pseudonym, cleo.pseudonym]
    assert [row[3:] for row in rows[1:]] == [
        ["hebdo", "arbres;bancs", "4", "no", "Le bruit, l’été"],
        ["hebdo", "arbres", "2", "yes", ""],
        ["mois", "", "", "yes", ""],
    ]
    exported = json.loads(r.to_json(results))
    assert exported["finished"] == 3 and exported["questions"][0]["options"][0]["count"] == 2
    # A resident is their pseudonym, neighbourhood and answers: no Telegram id, no name.
    assert set(exported["responses"][0]) == {"pseudonym", "neighbourhood", "submitted_at", "answers", "other_texts"}
    sheet = load_workbook(io.BytesIO(r.to_xlsx(results)))["responses"]
    assert [cell.value for cell in sheet[2]][:4] == [ana.pseudonym, "centre", sheet[2][2].value, "hebdo"]


async def test_one_png_chart_per_counted_question(session, tmp_path) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    results = await r.compute_results(session, consultation, locale="fr")
    written = r.write_charts(results, tmp_path / "marche.png", caption="réponses")
    assert sorted(p.name for p in written) == ["marche-frequence.png", "marche-pietonne.png", "marche-priorites.png", "marche-satisfaction.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


async def test_streamed_csv_is_the_same_file_and_counts_need_no_responses_in_memory(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    for telegram_id, answers in enumerate([
        {FREQUENCE: "hebdo", PRIORITES: ["arbres", "bancs"], SATISFACTION: 4, PIETONNE: "no", POURQUOI: "Trop de voitures"},
        {FREQUENCE: "mois", PIETONNE: "yes"},
        {FREQUENCE: "jamais", PRIORITES: ["velos"], SATISFACTION: 1, PIETONNE: "no"},
    ], start=41):
        await respond(session, consultation, await add_resident(session, telegram_id, neighbourhood="gare"), answers)
    await respond(session, consultation, await add_resident(session, 49), {FREQUENCE: "hebdo"}, submit=False)

    full = await r.compute_results(session, consultation, locale="fr")
    light = await r.compute_results(session, consultation, locale="fr", with_responses=False)
    assert light.responses == [] and len(full.responses) == 3
    assert (light.started, light.finished, light.by_neighbourhood) == (4, 3, {"": (1, 0), "gare": (3, 3)})
    assert light.questions == full.questions
    priorites, satisfaction = light.questions[PRIORITES], light.questions[SATISFACTION]
    assert [(o.value, o.count, o.percent) for o in priorites.options] == [("arbres", 1, 50.0), ("bancs", 1, 50.0), ("velos", 1, 50.0)]
    assert (priorites.answered, priorites.skipped, satisfaction.mean) == (2, 1, 2.5)

    streamed = io.BytesIO()
    assert await r.write_csv(session, consultation, light, streamed) == 3
    assert streamed.getvalue() == r.to_csv(full)
