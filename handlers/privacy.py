"""Privacy rights in the chat: /mydata sends everything kept, /forget erases the resident."""

from __future__ import annotations

import json

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from participation.privacy import erase_resident, personal_data
from storage.models import Resident

router = Router(name=__name__)


class ForgetCallback(CallbackData, prefix="forget"):
    confirm: bool


@router.message(Command("mydata", "mesdonnees"))
async def cmd_mydata(message: Message, session: AsyncSession, resident: Resident) -> None:
    """/mydata: a JSON file with everything Palabre keeps about the resident."""
    data = await personal_data(session, resident)
    document = BufferedInputFile(
        json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), filename="palabre-my-data.json"
    )
    await message.answer_document(
        document, caption=_("📄 Here is everything Palabre keeps about you. To erase it all: /forget")
    )


@router.message(Command("forget", "oublier"))
async def cmd_forget(message: Message) -> None:
    """/forget: ask for confirmation first."""
    await message.answer(
        _(
            "⚠️ <b>Erase my data</b>\n\n"
            "Your profile, your settings, your follow-ups and everything you typed will be deleted. "
            "Your answers to consultations will only remain as anonymous counts, and your reports "
            "without any link to you. You will receive no more messages.\n\nThis cannot be undone."
        ),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("🗑 Yes, erase everything"), callback_data=ForgetCallback(confirm=True).pack())],
                [InlineKeyboardButton(text=_("Cancel"), callback_data=ForgetCallback(confirm=False).pack())],
            ]
        ),
    )


@router.callback_query(ForgetCallback.filter(F.confirm))
async def on_forget_confirmed(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, resident: Resident
) -> None:
    """Erase, then say so: the last message Palabre sends them."""
    # Clear the conversation first: with the database storage clearing writes its row, which the
    # erasure then deletes; with Redis it removes the keys.
    await state.clear()
    await erase_resident(session, resident)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            _("✅ Your data has been erased. Goodbye! If you ever come back, type /start."),
            reply_markup=ReplyKeyboardRemove(),
        )


@router.callback_query(ForgetCallback.filter(~F.confirm))
async def on_forget_cancelled(query: CallbackQuery) -> None:
    """Changed their mind: nothing happens."""
    await query.answer(_("Nothing was erased."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
