"""Roles of officials and agents: role grant|list|revoke."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail, in_session, settings_or_exit
from participation.audit import Source
from participation.roles import Role, UnknownRole, grant_role, list_grants, parse_grantable_role, revoke_role
from storage.models import RoleGrant


@click.group()
def role() -> None:
    """Roles of officials and agents."""


def grantable_or_exit(role_name: str) -> Role:
    """The role an operator may give or take back; one sentence and exit 2 for anything else."""
    try:
        return parse_grantable_role(role_name)
    except UnknownRole:
        fail(f"Unknown role {role_name!r}: choose agent or official (admins are set with ADMIN_IDS).", 2)


async def _after_role_change(session: AsyncSession, user_id: int, granted: Role | None) -> None:
    """Queue the person's new command menu (and, for a grant, the commands they now have)."""
    # aiogram costs seconds and 130 MB to import: only the role commands that tell someone pay for it.
    from bot.i18n import build_i18n
    from notices.roles import after_role_change

    settings = settings_or_exit()
    i18n = build_i18n(settings.default_locale)
    with i18n.context():
        await after_role_change(session, user_id, settings.admin_ids, i18n, granted_role=granted)


@role.command("grant")
@click.argument("user_id", type=int)
@click.argument("role_name", metavar="ROLE")
def role_grant(user_id: int, role_name: str) -> None:
    """Give USER_ID (a Telegram user id) the ROLE agent or official."""
    role_value = grantable_or_exit(role_name)

    async def work(session: AsyncSession) -> bool:
        done = await grant_role(session, user_id, role_value, granted_by=None, source=Source.CLI)
        if done:  # the news and the menu go out through the outbox once this commits
            await _after_role_change(session, user_id, role_value)
        return done

    if in_session(settings_or_exit(), work):
        click.echo(f"{user_id} now has the role {role_value.value}.")
    else:
        click.echo(f"{user_id} already had the role {role_value.value}.")


@role.command("list")
def role_list() -> None:
    """Who has which role (admins come from ADMIN_IDS and are listed apart)."""

    async def work(session: AsyncSession) -> list[RoleGrant]:
        return await list_grants(session)

    settings = settings_or_exit()
    grants = in_session(settings, work)
    for admin_id in settings.admin_ids:
        click.echo(f"{admin_id}\tadmin\t(ADMIN_IDS)")
    for grant in grants:
        click.echo(f"{grant.telegram_id}\t{grant.role}\t{grant.granted_at:%Y-%m-%d}")
    if not grants and not settings.admin_ids:
        click.echo("No roles given yet.")


@role.command("revoke")
@click.argument("user_id", type=int)
@click.argument("role_name", metavar="ROLE")
def role_revoke(user_id: int, role_name: str) -> None:
    """Take the ROLE agent or official back from USER_ID (audited)."""
    role_value = grantable_or_exit(role_name)

    async def work(session: AsyncSession) -> bool:
        done = await revoke_role(session, user_id, role_value, revoked_by=None, source=Source.CLI)
        if done:
            await _after_role_change(session, user_id, None)
        return done

    if in_session(settings_or_exit(), work):
        click.echo(f"{user_id} no longer has the role {role_value.value}.")
    else:
        click.echo(f"{user_id} did not have the role {role_value.value}.")
