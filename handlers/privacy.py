"""Privacy rights in the chat: /mydata sends everything kept, /forget erases the resident."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import privacy as say
from notices.privacy import ForgetCallback
from participation.languages import in_language
from participation.privacy import erase_resident, personal_data
from storage.models import Neighbourhood, Resident
from storage.types import utcnow

router = Router(name=__name__)


FORGET_PROMPT_KEY = "forget_prompt"
# An unanswered prompt must not stay live for ever: the buttons stop working after this.
FORGET_PROMPT_TTL = timedelta(minutes=10)


async def _prompt_is_live(state: FSMContext, nonce: str) -> bool:
    prompt = (await state.get_data()).get(FORGET_PROMPT_KEY)
    if not isinstance(prompt, dict) or not nonce or not secrets.compare_digest(str(prompt.get("nonce", "")), nonce):
        return False
    try:
        shown_at = datetime.fromisoformat(str(prompt.get("at")))
    except ValueError:
        return False
    return utcnow() - shown_at <= FORGET_PROMPT_TTL


@router.message(Command("mydata", "mesdonnees"))
async def cmd_mydata(message: Message, session: AsyncSession, resident: Resident, i18n: I18n) -> None:
    """/mydata: a JSON file with everything Palabre keeps about the resident, and a plain summary of it."""
    data = await personal_data(session, resident)
    document = BufferedInputFile(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), filename="palabre-my-data.json")
    hood = await session.get(Neighbourhood, resident.neighbourhood) if resident.neighbourhood else None
    caption = say.mydata_caption(
        len(data["consultation_responses"]),
        len(data["reports"]),
        in_language(hood.names, i18n.current_locale) if hood else None,
    )
    await message.answer_document(document, caption=caption)


@router.message(Command("forget", "oublier"))
async def cmd_forget(message: Message, state: FSMContext) -> None:
    """/forget: ask for confirmation first, with buttons valid for this prompt only."""
    nonce = secrets.token_urlsafe(9)
    await state.update_data({FORGET_PROMPT_KEY: {"nonce": nonce, "at": utcnow().isoformat()}})
    text, keyboard = say.forget_prompt(nonce)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(ForgetCallback.filter(F.confirm))
async def on_forget_confirmed(
    query: CallbackQuery,
    callback_data: ForgetCallback,
    state: FSMContext,
    session: AsyncSession,
    resident: Resident,
    settings: Settings,
    i18n: I18n,
) -> None:
    """Erase, then say so: the last message Palabre sends them."""
    if not await _prompt_is_live(state, callback_data.nonce):
        # A forged press, an old prompt, or one left unanswered too long: nothing is erased.
        await query.answer(say.forget_expired(), show_alert=True)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    with i18n.use_locale(settings.default_locale):
        template = say.agents_redaction_template()
    # Clear the conversation first: with the database storage clearing writes its row, which the
    # erasure then deletes; with Redis it removes the keys.
    await state.clear()
    await erase_resident(session, resident, agents_notice=lambda ref: template.format(ref=ref))
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(say.erased(), reply_markup=ReplyKeyboardRemove())


@router.callback_query(ForgetCallback.filter(~F.confirm))
async def on_forget_cancelled(query: CallbackQuery, state: FSMContext) -> None:
    """Changed their mind: nothing happens."""
    data = await state.get_data()
    if FORGET_PROMPT_KEY in data:
        await state.set_data({key: value for key, value in data.items() if key != FORGET_PROMPT_KEY})
    await query.answer(say.nothing_erased())
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
