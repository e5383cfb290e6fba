"""Retention: free texts go once their consultation has been closed long enough; counts stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from participation import audit, retention
from participation.consultations import ResponseStatus
from storage.db import SessionMaker
from storage.models import AuditEntry, ConsultationAnswer, ConsultationResponse
from storage.types import utcnow
from tests.consultation_helpers import add_consultation, add_resident


async def answered(session, consultation, resident, **values) -> None:  # type: ignore[no-untyped-def]
    response = ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, status=ResponseStatus.SUBMITTED)
    session.add(response)
    await session.flush()
    for question, value in values.items():
        other = value.pop("other") if isinstance(value, dict) else None
        session.add(
            ConsultationAnswer(
                response_id=response.id,
                question_id=question,
                value=value["v"] if isinstance(value, dict) else value,
                other_text=other,
            )
        )


async def answers(sessionmaker: SessionMaker, slug_id: int) -> list[tuple[str, object, str | None]]:
    async with sessionmaker() as session:
        rows = await session.execute(
            select(ConsultationAnswer.question_id, ConsultationAnswer.value, ConsultationAnswer.other_text)
            .join(ConsultationResponse, ConsultationResponse.id == ConsultationAnswer.response_id)
            .where(ConsultationResponse.consultation_id == slug_id)
            .order_by(ConsultationAnswer.question_id)
        )
        return [tuple(row) for row in rows.all()]


async def test_purge_removes_only_old_free_texts_and_keeps_choices(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        old = await add_consultation(session, slug="ancienne")
        old.closes_at = utcnow() - timedelta(days=400)
        recent = await add_consultation(session, slug="recente")
        recent.closes_at = utcnow() - timedelta(days=10)
        anne = await add_resident(session, 1)
        await answered(
            session,
            old,
            anne,
            pietonne="no",
            pourquoi="Trop de bruit rue Pasteur",
            frequence={"v": "hebdo", "other": "le samedi avec ma fille"},
        )
        await answered(session, recent, anne, pietonne="no", pourquoi="Les livraisons")

    async with sessionmaker.begin() as session:
        dry = await retention.purge(session, free_text_days=365, report_days=365, source=audit.Source.CLI, dry_run=True)
    assert dry.counts == {"free_text_answers": 1, "other_answers": 1, "report_reporters": 0, "report_followers": 0}
    assert ("pourquoi", "Trop de bruit rue Pasteur", None) in await answers(sessionmaker, old.id)  # nothing went

    async with sessionmaker.begin() as session:
        done = await retention.purge(session, free_text_days=365, report_days=365, source=audit.Source.SCHEDULER)
    assert done.counts == dry.counts
    assert await answers(sessionmaker, old.id) == [("frequence", "hebdo", None), ("pietonne", "no", None)]
    assert ("pourquoi", "Les livraisons", None) in await answers(sessionmaker, recent.id)

    async with sessionmaker.begin() as session:
        again = await retention.purge(session, free_text_days=365, report_days=365, source=audit.Source.SCHEDULER)
        audits = (await session.scalars(select(AuditEntry).where(AuditEntry.action == retention.PURGE_ACTION))).all()
    assert again.total == 0
    assert [(a.source, a.detail) for a in audits] == [
        ("scheduler", {"free_text_answers": 1, "other_answers": 1, "report_reporters": 0, "report_followers": 0}),
        ("scheduler", {"free_text_answers": 0, "other_answers": 0, "report_reporters": 0, "report_followers": 0}),
    ]


async def test_old_closed_reports_no_longer_point_to_anyone(sessionmaker: SessionMaker) -> None:
    from storage.models import Report, ReportCategory, ReportFollower, ReportStatusChange

    async with sessionmaker.begin() as session:
        reporter = await add_resident(session, 11)
        follower = await add_resident(session, 12)
        category = ReportCategory(
            code="voirie", group_name={"fr": "Voirie"}, name={"fr": "Chaussée"}, photo="optional", location="required"
        )
        session.add(category)
        await session.flush()
        reports = {}
        for ref, closed_days_ago in (("PAL-OLD", 400), ("PAL-NEW", 10)):
            report = Report(
                ref=ref,
                category_id=category.id,
                resident_id=reporter.id,
                status="fixed",
                description="Nid-de-poule",
                lat=45.77,
                lon=3.08,
                closed_at=utcnow() - timedelta(days=closed_days_ago),
            )
            session.add(report)
            await session.flush()
            session.add(ReportFollower(report_id=report.id, resident_id=follower.id))
            session.add(
                ReportStatusChange(
                    report_id=report.id, from_status="fixed", to_status="in_progress", source="chat", author_telegram_id=11
                )
            )
            session.add(
                ReportStatusChange(
                    report_id=report.id, from_status="new", to_status="fixed", source="chat", author_telegram_id=777
                )
            )
            reports[ref] = report.id

    async with sessionmaker.begin() as session:
        done = await retention.purge(session, free_text_days=365, report_days=365, source=audit.Source.CLI)
    assert (done.counts["report_reporters"], done.counts["report_followers"]) == (1, 1)
    async with sessionmaker() as session:
        old = await session.get(Report, reports["PAL-OLD"])
        new = await session.get(Report, reports["PAL-NEW"])
        old_authors = (
            await session.scalars(
                select(ReportStatusChange.author_telegram_id).where(ReportStatusChange.report_id == reports["PAL-OLD"])
            )
        ).all()
        followers = (await session.scalars(select(ReportFollower.report_id))).all()
    assert old.resident_id is None and old.description == "Nid-de-poule"  # the report stays, as open data
    assert new.resident_id == reporter.id
    assert sorted(old_authors, key=str) == [777, None]  # the agent's change stays attributed, the reporter's does not
    assert followers == [reports["PAL-NEW"]]
