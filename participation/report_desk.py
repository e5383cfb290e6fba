"""Staff work on reports: the filtered list, assignment to an agent and saved replies.

Status changes themselves stay in participation/reports.py (change_status), which the chat, the
command line, Open311 and the back office all call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from participation.reports import ReportNotifier, Status
from storage.models import Report, ReportAssignment, ReportCategory, SavedReply
from storage.types import utcnow

MAX_ROWS = 500
MAX_TITLE = 100


@dataclass(frozen=True)
class ReportFilter:
    status: str | None = None
    category: str | None = None  # the category's code
    neighbourhood: str | None = None
    since: date | None = None  # filed on or after this day (UTC)
    until: date | None = None  # filed on or before this day (UTC)
    agent: int | None = None  # the assigned agent's Telegram id


@dataclass(frozen=True)
class DeskRow:
    report: Report
    category: ReportCategory
    agent: int | None


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def list_reports(session: AsyncSession, wanted: ReportFilter, *, limit: int = MAX_ROWS) -> list[DeskRow]:
    """Reports matching every filter given, newest first, with their category and agent."""
    query = (
        select(Report, ReportCategory, col(ReportAssignment.agent_telegram_id))
        .join(ReportCategory, col(ReportCategory.id) == col(Report.category_id))
        .outerjoin(ReportAssignment, col(ReportAssignment.report_id) == col(Report.id))
    )
    if wanted.status:
        query = query.where(col(Report.status) == wanted.status)
    if wanted.category:
        query = query.where(col(ReportCategory.code) == wanted.category)
    if wanted.neighbourhood:
        query = query.where(col(Report.neighbourhood) == wanted.neighbourhood)
    if wanted.since:
        query = query.where(col(Report.created_at) >= _start(wanted.since))
    if wanted.until:
        query = query.where(col(Report.created_at) < _start(wanted.until + timedelta(days=1)))
    if wanted.agent is not None:
        query = query.where(col(ReportAssignment.agent_telegram_id) == wanted.agent)
    rows = await session.execute(query.order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(limit))
    return [DeskRow(report, category, agent) for report, category, agent in rows.all()]


async def assigned_agent(session: AsyncSession, report: Report) -> int | None:
    found = await assignment_of(session, report)
    return found.agent_telegram_id if found else None


async def assignment_of(session: AsyncSession, report: Report) -> ReportAssignment | None:
    return await session.get(ReportAssignment, report.id)


async def assign(
    session: AsyncSession,
    report: Report,
    agent_telegram_id: int | None,
    *,
    by: int | None,
    source: audit.Source,
    notifier: ReportNotifier,
    agent_name: str | None = None,
) -> None:
    """Give the report to an agent (None: to nobody); audited, and the agents' card shows it.

    `agent_name` is how Telegram names the agent, when they took it themselves from the chat.
    """
    found = await session.get(ReportAssignment, report.id)
    if agent_telegram_id is None:
        if found is not None:
            await session.delete(found)
    elif found is None:
        assert report.id is not None
        session.add(
            ReportAssignment(report_id=report.id, agent_telegram_id=agent_telegram_id, agent_name=agent_name, assigned_by=by)
        )
    else:
        if found.agent_telegram_id != agent_telegram_id or agent_name is not None:
            found.agent_name = agent_name
        found.agent_telegram_id, found.assigned_by, found.assigned_at = agent_telegram_id, by, utcnow()
        session.add(found)
    await session.flush()
    await audit.record(
        session,
        actor_telegram_id=by,
        source=source,
        action="report.assign",
        subject=report.ref,
        detail={"agent": agent_telegram_id},
    )
    await notifier.assigned(session, report)


async def saved_replies_for(session: AsyncSession, category_code: str | None, status: str | None) -> list[SavedReply]:
    """Templates that fit the category and the status (a template without one fits any; status None: any)."""
    query = select(SavedReply)
    query = query.where(or_(col(SavedReply.category_code).is_(None), col(SavedReply.category_code) == category_code))
    if status is not None:
        query = query.where(or_(col(SavedReply.status).is_(None), col(SavedReply.status) == status))
    return list(await session.scalars(query.order_by(col(SavedReply.title), col(SavedReply.id))))


class SavedReplyProblem(ValueError):
    """A template refused (empty, too long, unknown status); nothing stored."""


async def add_saved_reply(
    session: AsyncSession,
    *,
    title: str,
    text: str,
    category_code: str | None,
    status: str | None,
    by: int | None,
    source: audit.Source,
) -> SavedReply:
    title, text = " ".join(title.split()), text.strip()
    if not title or len(title) > MAX_TITLE or not text or len(text) > 1000:
        raise SavedReplyProblem("title or text")
    if status and status not in {s.value for s in Status}:
        raise SavedReplyProblem("status")
    reply = SavedReply(title=title, text=text, category_code=category_code or None, status=status or None)
    session.add(reply)
    await session.flush()
    await audit.record(session, actor_telegram_id=by, source=source, action="saved_reply.add", subject=str(reply.id))
    return reply
