"""Results: counts and percentages from submitted responses only; exports show residents by pseudonym only."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from openpyxl import load_workbook

from participation import audit
from participation import consultations as c
from participation import results as r
from participation.consultation_file import parse_consultation_file
from participation.privacy import erase_resident
from tests.consultation_helpers import PARIS, add_consultation, add_resident

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
    await respond(
        session,
        consultation,
        ana,
        {FREQUENCE: "hebdo", PRIORITES: ["arbres", "bancs"], SATISFACTION: 4, PIETONNE: "no", POURQUOI: "Le bruit, l’été"},
    )
    await respond(session, consultation, bob, {FREQUENCE: "hebdo", PRIORITES: ["arbres"], SATISFACTION: 2, PIETONNE: "yes"})
    await respond(session, consultation, cleo, {FREQUENCE: "mois", PIETONNE: "yes"})
    await respond(session, consultation, dan, {FREQUENCE: "jamais"}, submit=False)  # started, not finished

    results = await r.compute_results(session, consultation, locale="fr", yes="Oui", no="Non")
    assert (results.started, results.finished) == (4, 3)
    assert results.by_neighbourhood == {"": (1, 1), "centre": (2, 2), "gare": (1, 0)}
    frequence, priorites, satisfaction, pietonne, pourquoi = results.questions
    assert [(o.label, o.count, o.percent) for o in frequence.options] == [
        ("Chaque semaine", 2, 66.7),
        ("Chaque mois", 1, 33.3),
        ("Jamais", 0, 0.0),
    ]
    assert [(o.value, o.count) for o in priorites.options] == [("arbres", 2), ("bancs", 1), ("velos", 0)]
    assert (priorites.answered, priorites.skipped) == (2, 1)
    assert satisfaction.mean == 3 and [o.count for o in satisfaction.options] == [0, 1, 0, 1, 0]
    assert [(o.label, o.count) for o in pietonne.options] == [("Oui", 2), ("Non", 1)]
    assert pourquoi.texts == ["Le bruit, l’été"]

    rows = list(csv.reader(io.StringIO(r.to_csv(results).decode("utf-8-sig"))))
    assert r.to_csv(results).startswith(b"\xef\xbb\xbf")
    assert rows[0] == [
        "resident",
        "neighbourhood",
        "submitted_at",
        "frequence",
        "priorites",
        "satisfaction",
        "pietonne",
        "pourquoi",
    ]
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
    assert sorted(p.name for p in written) == [
        "marche-frequence.png",
        "marche-pietonne.png",
        "marche-priorites.png",
        "marche-satisfaction.png",
    ]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


async def test_streamed_csv_is_the_same_file_and_counts_need_no_responses_in_memory(session) -> None:  # type: ignore[no-untyped-def]
    consultation = await add_consultation(session)
    for telegram_id, answers in enumerate(
        [
            {FREQUENCE: "hebdo", PRIORITES: ["arbres", "bancs"], SATISFACTION: 4, PIETONNE: "no", POURQUOI: "Trop de voitures"},
            {FREQUENCE: "mois", PIETONNE: "yes"},
            {FREQUENCE: "jamais", PRIORITES: ["velos"], SATISFACTION: 1, PIETONNE: "no"},
        ],
        start=41,
    ):
        await respond(session, consultation, await add_resident(session, telegram_id, neighbourhood="gare"), answers)
    await respond(session, consultation, await add_resident(session, 49), {FREQUENCE: "hebdo"}, submit=False)

    full = await r.compute_results(session, consultation, locale="fr")
    light = await r.compute_results(session, consultation, locale="fr", with_responses=False)
    assert light.responses == [] and len(full.responses) == 3
    assert (light.started, light.finished, light.by_neighbourhood) == (4, 3, {"": (1, 0), "gare": (3, 3)})
    assert light.questions == full.questions
    priorites, satisfaction = light.questions[PRIORITES], light.questions[SATISFACTION]
    assert [(o.value, o.count, o.percent) for o in priorites.options] == [
        ("arbres", 1, 50.0),
        ("bancs", 1, 50.0),
        ("velos", 1, 50.0),
    ]
    assert (priorites.answered, priorites.skipped, satisfaction.mean) == (2, 1, 2.5)

    streamed = io.BytesIO()
    assert await r.write_csv(session, consultation, streamed) == 3
    assert streamed.getvalue() == r.to_csv(full)


EVERY_KIND = """
slug: toutes-sortes
title: {fr: Toutes sortes de questions}
opens_at: 2026-01-01T08:00:00+01:00
closes_at: 2099-12-15T20:00:00+01:00
questions:
  - {id: venue, type: single, other: true, prompt: "Venue ?", choices: [{id: pied, label: À pied}, {id: bus, label: En bus}]}
  - {id: envies, type: multiple, other: true, prompt: "Envies ?", choices: [{id: arbres, label: Arbres}, {id: bancs, label: Bancs}]}
  - {id: ordre, type: ranking, prompt: "Classez", choices: [{id: a, label: Ombre}, {id: b, label: Calme}, {id: c, label: Propreté}]}
  - {id: note, type: scale, min: 0, max: 10, prompt: "Note ?"}
  - {id: pietonne, type: yesno, prompt: "Piétonne ?"}
  - {id: idee, type: text, max_length: 200, prompt: "Une idée ?"}
"""
ONLY_TEXT = """
slug: une-idee
title: {fr: Une idée}
opens_at: 2026-01-01T08:00:00+01:00
closes_at: 2099-12-15T20:00:00+01:00
questions:
  - {id: idee, type: text, max_length: 200, prompt: "Une idée ?"}
"""


async def test_csv_export_rows_for_every_kind_of_answer(session) -> None:  # type: ignore[no-untyped-def]
    """The export a spreadsheet receives, cell by cell: what the streamed CSV must keep giving."""

    async def imported(text: str):  # type: ignore[no-untyped-def]
        consultation, _ = await c.import_consultation(
            session, parse_consultation_file(text, "fr", PARIS), actor_telegram_id=None, source=audit.Source.CLI
        )
        await session.flush()
        return consultation

    def at(minute: int) -> datetime:
        return datetime(2026, 3, 1, 9, minute, tzinfo=UTC)

    async def answered(consultation, resident, steps, submitted_at):  # type: ignore[no-untyped-def]
        view = await c.begin(session, consultation, resident, now=at(0))
        rid = view.response.id
        for index, (how, value, *other) in enumerate(steps):
            step = view.response.step
            if how == "skip":
                view = await c.skip(session, resident, rid, step, index, now=at(0))
            elif how == "ticks":
                for choice in value:
                    view = await c.toggle(session, resident, rid, view.response.step, index, choice, now=at(0))
                view = await c.validate_draft(
                    session, resident, rid, view.response.step, index, other_text=other[0] if other else None, now=at(0)
                )
            else:
                view = await c.answer(
                    session, resident, rid, step, index, value, other_text=other[0] if other else None, now=at(0)
                )
        if submitted_at is not None:
            await c.submit(session, resident, rid, view.response.step, now=submitted_at)

    kinds = await imported(EVERY_KIND)
    telegram_ids = [987_654_301, 987_654_302, 987_654_303, 987_654_304, 987_654_305, 987_654_306, 987_654_307]
    ana, bob, cleo, dan, eve = [
        await add_resident(session, n, neighbourhood=hood)
        for n, hood in zip(telegram_ids, ["centre", None, "gare", "gare", "centre"], strict=False)
    ]
    # Bob is created second but submits first: rows follow the submission time, then the response.
    await answered(
        kinds,
        ana,
        [
            ("answer", "other", 'Le marché, "bio", le soir\nsurtout'),
            ("ticks", ["bancs", "arbres"], "Des fontaines; à boire"),
            ("ticks", ["c", "a", "b"]),
            ("answer", 0),
            ("answer", "no"),
            ("answer", "Plus d’ombre, « vraiment »\r\net des bancs"),
        ],
        at(30),
    )
    await answered(kinds, bob, [("skip", None)] * 6, at(10))
    await answered(
        kinds,
        cleo,
        [
            ("answer", "bus"),
            ("ticks", ["arbres"]),
            ("ticks", ["b", "a", "c"]),
            ("answer", 10),
            ("answer", "yes"),
            ("answer", "Un kiosque"),
        ],
        at(30),
    )
    await answered(kinds, dan, [("answer", "pied")], None)  # started, never submitted: not exported
    # Eve answered everything, then used /forget: her typed answers go, her choices stay.
    await answered(
        kinds,
        eve,
        [
            ("answer", "other", "En roller"),
            ("ticks", ["arbres"]),
            ("ticks", ["a", "b", "c"]),
            ("answer", 5),
            ("answer", "yes"),
            ("answer", "Moi"),
        ],
        at(20),
    )
    await erase_resident(session, eve)

    light = await r.compute_results(session, kinds, locale="fr", with_responses=False)
    venue, envies, ordre, note, pietonne, idee = light.questions
    assert [(q.answered, q.skipped) for q in (venue, envies, ordre, note, pietonne, idee)] == [
        (3, 1),
        (3, 1),
        (3, 1),
        (3, 1),
        (3, 1),
        (2, 1),
    ]
    assert [(o.value, o.count) for o in venue.options] == [("pied", 0), ("bus", 1), ("other", 2)]
    assert [(o.value, o.count) for o in envies.options] == [("arbres", 3), ("bancs", 1), ("other", 1)]
    assert [(o.value, o.count, o.mean_rank) for o in ordre.options] == [("a", 1, 1.67), ("b", 1, 2.0), ("c", 1, 2.33)]
    assert (note.mean, [o.count for o in note.options]) == (5.0, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])
    assert [(o.value, o.count) for o in pietonne.options] == [("yes", 2), ("no", 1)]
    # Free texts in submission order (Ana and Cléo submitted together: by response); Eve's went with /forget.
    assert (venue.texts, envies.texts) == (['Le marché, "bio", le soir\nsurtout'], ["Des fontaines; à boire"])
    assert idee.texts == ["Plus d’ombre, « vraiment »\r\net des bancs", "Un kiosque"]

    streamed = io.BytesIO()
    assert await r.write_csv(session, kinds, streamed) == 4
    expected = [
        [
            "resident",
            "neighbourhood",
            "submitted_at",
            "venue",
            "venue.other",
            "envies",
            "envies.other",
            "ordre",
            "note",
            "pietonne",
            "idee",
        ],
        [bob.pseudonym, "", "2026-03-01T09:10:00+00:00", "", "", "", "", "", "", "", ""],
        [eve.pseudonym, "", "2026-03-01T09:20:00+00:00", "other", "", "arbres", "", "a;b;c", "5", "yes", ""],
        [
            ana.pseudonym,
            "centre",
            "2026-03-01T09:30:00+00:00",
            "other",
            'Le marché, "bio", le soir\nsurtout',
            "bancs;arbres;other",
            "Des fontaines; à boire",
            "c;a;b",
            "0",
            "no",
            "Plus d’ombre, « vraiment »\r\net des bancs",
        ],
        [cleo.pseudonym, "gare", "2026-03-01T09:30:00+00:00", "bus", "", "arbres", "", "b;a;c", "10", "yes", "Un kiosque"],
    ]
    text = io.StringIO()
    csv.writer(text).writerows(expected)
    assert streamed.getvalue() == text.getvalue().encode("utf-8-sig")
    assert streamed.getvalue() == r.to_csv(await r.compute_results(session, kinds, locale="fr"))
    # Telegram ids never reach the export.
    assert not any(str(n) in streamed.getvalue().decode("utf-8-sig") for n in telegram_ids)

    # A response can end with no answer at all: /forget removed the only, typed, one.
    only_text = await imported(ONLY_TEXT)
    fred = await add_resident(session, telegram_ids[5], neighbourhood="plateau")
    await answered(only_text, fred, [("answer", "Un kiosque")], at(40))
    gina = await add_resident(session, telegram_ids[6], neighbourhood="plateau")
    await answered(only_text, gina, [("answer", "Une fontaine")], at(45))
    await erase_resident(session, fred)
    streamed = io.BytesIO()
    results = await r.compute_results(session, only_text, locale="fr", with_responses=False)
    assert results.questions[0].texts == ["Une fontaine"]
    assert await r.write_csv(session, only_text, streamed) == 2
    assert list(csv.reader(io.StringIO(streamed.getvalue().decode("utf-8-sig")))) == [
        ["resident", "neighbourhood", "submitted_at", "idee"],
        [fred.pseudonym, "", "2026-03-01T09:40:00+00:00", ""],
        [gina.pseudonym, "plateau", "2026-03-01T09:45:00+00:00", "Une fontaine"],
    ]
