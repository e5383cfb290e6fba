"""Answers to native polls (`poll_answer` updates), counted with the conversational answers."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import PollAnswer
from sqlalchemy.ext.asyncio import AsyncSession

from participation.consultations import record_poll_answer
from storage.models import Resident

router = Router(name=__name__)


@router.poll_answer()
async def on_poll_answer(poll_answer: PollAnswer, session: AsyncSession, resident: Resident | None = None) -> None:
    """A resident voted in (or took back their vote from) a native poll: once per resident."""
    if poll_answer.user is None:  # a vote on behalf of a chat: not a resident of ours
        return
    await record_poll_answer(session, poll_answer.poll_id, resident, list(poll_answer.option_ids))
