"""Retention: what people typed is kept only as long as the commune decided, then purged.

- Free-text answers (text questions and "other" answers) go once their consultation has been
  closed for FREE_TEXT_RETENTION_DAYS; the choices stay, they are only counts.
- Reports lose what ties them to people (reporter, followers, contact details) once closed for
  REPORT_RETENTION_DAYS; the report itself stays as open data.
- Messages that went out leave the outbox after OUTBOX_RETENTION_DAYS (their texts quote
  reports and answers); the agents' posts keep only what editing them needs.
- Back-office sessions that ended and sign-in links used or expired go after
  WEB_SESSION_RETENTION_DAYS: who signed in when stays in the audit log.

A purge is idempotent: running it twice purges nothing more. The scheduler runs it daily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit, outbox, web_access
from participation.consultations.questions import read_questions
from storage.models import (
    AuditEntry,
    Consultation,
    ConsultationAnswer,
    ConsultationResponse,
    Report,
    ReportFollower,
    ReportStatusChange,
    Resident,
)
from storage.types import utcnow

PURGE_ACTION = "privacy.purge"


@dataclass
class PurgeReport:
    """How many of each kind of personal data went (or would go, in a dry run)."""

    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def _text_question_ids(session: AsyncSession, closed_before: datetime) -> list[tuple[int, list[str]]]:
    rows = await session.execute(
        select(col(Consultation.id), col(Consultation.questions)).where(col(Consultation.closes_at) < closed_before)
    )
    return [(cid, [q.id for q in read_questions(questions) if q.typed]) for cid, questions in rows.all()]


async def purge_free_texts(session: AsyncSession, closed_before: datetime, *, dry_run: bool) -> dict[str, int]:
    counts = {"free_text_answers": 0, "other_answers": 0}
    for consultation_id, text_ids in await _text_question_ids(session, closed_before):
        responses = select(col(ConsultationResponse.id)).where(col(ConsultationResponse.consultation_id) == consultation_id)
        if text_ids:
            texts = col(ConsultationAnswer.response_id).in_(responses) & col(ConsultationAnswer.question_id).in_(text_ids)
            counts["free_text_answers"] += int(
                await session.scalar(select(func.count()).select_from(ConsultationAnswer).where(texts)) or 0
            )
            if not dry_run:
                await session.execute(delete(ConsultationAnswer).where(texts))
        others = col(ConsultationAnswer.response_id).in_(responses) & col(ConsultationAnswer.other_text).is_not(None)
        counts["other_answers"] += int(
            await session.scalar(select(func.count()).select_from(ConsultationAnswer).where(others)) or 0
        )
        if not dry_run:
            await session.execute(update(ConsultationAnswer).where(others).values(other_text=None))
    return counts


async def purge_report_details(session: AsyncSession, closed_before: datetime, *, dry_run: bool) -> dict[str, int]:
    """Closed long enough: the report stays as open data, but no longer points to anyone."""
    old = (
        await session.execute(
            select(col(Report.id), col(Resident.telegram_id))
            .outerjoin(Resident, col(Resident.id) == col(Report.resident_id))
            .where(col(Report.closed_at).is_not(None), col(Report.closed_at) < closed_before)
        )
    ).all()
    report_ids = [report_id for report_id, _ in old]
    reporters = [(report_id, telegram_id) for report_id, telegram_id in old if telegram_id is not None]
    followers = col(ReportFollower.report_id).in_(report_ids)
    counts = {
        "report_reporters": len(reporters),
        "report_followers": int(await session.scalar(select(func.count()).select_from(ReportFollower).where(followers)) or 0),
    }
    if dry_run or not report_ids:
        return counts
    for report_id, telegram_id in reporters:
        # The reporter's own "not fixed" answer is in the history under their Telegram id.
        await session.execute(
            update(ReportStatusChange)
            .where(col(ReportStatusChange.report_id) == report_id, col(ReportStatusChange.author_telegram_id) == telegram_id)
            .values(author_telegram_id=None)
        )
    await session.execute(update(Report).where(col(Report.id).in_(report_ids)).values(resident_id=None))
    await session.execute(delete(ReportFollower).where(followers))
    return counts


async def purge(
    session: AsyncSession,
    *,
    free_text_days: int,
    report_days: int,
    source: audit.Source,
    outbox_days: int | None = None,
    web_session_days: int | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PurgeReport:
    """Purge what is past its retention period; with `dry_run`, only count it."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    counts.update(await purge_free_texts(session, now - timedelta(days=free_text_days), dry_run=dry_run))
    counts.update(await purge_report_details(session, now - timedelta(days=report_days), dry_run=dry_run))
    if outbox_days is not None:
        counts["outbox_messages"] = await outbox.purge_done(session, now - timedelta(days=outbox_days), dry_run=dry_run)
    if web_session_days is not None:
        counts.update(await web_access.purge_ended(session, now - timedelta(days=web_session_days), dry_run=dry_run))
    report = PurgeReport(counts=counts, dry_run=dry_run)
    if not dry_run:
        await audit.record(session, actor_telegram_id=None, source=source, action=PURGE_ACTION, detail=dict(counts))
    return report


async def last_purge_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(select(func.max(col(AuditEntry.at))).where(col(AuditEntry.action) == PURGE_ACTION))
