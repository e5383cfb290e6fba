"""Helpers shared by the report tests: sample categories and a notifier that remembers calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from participation.categories import import_categories, parse_categories
from storage.models import Report, ReportCategory, ReportStatusChange, Resident

CATEGORIES_YAML = """
categories:
  - code: voirie-chaussee
    group: {fr: Voirie, en: Roads}
    name: {fr: Nid-de-poule, en: Pothole}
    photo: optional
    location: required
  - code: proprete-depot
    group: {fr: Propreté, en: Cleanliness}
    name: {fr: Dépôt sauvage, en: Fly-tipping}
    photo: required
    location: required
  - code: bruit
    group: {fr: Tranquillité, en: Peace and quiet}
    name: {fr: Bruit, en: Noise}
    photo: optional
    location: optional
"""


async def load_categories(session: AsyncSession) -> dict[str, ReportCategory]:
    await import_categories(session, parse_categories(CATEGORIES_YAML))
    from participation.categories import active_categories

    return {c.code: c for c in await active_categories(session)}


@dataclass
class RecordingNotifier:
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def report_created(self, session: AsyncSession, report: Report, category: ReportCategory) -> None:
        self.calls.append(("created", report.ref))

    async def status_changed(
        self,
        session: AsyncSession,
        report: Report,
        change: ReportStatusChange,
        recipients: list[Resident],
        ask_if_fixed: Resident | None,
    ) -> None:
        self.calls.append(
            (
                "status",
                (
                    report.ref,
                    change.to_status,
                    change.note,
                    [r.telegram_id for r in recipients],
                    ask_if_fixed.telegram_id if ask_if_fixed else None,
                ),
            )
        )

    async def reopened_by_reporter(self, session: AsyncSession, report: Report) -> None:
        self.calls.append(("reopened", report.ref))

    async def assigned(self, session: AsyncSession, report: Report) -> None:
        self.calls.append(("assigned", report.ref))
