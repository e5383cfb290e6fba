"""Answers to native polls (`poll_answer` updates), counted with the conversational answers."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.types import PollAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from participation.consultations import PollOutcome, record_poll_answer
from participation.outbox import commit_so_far
from storage.models import Resident

router = Router(name=__name__)

UNKNOWN_POLL_TRIES = 10
UNKNOWN_POLL_WAIT_SECONDS = 0.5


@router.poll_answer()
async def on_poll_answer(poll_answer: PollAnswer, session: AsyncSession, resident: Resident | None = None) -> None:
    """A resident voted in (or took back their vote from) a native poll: once per resident."""
    if poll_answer.user is None:  # a vote on behalf of a chat: not a resident of ours
        return
    for _ in range(UNKNOWN_POLL_TRIES):
        outcome = await record_poll_answer(session, poll_answer.poll_id, resident, list(poll_answer.option_ids))
        if outcome != PollOutcome.UNKNOWN_POLL:
            return
        # A vote faster than the sender's record of the poll id: wait for it rather than lose it,
        # outside any transaction (the record is a write, which on SQLite would wait for ours).
        await commit_so_far(session)
        await asyncio.sleep(UNKNOWN_POLL_WAIT_SECONDS)
