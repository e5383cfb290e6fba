"""Consultation stories against the real `palabre run` process and the fake Bot API server."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from storage.db import make_engine, make_sessionmaker
from storage.models import Consultation
from storage.types import utcnow
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.harness import ROOT, PalabreFactory, onboard

DATA = Path(__file__).resolve().parent.parent / "data"
STALE = "Ce bouton n’est plus actif. Utilisez le dernier message, plus bas."
INVALID = "Ce bouton n’est plus valable."


async def palabre_cli(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run a `palabre` command on the story's database, as an official would on the server."""
    env = {**os.environ, "DATABASE_URL": database_url, "DEFAULT_LOCALE": "fr"}
    env.pop("BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def import_file(database_url: str, path: Path) -> None:
    code, out, err = await palabre_cli(database_url, "consultation", "import", str(path))
    assert code == 0, err
    assert "created" in out


def with_times(tmp_path: Path, *, closes_in: timedelta, questions: str | None = None, slug: str | None = None) -> Path:
    """The sample file, opening now and closing after `closes_in` (optionally other questions or slug).

    Without reminders: the sample's 48 h and 6 h before a closing this near are due at once and
    would reach whoever is half-way, in the middle of a story about something else.
    """
    text = (DATA / "consultation_marche.yaml").read_text(encoding="utf-8")
    now = utcnow()
    text = re.sub(r"opens_at: .*", f"opens_at: {(now - timedelta(minutes=1)).isoformat()}", text)
    text = re.sub(r"closes_at: .*", f"closes_at: {(now + closes_in).isoformat()}", text)
    text = re.sub(r"reminders: .*", "reminders: []", text)
    if questions is not None:
        text = text[: text.index("questions:")] + questions
    if slug is not None:
        text = text.replace("slug: place-du-marche", f"slug: {slug}")
    path = tmp_path / f"{slug or 'consultation'}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def open_from_list(user: FakeUser) -> dict[str, Any]:
    await user.press("🗳 Consultations")
    await user.wait_message("Les consultations ouvertes pour vous")
    await user.tap("Réaménagement de la place du marché")
    return await user.wait_message("Question")


async def tap_and_wait(user: FakeUser, label: str, expected: str) -> dict[str, Any]:
    """Tap a button, then wait for the message whose text (or one of whose buttons) shows `expected`."""
    await user.tap(label)
    return await user.wait_message(lambda m: expected in (m.get("text") or "") or expected in button_texts(m))


def button_texts(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_three_residents_answer_and_the_results_show_their_taps(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(days=7)))
    bot = await palabre.start()
    camille, alex, lou = fake.user(2101, "Camille"), fake.user(2102, "Alex"), fake.user(2103, "Lou")
    for user in (camille, alex, lou):
        await onboard(user)

    # Camille answers everything; "no" brings the conditional text question.
    first = await open_from_list(camille)
    assert "Question 1/4" in first["text"]
    await tap_and_wait(camille, "Chaque semaine", "Question 2/4")
    await tap_and_wait(camille, "Des arbres", "✓ Des arbres")
    await tap_and_wait(camille, "Des bancs", "✓ Des bancs")
    await camille.tap("Des vélos")  # a third tick: over the maximum of 2
    assert (await camille.wait_callback_answer())["text"] == "Vous pouvez choisir 2 réponses au plus."
    await tap_and_wait(camille, "Valider", "Question 3/4")
    await tap_and_wait(camille, "4", "Question 4/4")
    await tap_and_wait(camille, "Non", "Question 5/5")
    await camille.send_text("Trop de bruit le samedi")
    summary = await camille.wait_message("Voici vos réponses")
    assert "→ Des arbres, Des bancs" in summary["text"] and "→ Trop de bruit le samedi" in summary["text"]
    await camille.tap("Envoyer")
    assert (await camille.wait_callback_answer())["text"] == "Merci\u202f! Vos réponses sont enregistrées."

    # She changes her first answer before closing.
    await camille.press("🗳 Consultations")
    await camille.wait_message("Les consultations ouvertes pour vous")
    await camille.tap("Réaménagement de la place du marché")
    await camille.wait_message("vos réponses sont enregistrées")
    await tap_and_wait(camille, "✏️ 1", "Question 1/5")
    changed = await tap_and_wait(camille, "Chaque mois", "vos réponses sont enregistrées")
    assert "→ Chaque mois" in changed["text"]

    # Alex stops half-way; the bot restarts; Alex comes back at the next question.
    await open_from_list(alex)
    await tap_and_wait(alex, "Chaque semaine", "Question 2/4")
    await tap_and_wait(alex, "Des vélos", "✓ Des vélos")
    await tap_and_wait(alex, "Valider", "Question 3/4")
    await bot.restart()
    await alex.send_command("/start c_place-du-marche")
    resumed = await alex.wait_message("Question")
    assert "Question 3/4" in resumed["text"]
    assert any("Bon retour" in (m.get("text") or "") for m in alex.messages)
    await tap_and_wait(alex, "2", "Question 4/4")
    await tap_and_wait(alex, "Oui", "Voici vos réponses")
    await alex.tap("Envoyer")
    await alex.wait_message("vos réponses sont enregistrées")

    # Lou skips the optional question.
    first = await open_from_list(lou)
    await tap_and_wait(lou, "Jamais", "Question 2/4")
    await tap_and_wait(lou, "Passer", "Question 3/4")
    await tap_and_wait(lou, "5", "Question 4/4")
    await tap_and_wait(lou, "Oui", "Voici vos réponses")
    await lou.tap("Envoyer")
    await lou.wait_message("vos réponses sont enregistrées")

    # A stale button (question 1, from a snapshot) and forged data change nothing.
    stale_data = next(
        b["callback_data"] for row in first["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Chaque semaine"
    )
    await lou.tap_data(stale_data)
    assert (await lou.wait_callback_answer())["text"] == STALE
    response_id = stale_data.split(":")[1]
    for forged in (f"ca:{response_id}:999:0:c:2", f"ca:{int(response_id) + 50}:1:0:c:0", "ca:1:2", "zz:forged"):
        await lou.tap_data(forged)
        assert (await lou.wait_callback_answer())["text"] in (STALE, INVALID)

    # Three residents tapping as fast as a test can may meet Telegram's flood control (30 per
    # second): the bot waits as asked and draws the screen; nothing else may have failed.
    fake.assert_no_errors(allow=["Too Many Requests"])

    code, out, err = await palabre_cli(palabre.database_url, "results", "place-du-marche")
    assert code == 0, err
    for line in (
        "Participation: 3 started, 3 finished.",
        "   Chaque semaine: 1 (33.3 %)",
        "   Chaque mois: 1 (33.3 %)",
        "   Jamais: 1 (33.3 %)",
        "   Des arbres: 1 (50 %)",
        "   Des bancs: 1 (50 %)",
        "   Des vélos: 1 (50 %)",
        "   2: 1 (33.3 %)",
        "   4: 1 (33.3 %)",
        "   5: 1 (33.3 %)",
        "   mean: 3.67",
        "   Oui: 2 (66.7 %)",
        "   Non: 1 (33.3 %)",
        "   « Trop de bruit le samedi »",
    ):
        assert line in out.splitlines(), (line, out)
    export = tmp_path / "resultats.csv"
    code, _out, err = await palabre_cli(
        palabre.database_url, "results", "place-du-marche", "--format", "csv", "--output", str(export)
    )
    assert code == 0, err
    raw = export.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted((r["frequence"], r["priorites"], r["satisfaction"], r["pietonne"], r["pourquoi"]) for r in rows) == [
        ("hebdo", "velos", "2", "yes", ""),
        ("jamais", "", "5", "yes", ""),
        ("mois", "arbres;bancs", "4", "no", "Trop de bruit le samedi"),
    ]
    assert all(re.fullmatch(r"[0-9a-f]{16}", r["resident"]) for r in rows)  # pseudonyms, not Telegram ids


async def consultation_status(database_url: str, slug: str, *, becomes: str) -> str | None:
    """The consultation's stored status, once it is `becomes` (or whatever it is after 40 s)."""
    engine = make_engine(database_url)
    try:
        for _ in range(400):
            async with make_sessionmaker(engine)() as session:
                status = await session.scalar(select(Consultation.status).where(Consultation.slug == slug))
            if status == becomes:
                break
            await asyncio.sleep(0.1)
        return status
    finally:
        await engine.dispose()


async def close_soon(database_url: str, slug: str) -> None:
    """Time passes: the closing time is now two seconds ahead (the running bot's scheduler rereads
    the database regularly, as it does after an import from the command line)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            await session.execute(
                update(Consultation).where(Consultation.slug == slug).values(closes_at=utcnow() + timedelta(seconds=2))
            )
    finally:
        await engine.dispose()


async def test_a_consultation_closes_by_itself_and_refuses_later_answers(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(minutes=10)))
    # One whose closing time passed while the bot was down: it is closed at start.
    await import_file(palabre.database_url, with_times(tmp_path, closes_in=timedelta(seconds=-30), slug="passee"))
    await palabre.start()
    assert await consultation_status(palabre.database_url, "passee", becomes="closed") == "closed"

    noa = fake.user(2201, "Noa")
    await onboard(noa)
    await noa.send_command("/start c_place-du-marche")
    await noa.wait_message("Question 1/4")
    await tap_and_wait(noa, "Chaque mois", "Question 2/4")
    await close_soon(palabre.database_url, "place-du-marche")
    assert await consultation_status(palabre.database_url, "place-du-marche", becomes="closed") == "closed"

    await noa.tap("Des bancs")
    assert (await noa.wait_callback_answer())["text"].startswith("Cette consultation a été close le ")
    await noa.send_command("/consultations")
    assert (await noa.wait_message())[
        "text"
    ] == "Aucune consultation n’est ouverte pour vous en ce moment. Nous vous préviendrons de la prochaine\u202f!"
    _code, out, _err = await palabre_cli(palabre.database_url, "results", "place-du-marche")
    assert "Participation: 1 started, 0 finished." in out and "   Chaque mois: 0 (0 %)" in out


POLL_QUESTION = """questions:
  - id: pietonne
    type: yesno
    prompt: {fr: "La place doit-elle devenir piétonne ?", en: "Should the square become pedestrian?"}
"""


async def test_native_poll_answers_are_counted_and_the_poll_stops_at_closing(
    fake: FakeTelegram, palabre: PalabreFactory, tmp_path: Path
) -> None:
    await import_file(
        palabre.database_url, with_times(tmp_path, closes_in=timedelta(minutes=10), questions=POLL_QUESTION, slug="pietonne")
    )
    await palabre.start(ADMIN_IDS="2399")
    official = fake.user(2399, "Élue")
    voters = [fake.user(2301, "Ana"), fake.user(2302, "Ben"), fake.user(2303, "Chloé")]
    for user in (official, *voters):
        await onboard(user)
    await official.send_command("/poll pietonne")
    assert (await official.wait_message("sondage"))["text"] == "📨 Le sondage part vers 4 habitants."
    polls = {}
    for user in voters:
        message = await user.wait_message(lambda m: "poll" in m)
        assert message["poll"]["question"] == "La place doit-elle devenir piétonne ?"
        assert [o["text"] for o in message["poll"]["options"]] == ["Oui", "Non"] and message["poll"]["is_anonymous"] is False
        polls[user.id] = message["poll"]["id"]
    await voters[0].answer_poll(polls[2301], [0])
    await voters[1].answer_poll(polls[2302], [1])
    await voters[1].answer_poll(polls[2302], [0])  # Ben changes his mind: still one answer
    await voters[2].answer_poll(polls[2303], [1])
    await fake.wait_idle()

    code, out, err = await palabre_cli(palabre.database_url, "results", "pietonne")
    assert code == 0, err
    assert "   Oui: 2 (66.7 %)" in out.splitlines() and "   Non: 1 (33.3 %)" in out.splitlines(), out
    assert "Participation: 3 started, 3 finished." in out

    await close_soon(palabre.database_url, "pietonne")
    stopped = await fake.wait_request("stopPoll", count=4, timeout=40)
    assert stopped and {int(p["chat_id"]) for p in fake.calls("stopPoll")} == {2399, 2301, 2302, 2303}
    fake.assert_no_errors()
