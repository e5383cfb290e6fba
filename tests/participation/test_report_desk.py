"""Staff work on reports: the filtered list, assignment and saved replies (participation/report_desk.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from participation.audit import Source, entries
from participation.report_desk import (
    ReportFilter,
    SavedReplyProblem,
    add_saved_reply,
    assign,
    list_reports,
    saved_replies_for,
)
from participation.reports import change_status, create_report
from storage.types import utcnow
from tests.participation.reports_support import RecordingNotifier, load_categories

AGENT = 77


async def test_every_filter_narrows_the_list(session: AsyncSession) -> None:
    categories = await load_categories(session)
    made = []
    for code, hood in (("voirie-chaussee", "centre"), ("voirie-chaussee", "gare"), ("bruit", "centre")):
        made.append(
            await create_report(
                session,
                category=categories[code],
                description="Un problème ici",
                photos=[],
                lat=45.0,
                lon=3.0,
                address=None,
                resident=None,
                source=Source.CLI,
                notifier=RecordingNotifier(),
                neighbourhood=hood,
            )
        )
    pothole, far, noise = made
    await change_status(
        session, noise, "fixed", author_telegram_id=AGENT, note=None, source=Source.WEB, notifier=RecordingNotifier()
    )
    notifier = RecordingNotifier()
    await assign(session, far, AGENT, by=1, source=Source.WEB, notifier=notifier)

    async def refs(**wanted: object) -> list[str]:
        return [row.report.ref for row in await list_reports(session, ReportFilter(**wanted))]  # type: ignore[arg-type]

    assert await refs() == [noise.ref, far.ref, pothole.ref]
    assert await refs(status="new") == [far.ref, pothole.ref]
    assert await refs(category="bruit") == [noise.ref]
    assert await refs(neighbourhood="centre", status="new") == [pothole.ref]
    assert await refs(agent=AGENT) == [far.ref]
    today = utcnow().date()
    assert await refs(since=today, until=today) == [noise.ref, far.ref, pothole.ref]
    assert await refs(until=today - timedelta(days=1)) == [] and await refs(since=date(2099, 1, 1)) == []
    await assign(session, far, None, by=1, source=Source.WEB, notifier=notifier)
    # Both changes reach the notifier: the agents' card shows who handles the report.
    assert notifier.calls == [("assigned", far.ref), ("assigned", far.ref)]
    assert await refs(agent=AGENT) == []
    assert [e.detail for e in await entries(session) if e.action == "report.assign"] == [{"agent": AGENT}, {"agent": None}]


async def test_saved_replies_fit_their_category_and_status(session: AsyncSession) -> None:
    general = await add_saved_reply(
        session, title="Merci", text="Merci pour votre signalement.", category_code=None, status=None, by=1, source=Source.WEB
    )
    fixed = await add_saved_reply(
        session,
        title="Rebouché",
        text="C’est rebouché.",
        category_code="voirie-chaussee",
        status="fixed",
        by=1,
        source=Source.WEB,
    )
    await add_saved_reply(
        session, title="Patrouille", text="Une patrouille passe.", category_code="bruit", status=None, by=1, source=Source.WEB
    )
    assert [r.id for r in await saved_replies_for(session, "voirie-chaussee", "fixed")] == [general.id, fixed.id]
    assert [r.id for r in await saved_replies_for(session, "voirie-chaussee", "acknowledged")] == [general.id]
    assert {r.title for r in await saved_replies_for(session, "bruit", None)} == {"Merci", "Patrouille"}
    for title, text, status in (("", "x", None), ("t", "", None), ("t" * 101, "x", None), ("t", "x", "closed")):
        with pytest.raises(SavedReplyProblem):
            await add_saved_reply(session, title=title, text=text, category_code=None, status=status, by=1, source=Source.WEB)
