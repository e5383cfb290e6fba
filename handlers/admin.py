"""Admin commands in the chat: granting roles. Guarded by RequireRole(ADMIN)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from participation.audit import Source
from participation.roles import UnknownRole, grant_role, parse_grantable_role

router = Router(name=__name__)


@router.message(Command("grant"))
async def cmd_grant(message: Message, command: CommandObject, session: AsyncSession) -> None:
    """/grant USER_ID ROLE: give someone the agent or official role."""
    parts = (command.args or "").split()
    if len(parts) != 2 or not parts[0].lstrip("-").isdigit() or len(parts[0]) > 20:
        await message.answer(_("Usage: /grant USER_ID ROLE, where ROLE is agent or official."))
        return
    try:
        role = parse_grantable_role(parts[1])
    except UnknownRole:
        await message.answer(_("Unknown role. Choose agent or official."))
        return
    user_id = int(parts[0])
    assert message.from_user is not None
    granted = await grant_role(session, user_id, role, granted_by=message.from_user.id, source=Source.CHAT)
    if granted:
        await message.answer(_("✅ {user_id} now has the role {role}.").format(user_id=user_id, role=role.value))
    else:
        await message.answer(_("{user_id} already has the role {role}.").format(user_id=user_id, role=role.value))
