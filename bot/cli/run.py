"""`palabre run` and the database's upkeep: db upgrade|backup|restore, demo."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.cli.common import fail, in_session, settings_or_exit


@click.command()
@click.option(
    "--role",
    type=click.Choice(["all", "web", "worker"]),
    default="all",
    show_default=True,
    help="all: everything; web: webhook and HTTP only; worker: scheduler and outbox sender only.",
)
def run(role: str) -> None:
    """Run the bot (long polling, or webhook when WEBHOOK_URL is set), after applying migrations."""
    settings = settings_or_exit()
    if settings.bot_token is None:
        fail(
            "BOT_TOKEN is not set: put BOT_TOKEN=<your token> in the .env file (or the environment); "
            "you get a token from @BotFather in Telegram.",
            2,
        )
    from aiogram.utils.token import TokenValidationError, validate_token

    from bot.app import ProcessRole, run_bot

    if settings.data_key is None:
        fail(
            "DATA_KEY is not set: run `palabre keys init` once (it writes a new key to .env), "
            "or set the key this database was encrypted with.",
            2,
        )
    if role == "web" and settings.webhook_url is None:
        fail("--role web serves the webhook: set WEBHOOK_URL and WEBHOOK_SECRET.", 2)
    try:
        validate_token(settings.bot_token.get_secret_value())
    except TokenValidationError:
        fail("BOT_TOKEN is not a valid token: copy it again from @BotFather (it looks like 123456:ABC-…).", 2)
    # Everything imported so far (aiogram's models, SQLAlchemy, the handlers) lives as long as the
    # process: keep it out of the garbage collector's full passes, which walked all of it and
    # stopped the outbox sender for up to 0.5 s each on a busy machine (measured: 5 % of the rate).
    gc.freeze()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_bot(settings, ProcessRole(role)))


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""

    async def work(_session: AsyncSession) -> None:
        return None

    in_session(settings_or_exit(), work)
    click.echo("Database is up to date.")


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def db_backup(file: str) -> None:
    """Copy the SQLite database to FILE, safely while the bot runs (PostgreSQL: use pg_dump)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    settings = settings_or_exit()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        fail("palabre db backup is for SQLite; back up PostgreSQL with pg_dump (see the README).", 2)
    source_path = Path(url.database or "")
    if not source_path.is_file():
        fail(f"There is no database at {source_path}: check DATABASE_URL.", 2)
    target = Path(file)
    if target.exists():
        fail(f"{target} already exists: choose a new file name.", 2)
    if not target.parent.is_dir():
        fail(f"The folder {target.parent} does not exist: create it first, or choose another one.", 2)
    # SQLite's online backup copies a consistent snapshot page by page, even while the bot writes.
    with sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
        # The copy remembers when it was taken: `db restore` holds what was waiting at that moment.
        taken_at = datetime.now(UTC)
        # A database not migrated yet has no app_state: `db restore` then holds everything waiting.
        with contextlib.suppress(sqlite3.OperationalError):
            copy.execute(
                "INSERT INTO app_state (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (BACKUP_TAKEN_AT, taken_at.isoformat(), taken_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
            )
    click.echo(f"Database copied to {target}.")


BACKUP_TAKEN_AT = "backup_taken_at"


@db.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--resend", is_flag=True, help="Send again what was waiting in the backup (it may have gone out since).")
def db_restore(file: str, resend: bool) -> None:
    """Replace the SQLite database with the backup FILE (stop the bot first); PostgreSQL: see docs/securite.md."""
    import sqlite3

    from sqlalchemy import select
    from sqlalchemy.engine import make_url

    from participation import outbox
    from storage.models import AppState

    settings = settings_or_exit()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        fail("palabre db restore is for SQLite; restore PostgreSQL with pg_restore (see docs/securite.md).", 2)
    backup, target = Path(file), Path(url.database or "")
    try:
        with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as check:
            check.execute("SELECT count(*) FROM outbox_message").fetchone()
    except sqlite3.DatabaseError:
        fail(f"{backup} is not a Palabre backup (a SQLite database made by `palabre db backup`).", 2)
    if backup.resolve() == target.resolve():
        fail(f"{backup} is the database itself: give the backup file.", 2)
    if target.exists():
        kept = target.with_name(f"{target.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        with sqlite3.connect(target) as current, sqlite3.connect(kept) as copy:
            current.backup(copy)
        click.echo(f"The database being replaced is kept as {kept}.")
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as source, sqlite3.connect(target) as restored:
        source.backup(restored)

    async def work(session: AsyncSession) -> tuple[datetime | None, int]:
        mark = await session.scalar(select(col(AppState.value)).where(col(AppState.key) == BACKUP_TAKEN_AT))
        taken_at = datetime.fromisoformat(mark) if mark else None
        count = await outbox.after_restore(session, taken_at=taken_at, resend=resend)
        await session.execute(delete(AppState).where(col(AppState.key) == BACKUP_TAKEN_AT))
        return taken_at, count

    taken_at, count = in_session(settings, work)
    when = taken_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M") if taken_at else "at an unknown time"
    click.echo(f"Database restored from {backup} (taken {when}).")
    messages = "1 message" if count == 1 else f"{count} messages"
    if resend:
        click.echo(f"{messages} waiting in the backup will be sent again.")
    else:
        click.echo(
            f"{messages} waiting in the backup {'is' if count == 1 else 'are'} held, not sent: "
            "they may have gone out after it was taken (restore again with --resend to send them)."
        )


@click.command()
def demo() -> None:
    """Import sample data (a consultation in French and English…) for a first look."""
    from participation.demo import DEMO_STEPS

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[str]:
        return [await step(session, settings.default_locale, settings.tz) for step in DEMO_STEPS]

    for line in in_session(settings, work):
        click.echo(line)
