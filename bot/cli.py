"""The `palabre` command line. Errors are one clear sentence and a non-zero exit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.settings import Settings, load_settings
from participation.audit import Source
from participation.roles import UnknownRole, grant_role, parse_grantable_role
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "?"
            message = str(error["msg"]).removeprefix("Value error, ")
            click.echo(f"Invalid setting {name}: {message}.", err=True)
        sys.exit(2)


def with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in one transaction on a migrated database, for one-shot commands."""

    async def main() -> T:
        settings = settings_or_exit()
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Palabre: a participation channel for your commune, as a Telegram bot."""


@main.command()
def run() -> None:
    """Run the bot (long polling), after applying database migrations."""
    settings = settings_or_exit()
    if settings.bot_token is None:
        click.echo(
            "BOT_TOKEN is not set: put BOT_TOKEN=<your token> in the .env file (or the environment); "
            "you get a token from @BotFather in Telegram.",
            err=True,
        )
        sys.exit(2)
    from aiogram.utils.token import TokenValidationError, validate_token

    from bot.app import run_bot

    try:
        validate_token(settings.bot_token.get_secret_value())
    except TokenValidationError:
        click.echo("BOT_TOKEN is not a valid token: copy it again from @BotFather (it looks like 123456:ABC-…).", err=True)
        sys.exit(2)
    try:
        asyncio.run(run_bot(settings))
    except KeyboardInterrupt:
        pass


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""

    async def work(_session: AsyncSession) -> None:
        return None

    with_session(work)
    click.echo("Database is up to date.")


@main.group()
def role() -> None:
    """Roles of officials and agents."""


@role.command("grant")
@click.argument("user_id", type=int)
@click.argument("role_name", metavar="ROLE")
def role_grant(user_id: int, role_name: str) -> None:
    """Give USER_ID (a Telegram user id) the ROLE agent or official."""
    try:
        role_value = parse_grantable_role(role_name)
    except UnknownRole:
        click.echo(f"Unknown role {role_name!r}: choose agent or official (admins are set with ADMIN_IDS).", err=True)
        sys.exit(2)

    async def work(session: AsyncSession) -> Any:
        return await grant_role(session, user_id, role_value, granted_by=None, source=Source.CLI)

    if with_session(work):
        click.echo(f"{user_id} now has the role {role_value.value}.")
    else:
        click.echo(f"{user_id} already had the role {role_value.value}.")


if __name__ == "__main__":
    main()
