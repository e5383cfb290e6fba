"""`palabre demo`: sample data so that a new official sees something at once.

Each feature adds its own step to `DEMO_STEPS`; a step imports its sample and returns one line
saying what it did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from participation import audit
from participation.categories import demo_categories
from participation.consultation_file import parse_consultation_file
from participation.consultations import ConsultationLocked, get_by_slug, import_consultation
from storage.types import utcnow

DemoStep = Callable[[AsyncSession, str, tzinfo], Awaitable[str]]

DEMO_CONSULTATION = """
slug: demo-place-du-marche
title: {fr: "Réaménagement de la place du marché", en: "Redesign of the market square"}
description:
  fr: "La commune réfléchit à l’avenir de la place du marché. Donnez votre avis en deux minutes."
  en: "The town is thinking about the future of the market square. Give your opinion in two minutes."
topic: urbanisme
questions:
  - id: frequence
    type: single
    prompt: {fr: "À quelle fréquence venez-vous au marché ?", en: "How often do you come to the market?"}
    choices:
      - {id: hebdo, label: {fr: "Chaque semaine", en: "Every week"}}
      - {id: mois, label: {fr: "Chaque mois", en: "Every month"}}
      - {id: jamais, label: {fr: "Jamais", en: "Never"}}
    required: true
  - id: pourquoi
    type: text
    max_length: 500
    prompt: {fr: "Qu’est-ce qui vous en empêche ?", en: "What keeps you from coming?"}
    when: {question: frequence, in: [jamais]}
  - id: priorites
    type: multiple
    max: 2
    prompt: {fr: "Vos deux priorités pour la place ?", en: "Your two priorities for the square?"}
    choices:
      - {id: arbres, label: {fr: "Plus d’arbres et d’ombre", en: "More trees and shade"}}
      - {id: bancs, label: {fr: "Des bancs", en: "Benches"}}
      - {id: velos, label: {fr: "Des arceaux à vélos", en: "Bike racks"}}
      - {id: jeux, label: {fr: "Des jeux pour enfants", en: "A playground"}}
    other: true
  - id: satisfaction
    type: scale
    min: 1
    max: 5
    prompt: {fr: "Êtes-vous satisfait de la place aujourd’hui ?", en: "Are you satisfied with the square today?"}
    labels: {min: {fr: "Pas du tout", en: "Not at all"}, max: {fr: "Tout à fait", en: "Completely"}}
  - id: pietonne
    type: yesno
    prompt: {fr: "La place doit-elle devenir piétonne le samedi ?", en: "Should the square be pedestrian on Saturdays?"}
"""


async def demo_consultation(session: AsyncSession, default_locale: str, tz: tzinfo) -> str:
    """Import the sample consultation, open from now for 30 days (kept if already answered)."""
    now = utcnow()
    text = DEMO_CONSULTATION + f"opens_at: {now.isoformat()}\ncloses_at: {(now + timedelta(days=30)).isoformat()}\n"
    spec = parse_consultation_file(text, default_locale, tz)
    try:
        await import_consultation(session, spec, actor_telegram_id=None, source=audit.Source.CLI)
    except ConsultationLocked:
        existing = await get_by_slug(session, spec.slug)
        assert existing is not None
        return f"Sample consultation {spec.slug} already has answers: kept as it is."
    return f"Sample consultation {spec.slug} imported, open for 30 days (deep link: start=c_{spec.slug})."


DEMO_STEPS: list[DemoStep] = [demo_consultation, demo_categories]
