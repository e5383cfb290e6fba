"""Roles: admins come from ADMIN_IDS; agents and officials are granted and stored."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from participation import audit
from storage.models import Resident, RoleGrant
from storage.upsert import affected_rows, insert_ignore


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    OFFICIAL = "official"


GRANTABLE_ROLES = (Role.AGENT, Role.OFFICIAL)


class UnknownRole(ValueError):
    """The role named is not one that can be granted."""


def parse_grantable_role(name: str) -> Role:
    try:
        role = Role(name.strip().lower())
    except ValueError as exc:
        raise UnknownRole(name) from exc
    if role not in GRANTABLE_ROLES:
        raise UnknownRole(name)
    return role


async def roles_of(session: AsyncSession, telegram_id: int, admin_ids: Iterable[int]) -> frozenset[Role]:
    granted = await session.scalars(select(col(RoleGrant.role)).where(col(RoleGrant.telegram_id) == telegram_id))
    roles = {Role(name) for name in granted}
    if telegram_id in set(admin_ids):
        roles.add(Role.ADMIN)
    return frozenset(roles)


def allows(roles: frozenset[Role], needed: Role) -> bool:
    """Admins may do everything; otherwise the exact role is needed."""
    return Role.ADMIN in roles or needed in roles


async def grant_role(
    session: AsyncSession,
    telegram_id: int,
    role: Role,
    *,
    granted_by: int | None,
    source: audit.Source,
) -> bool:
    """Grant `role`; False when the user already had it. Audited either way it changes."""
    inserted = await insert_ignore(
        session,
        RoleGrant,
        RoleGrant(telegram_id=telegram_id, role=role.value, granted_by=granted_by).model_dump(exclude={"id"}),
        ["telegram_id", "role"],
    )
    if inserted:
        await audit.record(
            session,
            actor_telegram_id=granted_by,
            source=source,
            action="role.grant",
            subject=str(telegram_id),
            detail={"role": role.value},
        )
    return inserted


async def list_grants(session: AsyncSession) -> list[RoleGrant]:
    """Every role given (admins from ADMIN_IDS are not stored), by user then role."""
    return list(await session.scalars(select(RoleGrant).order_by(col(RoleGrant.telegram_id), col(RoleGrant.role))))


async def staff(session: AsyncSession, admin_ids: Iterable[int]) -> dict[int, frozenset[Role]]:
    """Every staff member (admins from ADMIN_IDS included) with their roles."""
    found: dict[int, set[Role]] = {admin_id: {Role.ADMIN} for admin_id in admin_ids}
    for grant in await list_grants(session):
        found.setdefault(grant.telegram_id, set()).add(Role(grant.role))
    return {telegram_id: frozenset(roles) for telegram_id, roles in found.items()}


async def staff_in_reach(session: AsyncSession, admin_ids: Iterable[int]) -> dict[int, frozenset[Role]]:
    """The staff members who have opened the bot's chat: Telegram refuses a menu for anyone else."""
    team = await staff(session, admin_ids)
    if not team:
        return team
    opened = set(await session.scalars(select(col(Resident.telegram_id)).where(col(Resident.telegram_id).in_(list(team)))))
    return {telegram_id: roles for telegram_id, roles in team.items() if telegram_id in opened}


async def revoke_role(
    session: AsyncSession,
    telegram_id: int,
    role: Role,
    *,
    revoked_by: int | None,
    source: audit.Source,
) -> bool:
    """Take `role` back; False when the user did not have it. Their web sessions end at the next page."""
    removed = await session.execute(
        delete(RoleGrant).where(col(RoleGrant.telegram_id) == telegram_id, col(RoleGrant.role) == role.value)
    )
    if affected_rows(removed):
        await audit.record(
            session,
            actor_telegram_id=revoked_by,
            source=source,
            action="role.revoke",
            subject=str(telegram_id),
            detail={"role": role.value},
        )
    return bool(affected_rows(removed))
