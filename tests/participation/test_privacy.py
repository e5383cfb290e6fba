"""/mydata lists subscriptions, meeting answers and the profile; /forget drops them, keeps the counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from participation.privacy import erase_resident, personal_data
from participation.residents import set_age_bracket
from storage.db import SessionMaker
from storage.models import Meeting, MeetingAnswer, Resident, Subscription, Topic
from storage.types import utcnow
from tests.consultation_helpers import add_resident


async def test_subscriptions_and_meeting_answers_in_mydata_and_after_forget(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        resident = await add_resident(session, 6001)
        session.add(Topic(code="urbanisme", names={"fr": "Urbanisme"}, position=0))
        meeting = Meeting(
            title="Réunion du quartier Nord", starts_at=utcnow() + timedelta(days=3), place="Salle des fêtes", audience_kind="all"
        )
        session.add(meeting)
        await session.flush()
        session.add(Subscription(resident_id=resident.id, topic_code="urbanisme"))
        session.add(MeetingAnswer(meeting_id=meeting.id, resident_id=resident.id, will_come=True))
    async with sessionmaker.begin() as session:
        data = await personal_data(session, resident)
        assert data["subscribed_topics"] == ["urbanisme"]
        assert [(m["meeting"], m["will_come"]) for m in data["meeting_answers"]] == [("Réunion du quartier Nord", True)]
        await erase_resident(session, resident)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Subscription)) == 0
        coming = await session.scalar(select(func.count()).select_from(MeetingAnswer).where(MeetingAnswer.will_come))
    assert coming == 1  # the official's count of who comes does not change


async def test_the_age_bracket_is_in_mydata_and_gone_after_forget(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        resident = await add_resident(session, 6002)
        assert await set_age_bracket(session, resident, "45-59")
    async with sessionmaker.begin() as session:
        data = await personal_data(session, resident)
        assert data["resident"]["age_bracket"] == "45-59"
        await erase_resident(session, resident)
    async with sessionmaker() as session:
        row = await session.get(Resident, resident.id)
    assert row is not None and row.age_bracket is None and row.telegram_id is None


async def test_an_unknown_age_bracket_is_refused_and_the_profile_kept(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        resident = await add_resident(session, 6003)
        assert await set_age_bracket(session, resident, "30-44")
        assert not await set_age_bracket(session, resident, "12-14")
        assert resident.age_bracket == "30-44"
        assert await set_age_bracket(session, resident, None)  # "rather not say"
        assert resident.age_bracket is None
