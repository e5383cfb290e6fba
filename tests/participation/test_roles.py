"""Roles: admins from the settings, others granted once and audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from participation.audit import Source
from participation.roles import Role, UnknownRole, allows, grant_role, parse_grantable_role, roles_of
from storage.models import AuditEntry


async def test_admin_comes_from_settings_and_grants_are_stored(session: AsyncSession) -> None:
    assert await roles_of(session, 7, admin_ids=[7]) == {Role.ADMIN}
    assert await roles_of(session, 8, admin_ids=[7]) == frozenset()
    assert await grant_role(session, 8, Role.OFFICIAL, granted_by=7, source=Source.CHAT) is True
    assert await grant_role(session, 8, Role.OFFICIAL, granted_by=7, source=Source.CHAT) is False
    await session.commit()
    assert await roles_of(session, 8, admin_ids=[7]) == {Role.OFFICIAL}
    audit = (await session.scalars(select(AuditEntry))).all()
    assert [(a.actor_telegram_id, a.action, a.subject, a.detail) for a in audit] == [(7, "role.grant", "8", {"role": "official"})]


def test_only_agent_and_official_can_be_granted() -> None:
    assert parse_grantable_role(" Agent ") is Role.AGENT
    for name in ("admin", "mayor", ""):
        with pytest.raises(UnknownRole):
            parse_grantable_role(name)


def test_admin_is_allowed_everything_others_their_role() -> None:
    assert allows(frozenset({Role.ADMIN}), Role.AGENT)
    assert allows(frozenset({Role.AGENT}), Role.AGENT)
    assert not allows(frozenset({Role.AGENT}), Role.OFFICIAL)
