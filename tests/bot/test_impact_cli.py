"""`palabre stats` and `palabre feedback`, run as an operator would run them."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from participation import feedback
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import AuditEntry, OutboxMessage
from storage.types import utcnow
from tests.bot.test_cli import palabre
from tests.participation.test_broadcasts import add_resident


def seed(db: Path) -> int:
    async def work() -> int:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        async with make_sessionmaker(engine).begin() as session:
            anne = await add_resident(session, 987654321, locale="en", consent_at=utcnow() - timedelta(days=3))
            await add_resident(session, 78, consent_at=utcnow() - timedelta(days=400))
            row = await feedback.submit(session, anne, "Plus de consultations sur le vélo")
            feedback_id = row.id
        await engine.dispose()
        return feedback_id  # type: ignore[return-value]

    return asyncio.run(work())


def test_feedback_list_and_answer_reach_the_resident(tmp_path: Path) -> None:
    feedback_id = seed(tmp_path / "palabre.db")
    listed = palabre("feedback", "list", "--open", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert f"#{feedback_id}" in listed.stdout and "[open]  Plus de consultations sur le vélo" in listed.stdout
    assert "987654321" not in listed.stdout.replace(f"#{feedback_id}", "")  # by pseudonym, never the Telegram id
    answered = palabre("feedback", "answer", str(feedback_id), "C'est prévu au printemps.", cwd=tmp_path)
    assert answered.stdout.strip() == f"Answer to feedback #{feedback_id} queued for the resident."
    again = palabre("feedback", "answer", str(feedback_id), "Encore", cwd=tmp_path)
    assert again.returncode == 1 and again.stderr.strip() == f"Feedback #{feedback_id} was already answered."
    missing = palabre("feedback", "answer", "999", "?", cwd=tmp_path)
    assert missing.returncode == 1 and missing.stderr.strip() == "There is no feedback #999: see `palabre feedback list`."
    assert palabre("feedback", "list", "--open", cwd=tmp_path).stdout.strip() == "No feedback is waiting for an answer."

    async def rows() -> tuple[list[OutboxMessage], list[str]]:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'palabre.db'}")
        async with make_sessionmaker(engine)() as session:
            out = list(await session.scalars(select(OutboxMessage)))
            audits = list(await session.scalars(select(AuditEntry.action)))
        await engine.dispose()
        return out, audits

    out, audits = asyncio.run(rows())
    assert [(m.chat_id, m.payload["text"]) for m in out] == [
        (
            987654321,
            "💬 <b>The town hall answered your feedback</b>\n\n«\u202fPlus de consultations sur le vélo\u202f»\n\nC'est prévu au printemps.",
        )
    ]
    assert audits == ["feedback.answer"]


def test_stats_in_every_format(tmp_path: Path) -> None:
    seed(tmp_path / "palabre.db")
    text = palabre("stats", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    # Anne wrote a feedback in the period: she is active.
    assert "Habitants\u00a0: 2 inscrits, 1 actif sur la période, 0 a bloqué le bot." in text.stdout
    assert "Avis sur le service\u00a0: 1 reçu, 0 avec réponse." in text.stdout
    as_json = json.loads(palabre("stats", "--format", "json", cwd=tmp_path).stdout)
    assert as_json["residents"]["total"] == 2 and as_json["feedback"] == {"received": 1, "answered": 0}
    # An old period: the resident who came 400 days ago is the only one.
    old_day = (utcnow() - timedelta(days=400)).date()
    old = json.loads(
        palabre(
            "stats",
            "--from",
            str(old_day - timedelta(days=1)),
            "--to",
            str(old_day + timedelta(days=1)),
            "--format",
            "json",
            cwd=tmp_path,
        ).stdout
    )
    assert old["residents"]["total"] == 1 and sum(n for _monday, n in old["residents"]["new_per_week"]) == 1
    png = palabre("stats", "--format", "png", "--output", "conseil.png", cwd=tmp_path)
    assert png.stdout.strip() == "Wrote conseil.png." and (tmp_path / "conseil.png").read_bytes().startswith(b"\x89PNG")
    # The report lands where it is asked, never as a surprise file in the working directory.
    unasked = palabre("stats", "--format", "pdf", cwd=tmp_path)
    assert unasked.returncode == 2 and unasked.stderr.strip() == "A PDF report needs --output FILE."
    assert not (tmp_path / "palabre-stats.pdf").exists()
    pdf = (
        palabre("stats", "--format", "pdf", "--output", "reports/conseil.pdf", cwd=tmp_path)
        if (tmp_path / "reports").mkdir() is None
        else None
    )
    assert pdf is not None and pdf.stdout.strip() == "Wrote reports/conseil.pdf."
    assert (tmp_path / "reports" / "conseil.pdf").read_bytes().startswith(b"%PDF")
    bad = palabre("stats", "--from", "2026-12-01", "--to", "2026-11-01", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip() == "--from must not come after --to."
    assert "Traceback" not in palabre("stats", "--from", "demain", cwd=tmp_path).stderr
