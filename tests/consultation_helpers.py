"""Helpers shared by the consultation tests: the sample file, consultations and residents in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from participation import audit
from participation.consultation_file import ConsultationSpec, parse_consultation_file
from participation.consultations import import_consultation
from participation.privacy import NOTICE_VERSION
from storage.models import Consultation, Resident
from storage.types import utcnow

DATA = Path(__file__).resolve().parent / "data"
PARIS = ZoneInfo("Europe/Paris")


def sample_spec(**changes: object) -> ConsultationSpec:
    spec = parse_consultation_file((DATA / "consultation_marche.yaml").read_text(encoding="utf-8"), "fr", PARIS)
    for name, value in changes.items():
        setattr(spec, name, value)
    return spec


async def add_consultation(session: AsyncSession, **changes: object) -> Consultation:
    consultation, _ = await import_consultation(session, sample_spec(**changes), actor_telegram_id=None, source=audit.Source.CLI)
    await session.flush()
    return consultation


async def add_resident(
    session: AsyncSession, telegram_id: int, *, neighbourhood: str | None = None, locale: str = "fr"
) -> Resident:
    resident = Resident(
        telegram_id=telegram_id, locale=locale, consent_at=utcnow(), consent_version=NOTICE_VERSION, neighbourhood=neighbourhood
    )
    session.add(resident)
    await session.flush()
    return resident


def hours(n: float) -> datetime:
    return utcnow() + timedelta(hours=n)
