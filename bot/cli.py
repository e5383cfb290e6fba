"""The `palabre` command line. Errors are one clear sentence and a non-zero exit."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
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
        click.echo(
            "BOT_TOKEN is not set: put BOT_TOKEN=<your token> in the .env file (or the environment); "
            "you get a token from @BotFather in Telegram.",
            err=True,
        )
        sys.exit(2)
    from aiogram.utils.token import TokenValidationError, validate_token

    from bot.app import ProcessRole, run_bot

    if role == "web" and settings.webhook_url is None:
        click.echo("--role web serves the webhook: set WEBHOOK_URL and WEBHOOK_SECRET.", err=True)
        sys.exit(2)
    try:
        validate_token(settings.bot_token.get_secret_value())
    except TokenValidationError:
        click.echo("BOT_TOKEN is not a valid token: copy it again from @BotFather (it looks like 123456:ABC-…).", err=True)
        sys.exit(2)
    try:
        asyncio.run(run_bot(settings, ProcessRole(role)))
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


@db.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
def db_backup(file: str) -> None:
    """Copy the SQLite database to FILE, safely while the bot runs (PostgreSQL: use pg_dump)."""
    import sqlite3

    from sqlalchemy.engine import make_url

    settings = settings_or_exit()
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        click.echo("palabre db backup is for SQLite; back up PostgreSQL with pg_dump (see the README).", err=True)
        sys.exit(2)
    source_path = Path(url.database or "")
    if not source_path.is_file():
        click.echo(f"There is no database at {source_path}: check DATABASE_URL.", err=True)
        sys.exit(2)
    target = Path(file)
    if target.exists():
        click.echo(f"{target} already exists: choose a new file name.", err=True)
        sys.exit(2)
    # SQLite's online backup copies a consistent snapshot page by page, even while the bot writes.
    with sqlite3.connect(f"file:{source_path}?mode=ro", uri=True) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    click.echo(f"Database copied to {target}.")


@main.command()
@click.option("--since", help="Only actions from this date or time on (e.g. 2026-11-01 or 2026-11-01T08:00).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def audit(since: str | None, limit: int) -> None:
    """List what admins, officials and agents did: when, who, what."""
    from datetime import datetime

    from participation.audit import entries

    settings = settings_or_exit()
    since_at = None
    if since:
        try:
            since_at = datetime.fromisoformat(since)
        except ValueError:
            click.echo(f"--since {since!r} is not a date: write it like 2026-11-01 or 2026-11-01T08:00.", err=True)
            sys.exit(2)
        if since_at.tzinfo is None:
            since_at = since_at.replace(tzinfo=settings.tz)

    async def work(session: AsyncSession) -> list[Any]:
        return await entries(session, since=since_at, limit=limit)

    for entry in with_session(work):
        who = "operator (command line)" if entry.actor_telegram_id is None else f"user {entry.actor_telegram_id}"
        when = entry.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
        click.echo(f"{when}  {who:<24} {entry.source:<5} {entry.action:<24} {entry.subject or '-'}  {detail}".rstrip())


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


@main.group()
def categories() -> None:
    """Categories of problem reports."""


@categories.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def categories_import(file: Path) -> None:
    """Import (create or update by code) the report categories of a YAML FILE."""
    from participation.categories import CategoryFileError, import_categories, parse_categories

    try:
        specs = parse_categories(file.read_text(encoding="utf-8"))
    except (CategoryFileError, UnicodeDecodeError) as exc:
        problems = exc.problems if isinstance(exc, CategoryFileError) else ["not a UTF-8 text file"]
        for problem in problems:
            click.echo(f"{file}: {problem}", err=True)
        click.echo("Nothing was imported.", err=True)
        sys.exit(1)

    async def work(session: AsyncSession) -> Any:
        return await import_categories(session, specs)

    result = with_session(work)
    click.echo(f"Imported {len(specs)} categories ({result.created} new, {result.updated} updated).")


@main.group()
def report() -> None:
    """One problem report."""


@report.command("status")
@click.argument("ref")
@click.argument("status")
@click.option("--note", default=None, help="A public note, sent to the reporter and the followers.")
def report_status(ref: str, status: str, note: str | None) -> None:
    """Set the STATUS of report REF (new, acknowledged, in_progress, action_scheduled, fixed, duplicate,
    not_responsible, no_further_action); the reporter and followers are told."""
    from bot.i18n import build_i18n
    from handlers.report_ui import ReportNotices
    from participation import reports

    settings = settings_or_exit()
    try:
        target = reports.parse_status(status)
    except reports.ReportError:
        click.echo(f"Unknown status {status!r}: choose one of {', '.join(s.value for s in reports.Status)}.", err=True)
        sys.exit(2)
    notifier = ReportNotices(build_i18n(settings.default_locale), settings)

    async def work(session: AsyncSession) -> str:
        found = await reports.report_by_ref(session, ref)
        if found is None:
            return f"No report has the reference {ref}."
        try:
            await reports.change_status(
                session, found, target, author_telegram_id=None, note=note, source=Source.CLI, notifier=notifier
            )
        except reports.ReportError as exc:
            if exc.problem == reports.Problem.NOTE_TOO_LONG:
                return f"The note is too long: at most {reports.MAX_NOTE} characters."
            allowed = ", ".join(s.value for s in reports.allowed_next(found.status))
            return f"Report {found.ref} is {found.status}: it cannot become {target.value} (possible: {allowed})."
        return ""

    problem = with_session(work)
    if problem:
        click.echo(problem, err=True)
        sys.exit(1)
    click.echo(f"Report {ref.upper()} is now {target.value}.")


@main.group()
def reports() -> None:
    """All problem reports."""


@reports.command("export")
@click.option("--format", "fmt", type=click.Choice(["geojson", "csv"]), default="geojson", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write (default: standard output).")
def reports_export(fmt: str, output: Path | None) -> None:
    """Export every report as open data (no personal data)."""
    from participation.report_export import export_rows, to_csv, to_geojson

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await export_rows(session, settings.default_locale)

    rows = with_session(work)
    data = to_geojson(rows).encode("utf-8") if fmt == "geojson" else to_csv(rows)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        click.echo(f"Could not write {output}: {exc.strerror}.", err=True)
        sys.exit(1)
    click.echo(f"{len(rows)} reports written to {output}.", err=True)


if __name__ == "__main__":
    main()
