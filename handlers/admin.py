"""Admin commands in the chat: giving and taking back roles. Guarded by RequireRole(ADMIN)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings
from notices import roles as notices
from notices.roles import RoleAction
from participation.audit import Source
from participation.roles import UnknownRole, grant_role, list_grants, parse_grantable_role, revoke_role

router = Router(name=__name__)

MAX_USER_ID = 10**15  # Telegram ids fit in 52 bits; anything longer is a typo or a forgery


def _user_id(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < int(text) < MAX_USER_ID else None


@router.message(Command("grant"))
async def cmd_grant(message: Message, command: CommandObject, session: AsyncSession, settings: Settings, i18n: I18n) -> None:
    """/grant USER_ID [ROLE]: give someone the agent or official role (chosen from buttons when not typed)."""
    parts = (command.args or "").split()
    user_id = _user_id(parts[0]) if parts else None
    if user_id is None or len(parts) > 2:
        await message.answer(notices.grant_usage())
        return
    if len(parts) == 1:
        screen = notices.grant_choice(user_id)
        await message.answer(screen.text, reply_markup=screen.reply_markup)
        return
    try:
        role = parse_grantable_role(parts[1])
    except UnknownRole:
        await message.answer(notices.unknown_role())
        return
    assert message.from_user is not None
    if not await grant_role(session, user_id, role, granted_by=message.from_user.id, source=Source.CHAT):
        await message.answer(notices.already_granted(user_id, role))
        return
    reached = await notices.after_role_change(session, user_id, settings.admin_ids, i18n, granted_role=role)
    await message.answer(notices.granted(user_id, role, reached))


@router.callback_query(RoleAction.filter(F.a == "g"))
async def on_grant(
    query: CallbackQuery, callback_data: RoleAction, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """A role chosen for the id typed after /grant."""
    try:
        role = parse_grantable_role(callback_data.r)
    except UnknownRole:
        await query.answer(notices.stale_button())
        return
    if _user_id(str(callback_data.u)) is None:
        await query.answer(notices.stale_button())
        return
    if not await grant_role(session, callback_data.u, role, granted_by=query.from_user.id, source=Source.CHAT):
        text = notices.already_granted(callback_data.u, role)
    else:
        reached = await notices.after_role_change(session, callback_data.u, settings.admin_ids, i18n, granted_role=role)
        text = notices.granted(callback_data.u, role, reached)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(text)


@router.message(Command("roles"))
async def cmd_roles(message: Message, session: AsyncSession, settings: Settings) -> None:
    """/roles: who has which role, with a button to take each one back."""
    screen = notices.roles_screen(await list_grants(session), settings.admin_ids)
    await message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(RoleAction.filter(F.a == "r"))
async def on_revoke_asked(query: CallbackQuery, callback_data: RoleAction) -> None:
    """« Take back » tapped: ask for confirmation first."""
    try:
        role = parse_grantable_role(callback_data.r)
    except UnknownRole:
        await query.answer(notices.stale_button())
        return
    await query.answer()
    if isinstance(query.message, Message):
        screen = notices.revoke_question(callback_data.u, role)
        await query.message.answer(screen.text, reply_markup=screen.reply_markup)


@router.callback_query(RoleAction.filter(F.a == "y"))
async def on_revoke(
    query: CallbackQuery, callback_data: RoleAction, session: AsyncSession, settings: Settings, i18n: I18n
) -> None:
    """Revocation confirmed: audited, and the person's menu loses the role's commands."""
    # Admins come from ADMIN_IDS and cannot be revoked here, so the last admin always stays.
    try:
        role = parse_grantable_role(callback_data.r)
    except UnknownRole:
        await query.answer(notices.stale_button())
        return
    if await revoke_role(session, callback_data.u, role, revoked_by=query.from_user.id, source=Source.CHAT):
        await notices.after_role_change(session, callback_data.u, settings.admin_ids, i18n)
        text = notices.revoked(callback_data.u, role)
    else:
        text = notices.not_had(callback_data.u, role)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(text)


@router.callback_query(RoleAction.filter(F.a == "n"))
async def on_cancel(query: CallbackQuery) -> None:
    """Cancel on a roles screen."""
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(notices.nothing_changed())


@router.callback_query(RoleAction.filter())
async def on_unknown(query: CallbackQuery) -> None:
    """A forged action."""
    await query.answer(notices.stale_button())
