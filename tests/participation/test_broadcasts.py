"""Broadcast audiences, confirmation, and chunked, resumable queueing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from participation import broadcasts, subscriptions
from participation.audit import Source
from participation.broadcasts import Audience, AudienceKind
from participation.privacy import NOTICE_VERSION
from storage.db import SessionMaker
from storage.models import AuditEntry, Broadcast, OutboxMessage, Resident
from storage.types import utcnow

TOPICS = "topics:\n  - {code: urbanisme, name: Urbanisme}\n  - {code: culture, name: Culture}\n"
NEIGHBOURHOODS = "neighbourhoods:\n  - {code: centre, name: Centre}\n  - {code: nord, name: Nord}\n"


async def add_resident(session, telegram_id: int, **fields) -> Resident:  # type: ignore[no-untyped-def]
    values = {"locale": "fr", "consent_at": utcnow(), "consent_version": NOTICE_VERSION, **fields}
    resident = Resident(telegram_id=telegram_id, **values)
    session.add(resident)
    await session.flush()
    return resident


async def recipients(sessionmaker: SessionMaker, audience: Audience) -> list[int]:
    async with sessionmaker() as session:
        query = await broadcasts.audience_query(session, audience)
        return sorted(row.telegram_id for row in await session.execute(query))


async def test_audiences_reach_only_consenting_reachable_residents_who_want_news(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await subscriptions.import_topics(session, TOPICS)
        await subscriptions.import_neighbourhoods(session, NEIGHBOURHOODS)
        anne = await add_resident(session, 1, neighbourhood="centre")
        await add_resident(session, 2, neighbourhood="nord")
        await add_resident(session, 3, neighbourhood="centre", notifications_enabled=False)
        await add_resident(session, 4, neighbourhood="centre", unreachable_at=utcnow())
        await add_resident(session, 5, consent_at=None, consent_version=None)  # never consented
        await add_resident(session, 6, consent_version="old-notice")  # must accept the new notice first
        quiet = await add_resident(session, 7, notifications_enabled=False)
        await subscriptions.toggle_topic(session, anne, "culture")
        await subscriptions.toggle_topic(session, quiet, "culture")
    assert await recipients(sessionmaker, Audience(AudienceKind.ALL)) == [1, 2]
    assert await recipients(sessionmaker, Audience.parse("neighbourhood:centre")) == [1]
    assert await recipients(sessionmaker, Audience.parse("topic:culture")) == [1]
    assert await recipients(sessionmaker, Audience.parse("topic:urbanisme")) == []
    async with sessionmaker() as session:
        with pytest.raises(broadcasts.UnknownAudience):
            await broadcasts.count_audience(session, Audience.parse("topic:nope"))
        with pytest.raises(broadcasts.UnknownAudience):
            await broadcasts.count_audience(session, Audience.parse("consultation:place-du-marche"))
    for text in ("everyone", "topic:", "all:x", "neighbourhood:Centre Ville", "age:", "age:75 plus"):
        with pytest.raises(broadcasts.UnknownAudience):
            Audience.parse(text)


async def test_a_broadcast_to_an_age_bracket_reaches_exactly_its_consenting_residents(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await add_resident(session, 1, age_bracket="60-74")
        await add_resident(session, 2, age_bracket="60-74", neighbourhood="centre")
        await add_resident(session, 3, age_bracket="45-59")
        await add_resident(session, 4)  # did not say
        await add_resident(session, 5, age_bracket="60-74", notifications_enabled=False)
        await add_resident(session, 6, age_bracket="60-74", unreachable_at=utcnow())
        await add_resident(session, 7, age_bracket="60-74", consent_version="old-notice")
        await add_resident(session, 8, age_bracket="60-74", consent_at=None, consent_version=None)
    assert await recipients(sessionmaker, Audience.parse("age:60-74")) == [1, 2]
    assert await recipients(sessionmaker, Audience.parse("age:75-plus")) == []
    async with sessionmaker.begin() as session:
        with pytest.raises(broadcasts.UnknownAudience):
            await broadcasts.count_audience(session, Audience.parse("age:12-14"))
        draft = await broadcasts.create_draft(session, audience=Audience.parse("age:60-74"), text="Thé dansant", created_by=None)
        await broadcasts.confirm(session, draft.id, actor_telegram_id=None, source=Source.CLI)  # type: ignore[arg-type]
    async with sessionmaker.begin() as session:
        chunk = await broadcasts.next_chunk(session)
    assert chunk is not None and [r.telegram_id for r in chunk[1]] == [1, 2]


async def test_a_draft_is_confirmed_once_and_only_by_its_author(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        await add_resident(session, 1)
        draft = await broadcasts.create_draft(session, audience=Audience(AudienceKind.ALL), text="Bonjour", created_by=900)
    assert draft.recipient_count == 1 and draft.status == "draft"
    async with sessionmaker.begin() as session:
        assert await broadcasts.confirm(session, draft.id, actor_telegram_id=901, source=Source.CHAT) is None
        assert await broadcasts.confirm(session, draft.id, actor_telegram_id=900, source=Source.CHAT) is not None
        assert await broadcasts.confirm(session, draft.id, actor_telegram_id=900, source=Source.CHAT) is None
        assert await broadcasts.cancel(session, draft.id, actor_telegram_id=900) is False
    async with sessionmaker() as session:
        audits = (await session.scalars(select(AuditEntry.action))).all()
    assert audits == ["broadcast.confirm"]
    with pytest.raises(broadcasts.InvalidMessage):
        broadcasts.check_text("x" * (broadcasts.MAX_TEXT + 1), with_photo=False)
    with pytest.raises(broadcasts.InvalidMessage):
        broadcasts.check_text("   ", with_photo=False)


async def test_queueing_in_chunks_resumes_after_a_crash_without_duplicates(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        for n in range(10):
            await add_resident(session, 100 + n)
        draft = await broadcasts.create_draft(session, audience=Audience(AudienceKind.ALL), text="Travaux", created_by=None)
        await broadcasts.confirm(session, draft.id, actor_telegram_id=None, source=Source.CLI)

    async def queue_one_chunk(commit: bool) -> int:
        session = sessionmaker()
        try:
            found = await broadcasts.next_chunk(session, limit=4)
            assert found is not None
            broadcast, chunk = found
            from participation import outbox

            await outbox.enqueue_many(
                session,
                [
                    {
                        "chat_id": r.telegram_id,
                        "method": "sendMessage",
                        "payload": {"text": "Travaux"},
                        "dedupe_key": broadcasts.dedupe_key(broadcast.id, r.resident_id),
                        "broadcast_id": broadcast.id,
                    }
                    for r in chunk
                ],
            )
            await broadcasts.chunk_done(session, broadcast, chunk, limit=4)
            if commit:
                await session.commit()
            return len(chunk)
        finally:
            await session.close()  # without commit: the process died mid-chunk

    assert await queue_one_chunk(commit=True) == 4
    assert await queue_one_chunk(commit=False) == 4  # crash: this chunk is lost with its cursor
    assert await queue_one_chunk(commit=True) == 4  # resumed from the last committed cursor
    assert await queue_one_chunk(commit=True) == 2
    async with sessionmaker() as session:
        assert await broadcasts.next_chunk(session, limit=4) is None
        chats = (await session.scalars(select(OutboxMessage.chat_id).order_by(OutboxMessage.chat_id))).all()
        figures = await broadcasts.figures(session, draft.id)
        status = await session.scalar(select(Broadcast.status))
    assert chats == list(range(100, 110))
    assert status == "queued"
    assert figures is not None and (figures.recipients, figures.pending, figures.sent) == (10, 10, 0)


async def test_figures_count_recipients_not_queued_yet_as_pending(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        for n in range(3):
            await add_resident(session, 200 + n)
        draft = await broadcasts.create_draft(session, audience=Audience(AudienceKind.ALL), text="Info", created_by=None)
        await broadcasts.confirm(session, draft.id, actor_telegram_id=None, source=Source.CLI)
    async with sessionmaker() as session:
        figures = await broadcasts.figures(session, draft.id)
        assert await broadcasts.figures(session, 999) is None
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert figures is not None and (figures.status, figures.pending, figures.sent) == ("confirmed", 3, 0)


async def test_the_participants_of_a_consultation_are_those_who_submitted(sessionmaker: SessionMaker) -> None:
    from participation.consultations import ResponseStatus
    from storage.models import ConsultationResponse
    from tests.consultation_helpers import add_consultation

    async with sessionmaker.begin() as session:
        consultation = await add_consultation(session)
        finished = await add_resident(session, 1)
        unfinished = await add_resident(session, 2)
        await add_resident(session, 3)  # did not take part
        for resident, status in ((finished, ResponseStatus.SUBMITTED), (unfinished, ResponseStatus.IN_PROGRESS)):
            session.add(ConsultationResponse(consultation_id=consultation.id, resident_id=resident.id, status=status))
    audience = Audience.parse(f"consultation:{consultation.slug}")
    assert await recipients(sessionmaker, audience) == [1]
