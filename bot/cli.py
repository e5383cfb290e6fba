"""The `palabre` command line. Errors are one clear sentence and a non-zero exit."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
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



# --- Notifications: topics, neighbourhoods, broadcasts ---------------------------------------


def _import_file(path: str, kind: str) -> None:
    from participation import subscriptions

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"Cannot read {path}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8 text'}.", err=True)
        sys.exit(2)
    importer = subscriptions.import_topics if kind == "topics" else subscriptions.import_neighbourhoods
    try:
        result = with_session(lambda session: importer(session, text))
    except subscriptions.FileInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{path}: {problem}", err=True)
        click.echo(f"Nothing was imported ({len(exc.problems)} problem(s)).", err=True)
        sys.exit(1)
    click.echo(f"{kind.capitalize()} imported: {result.created} new, {result.updated} updated.")


@main.group()
def topics() -> None:
    """The commune's topics, that residents can follow."""


@topics.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def topics_import(file: str) -> None:
    """Create or update the topics listed in FILE (YAML)."""
    _import_file(file, "topics")


@main.group()
def neighbourhoods() -> None:
    """The commune's neighbourhoods (quartiers)."""


@neighbourhoods.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def neighbourhoods_import(file: str) -> None:
    """Create or update the neighbourhoods listed in FILE (YAML)."""
    _import_file(file, "neighbourhoods")


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for photos


@main.group(invoke_without_command=True)
@click.option("--audience", help="all, topic:CODE, neighbourhood:CODE or consultation:SLUG")
@click.option("--text", "text", help="The message (the text under the photo when --photo is given).")
@click.option("--photo", type=click.Path(dir_okay=False), help="A photo to send (JPEG, PNG or WebP).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def broadcast(ctx: click.Context, audience: str | None, text: str | None, photo: str | None, yes: bool) -> None:
    """Send a message to residents: shows how many will receive it, then asks to confirm."""
    if ctx.invoked_subcommand is not None:
        return
    from participation import broadcasts

    if audience is None or (text is None and photo is None):
        click.echo("Give --audience and --text (or --photo); see palabre broadcast --help.", err=True)
        sys.exit(2)
    try:
        parsed = broadcasts.Audience.parse(audience)
    except broadcasts.UnknownAudience:
        click.echo(f"Unknown audience {audience!r}: use all, topic:CODE, neighbourhood:CODE or consultation:SLUG.", err=True)
        sys.exit(2)
    photo_path = None
    if photo is not None:
        path = os.path.abspath(photo)
        if not os.path.isfile(path) or not path.lower().endswith(PHOTO_SUFFIXES):
            click.echo(f"{photo} is not a photo file (JPEG, PNG or WebP).", err=True)
            sys.exit(2)
        if os.path.getsize(path) > MAX_PHOTO_BYTES:
            click.echo(f"{photo} is larger than 10 MB, Telegram's limit for photos.", err=True)
            sys.exit(2)
        photo_path = path
    try:
        body = broadcasts.check_text(text or "", with_photo=photo_path is not None)
    except broadcasts.InvalidMessage:
        limit = broadcasts.MAX_CAPTION if photo_path else broadcasts.MAX_TEXT
        click.echo(f"The text must be 1 to {limit} characters long.", err=True)
        sys.exit(2)

    async def count(session: AsyncSession) -> int:
        return await broadcasts.count_audience(session, parsed)

    try:
        recipients = with_session(count)
    except broadcasts.UnknownAudience:
        click.echo(f"There is no {parsed.kind.value} {parsed.value!r}.", err=True)
        sys.exit(1)
    click.echo(f"This message will be sent to {recipients} residents.")
    if not yes and not click.confirm("Send it?", default=False):
        click.echo("Cancelled: nothing was sent.")
        return

    async def send(session: AsyncSession) -> Any:
        draft = await broadcasts.create_draft(session, audience=parsed, text=body, photo_path=photo_path, created_by=None)
        return await broadcasts.confirm(session, draft.id, actor_telegram_id=None, source=Source.CLI)  # type: ignore[arg-type]

    confirmed = with_session(send)
    click.echo(f"Broadcast {confirmed.id} confirmed for {confirmed.recipient_count} residents; the running bot sends it.")
    click.echo(f"Follow it with: palabre broadcast status {confirmed.id}")


@broadcast.command("status")
@click.argument("broadcast_id", type=int)
def broadcast_status(broadcast_id: int) -> None:
    """Delivery figures of broadcast BROADCAST_ID: sent, pending, failed, unreachable."""
    from participation import broadcasts

    figures = with_session(lambda session: broadcasts.figures(session, broadcast_id))
    if figures is None:
        click.echo(f"There is no broadcast {broadcast_id}.", err=True)
        sys.exit(1)
    click.echo(
        f"Broadcast {broadcast_id} ({figures.status.value}, {figures.recipients} recipients): "
        f"sent {figures.sent}, pending {figures.pending}, failed {figures.failed}, unreachable {figures.unreachable}"
    )


if __name__ == "__main__":
    main()
