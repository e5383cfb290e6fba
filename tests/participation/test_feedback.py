"""Feedback on the channel: written by residents, listed by pseudonym, answered once."""

from __future__ import annotations

import pytest

from participation import feedback
from participation.audit import Source, entries
from participation.privacy import erase_resident, personal_data
from storage.db import SessionMaker
from tests.participation.test_broadcasts import add_resident


async def test_feedback_is_listed_by_pseudonym_and_answered_once(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        anne = await add_resident(session, 11, locale="en")
        first = await feedback.submit(session, anne, "  Les boutons sont trop petits  ")
        await feedback.submit(session, anne, "Merci pour la consultation")
        for bad, reason in (("   ", feedback.FeedbackRefusal.EMPTY), ("x" * 2001, feedback.FeedbackRefusal.TOO_LONG)):
            with pytest.raises(feedback.FeedbackRefused) as refused:
                await feedback.submit(session, anne, bad)
            assert refused.value.reason is reason
    async with sessionmaker.begin() as session:
        rows = await feedback.list_feedback(session)
        assert [row.text for row in rows] == ["Merci pour la consultation", "Les boutons sont trop petits"]
        assert {row.pseudonym for row in rows} == {anne.pseudonym}
        delivery = await feedback.answer(session, first.id, "Nous les agrandissons.", actor_telegram_id=900, source=Source.CHAT)
        assert (delivery.chat_id, delivery.locale) == (11, "en")
        with pytest.raises(feedback.FeedbackRefused) as again:
            await feedback.answer(session, first.id, "Encore", actor_telegram_id=901, source=Source.CHAT)
        assert again.value.reason is feedback.FeedbackRefusal.ALREADY_ANSWERED
        with pytest.raises(feedback.FeedbackRefused) as unknown:
            await feedback.answer(session, 999, "?", actor_telegram_id=900, source=Source.CHAT)
        assert unknown.value.reason is feedback.FeedbackRefusal.UNKNOWN
        assert [row.text for row in await feedback.list_feedback(session, unanswered_only=True)] == ["Merci pour la consultation"]
        assert [e.action for e in await entries(session)].count("feedback.answer") == 1


async def test_feedback_is_in_mydata_and_gone_after_forget(sessionmaker: SessionMaker) -> None:
    async with sessionmaker.begin() as session:
        anne = await add_resident(session, 12)
        await feedback.submit(session, anne, "Une idée")
        data = await personal_data(session, anne)
        assert [item["text"] for item in data["feedback"]] == ["Une idée"]
        await erase_resident(session, anne)
        assert await feedback.list_feedback(session) == []
