"""The `palabre` command line. Errors are one clear sentence and a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from config.settings import Settings, load_settings
from participation.audit import Source
from participation.audit import record as audit_record
from participation.roles import Role, UnknownRole, grant_role, list_grants, parse_grantable_role, revoke_role
from storage import crypto
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade

T = TypeVar("T")


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as exc:
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
            if error["loc"]:
                click.echo(f"Invalid setting {str(error['loc'][0]).upper()}: {message}.", err=True)
            else:  # a rule across several settings: its message names them
                click.echo(f"Invalid settings: {message}.", err=True)
        sys.exit(2)
    # Commands that never touch personal fields work without the key; the others say it is missing.
    crypto.install_keys(settings.data_key.get_secret_value() if settings.data_key else None)
    return settings


def key_problem(exc: BaseException) -> crypto.DataKeyError | None:
    """The key error behind `exc`, which SQLAlchemy wraps when a column type raised it."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, crypto.DataKeyError):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


class PalabreGroup(click.Group):
    """Everyday mistakes are one sentence: a missing or wrong DATA_KEY exits 2, the others (bot/errors.py) 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            problem = key_problem(exc)
            if problem is not None:
                click.echo(f"{problem}.", err=True)
                sys.exit(2)
            from bot.errors import everyday_error

            try:
                database_url = load_settings().database_url
            except Exception:  # noqa: BLE001 - the settings' own errors were told already
                database_url = ""
            message = everyday_error(exc, database_url)
            if message is None:
                raise
            click.echo(message, err=True)
            sys.exit(1)


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


def write_output(data: bytes, output: Path | None) -> bool:
    """Write an export to `output`, or to standard output when None; True when a file was written.

    A file that cannot be written is one sentence and a non-zero exit, not a traceback.
    """
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return False
    try:
        output.write_bytes(data)
    except OSError as exc:
        click.echo(f"Could not write {output}: {exc.strerror}.", err=True)
        sys.exit(1)
    return True


@click.group(cls=PalabreGroup, context_settings={"help_option_names": ["-h", "--help"]})
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

    if settings.data_key is None:
        click.echo(
            "DATA_KEY is not set: run `palabre keys init` once (it writes a new key to .env), "
            "or set the key this database was encrypted with.",
            err=True,
        )
        sys.exit(2)
    if role == "web" and settings.webhook_url is None:
        click.echo("--role web serves the webhook: set WEBHOOK_URL and WEBHOOK_SECRET.", err=True)
        sys.exit(2)
    try:
        validate_token(settings.bot_token.get_secret_value())
    except TokenValidationError:
        click.echo("BOT_TOKEN is not a valid token: copy it again from @BotFather (it looks like 123456:ABC-…).", err=True)
        sys.exit(2)
    # Everything imported so far (aiogram's models, SQLAlchemy, the handlers) lives as long as the
    # process: keep it out of the garbage collector's full passes, which walked all of it and
    # stopped the outbox sender for up to 0.5 s each on a busy machine (measured: 5 % of the rate).
    gc.freeze()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_bot(settings, ProcessRole(role)))


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
    if not target.parent.is_dir():
        click.echo(f"The folder {target.parent} does not exist: create it first, or choose another one.", err=True)
        sys.exit(2)
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
        click.echo("palabre db restore is for SQLite; restore PostgreSQL with pg_restore (see docs/securite.md).", err=True)
        sys.exit(2)
    backup, target = Path(file), Path(url.database or "")
    try:
        with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as check:
            check.execute("SELECT count(*) FROM outbox_message").fetchone()
    except sqlite3.DatabaseError:
        click.echo(f"{backup} is not a Palabre backup (a SQLite database made by `palabre db backup`).", err=True)
        sys.exit(2)
    if backup.resolve() == target.resolve():
        click.echo(f"{backup} is the database itself: give the backup file.", err=True)
        sys.exit(2)
    if target.exists():
        kept = target.with_name(f"{target.name}.before-restore-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
        with sqlite3.connect(target) as current, sqlite3.connect(kept) as copy:
            current.backup(copy)
        click.echo(f"The database being replaced is kept as {kept}.")
    with sqlite3.connect(f"file:{backup}?mode=ro", uri=True) as source, sqlite3.connect(target) as restored:
        source.backup(restored)

    async def work(session: AsyncSession) -> tuple[datetime | None, int]:
        mark = await session.scalar(select(AppState.value).where(AppState.key == BACKUP_TAKEN_AT))
        taken_at = datetime.fromisoformat(mark) if mark else None
        count = await outbox.after_restore(session, taken_at=taken_at, resend=resend)
        await session.execute(delete(AppState).where(AppState.key == BACKUP_TAKEN_AT))
        return taken_at, count

    taken_at, count = with_session(work)
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
def privacy() -> None:
    """Personal data: retention purges."""


PURGE_LABELS = {
    "free_text_answers": "free-text answers",
    "other_answers": '"other" answers',
    "report_reporters": "links from reports to their reporters",
    "report_followers": "followers of reports",
    "outbox_messages": "messages that went out (texts of the agents' posts)",
    "web_sessions": "ended back-office sessions",
    "web_sign_in_links": "used or expired back-office sign-in links",
}


@privacy.command("purge")
@click.option("--dry-run", is_flag=True, help="Only show what would be purged.")
def privacy_purge(dry_run: bool) -> None:
    """Purge what is past its retention period (FREE_TEXT_, REPORT_, OUTBOX_, WEB_SESSION_RETENTION_DAYS)."""
    from participation import retention

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await retention.purge(
            session,
            free_text_days=settings.free_text_retention_days,
            report_days=settings.report_retention_days,
            outbox_days=settings.outbox_retention_days,
            web_session_days=settings.web_session_retention_days,
            source=Source.CLI,
            dry_run=dry_run,
        )

    report = with_session(work)
    verb = "Would purge" if dry_run else "Purged"
    for kind, count in sorted(report.counts.items()):
        click.echo(f"{verb} {count} {PURGE_LABELS.get(kind, kind)}.")


@main.group()
def role() -> None:
    """Roles of officials and agents."""


def grantable_or_exit(role_name: str) -> Role:
    """The role an operator may give or take back; one sentence and exit 2 for anything else."""
    try:
        return parse_grantable_role(role_name)
    except UnknownRole:
        click.echo(f"Unknown role {role_name!r}: choose agent or official (admins are set with ADMIN_IDS).", err=True)
        sys.exit(2)


@role.command("grant")
@click.argument("user_id", type=int)
@click.argument("role_name", metavar="ROLE")
def role_grant(user_id: int, role_name: str) -> None:
    """Give USER_ID (a Telegram user id) the ROLE agent or official."""
    role_value = grantable_or_exit(role_name)

    async def work(session: AsyncSession) -> Any:
        return await grant_role(session, user_id, role_value, granted_by=None, source=Source.CLI)

    if with_session(work):
        click.echo(f"{user_id} now has the role {role_value.value}.")
    else:
        click.echo(f"{user_id} already had the role {role_value.value}.")


@role.command("list")
def role_list() -> None:
    """Who has which role (admins come from ADMIN_IDS and are listed apart)."""

    async def work(session: AsyncSession) -> Any:
        return await list_grants(session)

    grants = with_session(work)
    settings = load_settings()
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

    async def work(session: AsyncSession) -> Any:
        return await revoke_role(session, user_id, role_value, revoked_by=None, source=Source.CLI)

    if with_session(work):
        click.echo(f"{user_id} no longer has the role {role_value.value}.")
    else:
        click.echo(f"{user_id} did not have the role {role_value.value}.")


# --- Consultations (issue 3) --------------------------------------------------------------------


@main.group()
def consultation() -> None:
    """Consultations: import from a YAML file, list."""


@consultation.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def consultation_import(file: Path) -> None:
    """Validate the consultation FILE (YAML) and import it; nothing is imported if it has a problem."""
    from participation.consultation_file import InvalidConsultation, parse_consultation_file
    from participation.consultations import ConsultationLocked, import_consultation

    settings = settings_or_exit()
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        click.echo(f"{file}: not a UTF-8 text file.", err=True)
        sys.exit(1)
    try:
        spec = parse_consultation_file(text, settings.default_locale, settings.tz)
    except InvalidConsultation as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s): nothing was imported.", err=True)
        sys.exit(1)

    async def work(session: AsyncSession) -> Any:
        return await import_consultation(session, spec, actor_telegram_id=None, source=Source.CLI)

    try:
        _consultation, outcome = with_session(work)
    except ConsultationLocked as exc:
        click.echo(
            f"Consultation {spec.slug} already has {exc.responses} response(s): it cannot be replaced any more "
            "(import it under a new slug instead).",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Consultation {spec.slug} {outcome.value} ({len(spec.questions)} questions).")


@consultation.command("list")
def consultation_list() -> None:
    """Show every consultation: slug, title, dates, status and participation."""
    from participation.consultations import list_consultations, localized

    settings = settings_or_exit()
    rows = with_session(list_consultations)
    if not rows:
        click.echo("No consultation yet: import one with `palabre consultation import FILE` (or try `palabre demo`).")
        return
    click.echo(f"{'slug':<30} {'status':<10} {'opens':<17} {'closes':<17} {'started':>7} {'finished':>8}  title")
    for row in rows:
        c = row.consultation
        opens = c.opens_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        closes = c.closes_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        title = localized(c.title, settings.default_locale, settings.default_locale)
        click.echo(f"{c.slug:<30} {row.status.value:<10} {opens:<17} {closes:<17} {row.started:>7} {row.submitted:>8}  {title}")


def _weighting_text(weighting: Any) -> list[str]:
    lines = [
        f"Weighted to the population ({weighting.source}): {weighting.weighted} participants with a complete profile, "
        f"{weighting.unweighted} left out of the weighted figures; effective size {weighting.n_effective:g}, "
        f"design effect {weighting.design_effect if weighting.design_effect is not None else '-'}, "
        f"margin of error ±{weighting.margin_of_error if weighting.margin_of_error is not None else '-'} points (95 %).",
    ]
    for group in weighting.empty_groups:
        lines.append(f"Warning: no participant in {group.dimension} {group.code}; weighting cannot represent them.")
    for group in weighting.small_groups:
        people = "participant" if group.participants == 1 else "participants"
        lines.append(
            f"Warning: only {group.participants} {people} in {group.dimension} {group.code}; their weighted figures are fragile."
        )
    return lines


def _results_text(results: Any) -> str:
    lines = [
        f"{results.title} ({results.slug}) — {results.status}",
        f"Participation: {results.started} started, {results.finished} finished.",
    ]
    if results.by_neighbourhood:
        parts = [f"{code or 'unknown'}: {s} started, {f} finished" for code, (s, f) in results.by_neighbourhood.items()]
        lines.append("By neighbourhood: " + "; ".join(parts) + ".")
    if results.weighting is not None:
        lines.extend(_weighting_text(results.weighting))
    for number, question in enumerate(results.questions, start=1):
        lines.append("")
        lines.append(
            f"{number}. {question.prompt} [{question.id}, {question.type}] — {question.answered} answers, {question.skipped} skipped"
        )
        if question.type == "multiple":
            lines.append("   (several answers were possible: percentages add up to more than 100 %)")
        for option in question.options:
            rank = f", mean rank {option.mean_rank:g}" if option.mean_rank is not None else ""
            first = " ranked first" if question.type == "ranking" else ""
            weighted = f", weighted {option.weighted_percent:g} %" if option.weighted_percent is not None else ""
            lines.append(f"   {option.label}: {option.count}{first} ({option.percent:g} %{weighted}){rank}")
        if question.margin_of_error is not None:
            lines.append(
                f"   weighted: effective size {question.n_effective:g}, margin of error ±{question.margin_of_error:g} points"
            )
        if question.mean is not None:
            weighted_mean = f", weighted {question.weighted_mean:g}" if question.weighted_mean is not None else ""
            lines.append(f"   mean: {question.mean:g}{weighted_mean}")
        for text in question.texts:
            lines.append(f"   « {text} »")
    return "\n".join(lines)


@main.command()
@click.argument("slug")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "xlsx", "json", "png"]), default="text", show_default=True)
@click.option(
    "--output", type=click.Path(path_type=Path), help="File to write (PNG: one file per question, FILE-<question>.png)."
)
def results(slug: str, fmt: str, output: Path | None) -> None:
    """Results of consultation SLUG: counts and percentages, or an export."""
    from notices.catalogs import translation
    from participation import results as results_module
    from participation.consultations import get_by_slug

    settings = settings_or_exit()
    # Answers are shown in the commune's language, like the consultation's own texts. Not through
    # aiogram: importing it costs about 3 s and 130 MB, half the peak of a 100,000-response export.
    _ = translation(settings.default_locale).gettext
    words = {"yes": _("Yes"), "no": _("No"), "other": _("Other")}
    caption = _("answers")

    async def work(session: AsyncSession) -> Any:
        found = await get_by_slug(session, slug)
        if found is None:
            return None
        if fmt == "csv":  # streamed from the database: flat memory however many responses, and no counts
            if output is None:
                return await results_module.write_csv(session, found, sys.stdout.buffer)
            with output.open("wb") as out:
                return await results_module.write_csv(session, found, out)
        return await results_module.compute_results(
            session,
            found,
            locale=settings.default_locale,
            default_locale=settings.default_locale,
            with_responses=fmt in ("xlsx", "json"),
            **words,
        )

    computed = with_session(work)
    if computed is None:
        click.echo(f"No consultation with the slug {slug!r}: see `palabre consultation list`.", err=True)
        sys.exit(1)
    if fmt == "csv":
        if output is not None:
            click.echo(f"Wrote {output} ({computed} responses).")
        return
    if fmt == "text":
        click.echo(_results_text(computed))
        return
    if fmt == "png":
        target = output or Path(f"{slug}.png")
        from notices import result_texts
        from notices.numbers import format_percent

        ngettext = translation(settings.default_locale).ngettext
        written = results_module.write_charts(
            computed,
            target,
            caption=caption,
            notes={q.id: result_texts.question_note(q, _) for q in computed.questions},
            footer=result_texts.chart_footer(computed, settings.default_locale, settings.tz, settings.commune_name, _, ngettext),
            format_share=lambda share: format_percent(share, settings.default_locale),
            weighted_word=_("weighted"),
        )
        for path in written:
            click.echo(f"Wrote {path}")
        if not written:
            click.echo("No question with counts to chart (only free-text questions).")
        return
    data: bytes = {
        "xlsx": lambda: results_module.to_xlsx(computed),
        "json": lambda: results_module.to_json(computed).encode("utf-8"),
    }[fmt]()
    if output is None and fmt == "xlsx":
        click.echo("An XLSX export needs --output FILE.", err=True)
        sys.exit(2)
    if write_output(data, output):
        click.echo(f"Wrote {output} ({len(computed.responses)} responses).")


@main.command()
@click.argument("slug")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="poster.png, poster.svg or poster.pdf"
)
@click.option("--bot", "bot_username", help="The bot's username (asked from Telegram with BOT_TOKEN when not given).")
def qr(slug: str, output: Path, bot_username: str | None) -> None:
    """A printable poster of consultation SLUG with the QR code of its deep link."""
    from bot.i18n import build_i18n
    from bot.poster import POSTER_FORMATS, deep_link, write_poster
    from participation.consultations import get_by_slug, localized

    if output.suffix.lower() not in POSTER_FORMATS:
        click.echo("The poster's file name must end with .png, .svg or .pdf.", err=True)
        sys.exit(2)
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await get_by_slug(session, slug)

    found = with_session(work)
    if found is None:
        click.echo(f"No consultation with the slug {slug!r}: see `palabre consultation list`.", err=True)
        sys.exit(1)
    if bot_username is None:
        bot_username = _ask_bot_username(settings)
    i18n = build_i18n(settings.default_locale)
    from aiogram.utils.i18n import gettext as _

    from notices.labels import capitalized, spoken_date, town_hall

    locale = settings.default_locale
    with i18n.context(), i18n.use_locale(locale):
        call = _("Scan this code with your phone to give your opinion on Telegram (a free app).")
        deadline = _("Answer until {date}").format(date=spoken_date(found.closes_at, settings.tz, locale))
        header = capitalized(town_hall(settings.commune_name)) if settings.commune_name else ""
        ways = []
        if settings.commune_phone:
            ways.append(_("call {phone}").format(phone=settings.commune_phone))
        if settings.commune_address:
            ways.append(_("come to the town hall, {address}").format(address=settings.commune_address))
        other_ways = _("Without Telegram? {ways}.").format(ways=capitalized(_(" or ").join(ways))) if ways else ""
    write_poster(
        output,
        title=localized(found.title, locale, locale),
        link=deep_link(bot_username, slug),
        call_to_action=call,
        header=header,
        description=localized(found.description, locale, locale) if found.description else "",
        deadline=deadline,
        other_ways=other_ways,
    )
    click.echo(f"Wrote {output} ({deep_link(bot_username, slug)}).")


def _ask_bot_username(settings: Settings) -> str:
    if settings.bot_token is None:
        click.echo("Give the bot's username with --bot (or set BOT_TOKEN so that it can be asked from Telegram).", err=True)
        sys.exit(2)
    from bot.app import build_bot

    async def ask() -> str:
        bot = build_bot(settings)
        try:
            me = await bot.get_me()
        finally:
            await bot.session.close()
        return me.username or ""

    try:
        username = asyncio.run(ask())
    except Exception:  # noqa: BLE001 - any failure to reach Telegram is the same advice
        click.echo("Could not ask Telegram for the bot's username: give it with --bot.", err=True)
        sys.exit(1)
    return username


@main.command()
@click.argument("slug")
def poll(slug: str) -> None:
    """Send consultation SLUG (one question) as a native Telegram poll to its audience."""
    from bot.i18n import build_i18n
    from notices.consultations import queue_polls
    from participation.consultations import PollRefusal, get_by_slug, poll_refusal

    settings = settings_or_exit()
    i18n = build_i18n(settings.default_locale)
    reasons = {
        PollRefusal.NOT_ONE_QUESTION: "a native poll needs a consultation of exactly one question",
        PollRefusal.WRONG_TYPE: "a native poll works for single, multiple and yesno questions without other",
        PollRefusal.NOT_OPEN: "the consultation is not open",
    }

    async def work(session: AsyncSession) -> Any:
        found = await get_by_slug(session, slug)
        if found is None:
            return None
        refusal = poll_refusal(found)
        if refusal is not None:
            return reasons[refusal]
        with i18n.context():
            queued = await queue_polls(session, found, i18n, settings)
        await audit_record(
            session,
            actor_telegram_id=None,
            source=Source.CLI,
            action="consultation.poll",
            subject=slug,
            detail={"recipients": queued},
        )
        return queued

    outcome = with_session(work)
    if outcome is None:
        click.echo(f"No consultation with the slug {slug!r}: see `palabre consultation list`.", err=True)
        sys.exit(1)
    if isinstance(outcome, str):
        click.echo(f"Cannot send {slug} as a poll: {outcome}.", err=True)
        sys.exit(1)
    click.echo(f"Poll of {slug} queued for {outcome} residents; the running bot sends it.")


@main.command()
def demo() -> None:
    """Import sample data (a consultation in French and English…) for a first look."""
    from participation.demo import DEMO_STEPS

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> list[str]:
        return [await step(session, settings.default_locale, settings.tz) for step in DEMO_STEPS]

    for line in with_session(work):
        click.echo(line)


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


@main.group()
def population() -> None:
    """The commune's population by neighbourhood and age bracket, to weight results."""


@population.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def population_import(file: str) -> None:
    """Replace the population margins with those of FILE (YAML); nothing is imported if it has a problem."""
    from participation import population as population_module
    from participation.subscriptions import FileInvalid

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        click.echo(f"Cannot read {file}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8 text'}.", err=True)
        sys.exit(2)

    async def work(session: AsyncSession) -> Any:
        margins = await population_module.import_population(session, text)
        await audit_record(
            session,
            actor_telegram_id=None,
            source=Source.CLI,
            action="population.import",
            subject=None,
            detail={"total": margins.total},
        )
        return margins

    try:
        margins = with_session(work)
    except FileInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        count = len(exc.problems)
        click.echo(f"Nothing was imported ({count} problem{'' if count == 1 else 's'}).", err=True)
        sys.exit(1)
    click.echo(
        f"Population imported: {margins.total} inhabitants aged 15 and over in {len(margins.neighbourhoods)} "
        f"neighbourhoods ({margins.source})."
    )


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram's limit for photos


@main.group(invoke_without_command=True)
@click.option(
    "--audience",
    help="all, topic:CODE, neighbourhood:CODE, age:BRACKET (such as 30-44), consultation:SLUG, or underrepresented:SLUG "
    "(residents of the groups under-represented in open consultation SLUG who have not answered it)",
)
@click.option("--text", "text", help="The message (the text under the photo when --photo is given).")
@click.option("--photo", type=click.Path(dir_okay=False), help="A photo to send (JPEG, PNG or WebP).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def broadcast(ctx: click.Context, audience: str | None, text: str | None, photo: str | None, yes: bool) -> None:
    """Send a message to residents: shows how many will receive it, then asks to confirm."""
    if ctx.invoked_subcommand is not None:
        return
    from participation import broadcasts
    from participation.residents import AgeBracket

    if audience is None or (text is None and photo is None):
        click.echo("Give --audience and --text (or --photo); see palabre broadcast --help.", err=True)
        sys.exit(2)
    try:
        parsed = broadcasts.Audience.parse(audience)
    except broadcasts.UnknownAudience:
        click.echo(
            f"Unknown audience {audience!r}: use all, topic:CODE, neighbourhood:CODE, age:BRACKET, consultation:SLUG "
            "or underrepresented:SLUG.",
            err=True,
        )
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

    async def count(session: AsyncSession) -> tuple[int, list[Any]]:
        groups: list[Any] = []
        if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED:
            from participation.consultations import get_by_slug
            from participation.population import under_represented

            found = await get_by_slug(session, parsed.value or "")
            groups = (await under_represented(session, found) or []) if found is not None else []
        return await broadcasts.count_audience(session, parsed), groups

    try:
        recipients, groups = with_session(count)
    except broadcasts.AudienceUnavailable as exc:
        if exc.reason == "no_population":
            click.echo("The population margins are not known yet: run `palabre population import FILE` first.", err=True)
        else:
            click.echo(
                f"Consultation {parsed.value!r} is not open: a reminder only makes sense while residents can answer.", err=True
            )
        sys.exit(1)
    except broadcasts.UnknownAudience:
        if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED:
            click.echo(f"There is no consultation {parsed.value!r}: see `palabre consultation list`.", err=True)
        elif parsed.kind == broadcasts.AudienceKind.AGE:
            brackets = ", ".join(bracket.value for bracket in AgeBracket)
            click.echo(f"There is no age bracket {parsed.value!r}: use one of {brackets}.", err=True)
        else:
            click.echo(f"There is no {parsed.kind.value} {parsed.value!r}.", err=True)
        sys.exit(1)
    for group in groups:
        click.echo(
            f"Under-represented: {group.dimension} {group.code} ({group.participants} participant{'s' if group.participants != 1 else ''}, "
            f"{round(100 * group.participant_share)} % of participants, {round(100 * group.population_share)} % of the population)"
        )
    if parsed.kind == broadcasts.AudienceKind.UNDERREPRESENTED and not groups:
        click.echo("No group is under-represented among the participants at the moment.")
    if recipients == 0:
        click.echo(
            "Nobody would receive this message: no resident of this audience accepts announcements. Nothing was sent.", err=True
        )
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
    from notices.reports import ReportNotices
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
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File to write (default: standard output)."
)
def reports_export(fmt: str, output: Path | None) -> None:
    """Export every report as open data (no personal data)."""
    from participation.report_export import export_rows, to_csv, to_geojson

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await export_rows(session, settings.default_locale)

    rows = with_session(work)
    data = to_geojson(rows).encode("utf-8") if fmt == "geojson" else to_csv(rows)
    if write_output(data, output):
        click.echo(f"{len(rows)} reports written to {output}.", err=True)


@main.command()
@click.argument("slug")
@click.option("--decision", required=True, help="The council's decision, as residents will read it.")
@click.option(
    "--translation",
    "translations",
    multiple=True,
    metavar="LOCALE=TEXT",
    help='The decision in another language residents use, such as en="The square will be…" (repeatable).',
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def publish(slug: str, decision: str, translations: tuple[str, ...], yes: bool) -> None:
    """Publish the outcome of closed consultation SLUG: results and DECISION to participants and subscribers."""
    from participation import publication

    reasons = {
        publication.PublishRefusal.UNKNOWN: f"No consultation with the slug {slug!r}: see `palabre consultation list`.",
        publication.PublishRefusal.NOT_CLOSED: f"Consultation {slug} is not closed yet: publish its outcome once it closes.",
        publication.PublishRefusal.ALREADY_PUBLISHED: f"The outcome of {slug} was already published; send a broadcast to its participants to add something.",
        publication.PublishRefusal.EMPTY: "The decision is empty.",
        publication.PublishRefusal.TOO_LONG: f"The decision must be at most {publication.MAX_DECISION} characters long.",
    }
    try:
        text = publication.check_decision(decision)
    except publication.PublishRefused as refused:
        click.echo(reasons[refused.reason], err=True)
        sys.exit(2)
    settings = settings_or_exit()
    from notices.catalogs import LOCALES_DIR

    known = sorted(path.name for path in LOCALES_DIR.iterdir() if (path / "LC_MESSAGES").is_dir())
    other_languages: dict[str, str] = {}
    for item in translations:
        locale, _, translated = item.partition("=")
        locale = locale.strip()
        if locale not in known or locale == settings.default_locale or locale in other_languages:
            click.echo(
                f"--translation {item[:20]!r}: give another language residents use ({', '.join(known)}), once, as LOCALE=TEXT.",
                err=True,
            )
            sys.exit(2)
        try:
            other_languages[locale] = publication.check_decision(translated)
        except publication.PublishRefused as refused:
            click.echo(f"--translation {locale}: {reasons[refused.reason]}", err=True)
            sys.exit(2)

    async def count(session: AsyncSession) -> int:
        return await publication.count_recipients(session, await publication.publishable(session, slug))

    async def send(session: AsyncSession) -> Any:
        return await publication.publish(
            session, slug, text, actor_telegram_id=None, source=Source.CLI, translations=other_languages
        )

    try:
        recipients = with_session(count)
        click.echo(f"The results of {slug} and this decision will be sent to {recipients} residents, each in their language.")
        if not yes and not click.confirm("Publish it?", default=False):
            click.echo("Cancelled: nothing was published.")
            return
        published = with_session(send)
    except publication.PublishRefused as refused:
        click.echo(reasons[refused.reason], err=True)
        sys.exit(1)
    click.echo(f"Outcome of {slug} published for {published.recipient_count} residents; the running bot sends it.")


# --- Impact, feedback, figures (issue 8) --------------------------------------------------------


@main.command()
@click.option("--from", "start", help="First day, e.g. 2026-09-01 (default: 90 days before --to).")
@click.option("--to", "end", help="Last day, included, e.g. 2026-11-30 (default: today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "png", "pdf"]), default="text", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (needed for PNG and PDF; a PNG report of several pages also writes FILE-2.png, FILE-3.png…).",
)
def stats(start: str | None, end: str | None, fmt: str, output: Path | None) -> None:
    """Figures for the council: residents, participation, reports, published outcomes, satisfaction."""
    from bot.i18n import build_i18n
    from notices.impact import neighbourhood_names
    from notices.stats_report import render_pdf, render_png_pages, render_text, to_json
    from participation.dates import parse_period
    from participation.stats import compute_stats
    from storage.types import utcnow

    settings = settings_or_exit()
    if output is None and fmt in ("png", "pdf"):
        # Never an unexpected file in the working directory: the report goes where it is asked.
        click.echo(f"A {fmt.upper()} report needs --output FILE.", err=True)
        sys.exit(2)
    try:
        first, last = parse_period(start, end, settings)
    except ValueError:
        click.echo("--from and --to are days like 2026-09-01, and --from must not come after --to.", err=True)
        sys.exit(2)
    locale = settings.default_locale

    async def work(session: AsyncSession) -> Any:
        figures = await compute_stats(session, first, last, now=utcnow(), interval_days=settings.satisfaction_interval_days)
        return figures, await neighbourhood_names(session, locale, locale)

    figures, names = with_session(work)
    # The report is for the council: in the commune's language.
    i18n = build_i18n(locale)
    with i18n.context(), i18n.use_locale(locale):
        if fmt == "text":
            data = render_text(figures, locale=locale, tz=settings.tz, hood_names=names).encode("utf-8") + b"\n"
        elif fmt == "json":
            data = to_json(figures).encode("utf-8") + b"\n"
        elif fmt == "png":
            pages = render_png_pages(figures, locale=locale, tz=settings.tz, hood_names=names, commune=settings.commune_name)
            assert output is not None
            for number, page in enumerate(pages, start=1):
                path = output if number == 1 else output.with_name(f"{output.stem}-{number}{output.suffix or '.png'}")
                write_output(page, path)
                click.echo(f"Wrote {path}.")
            return
        else:
            data = render_pdf(figures, locale=locale, tz=settings.tz, hood_names=names, commune=settings.commune_name)
    if write_output(data, output):
        click.echo(f"Wrote {output}.")


@main.group()
def feedback() -> None:
    """Residents' feedback on the channel: list, answer."""


@feedback.command("list")
@click.option("--open", "unanswered", is_flag=True, help="Only feedback not answered yet.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
def feedback_list(unanswered: bool, limit: int) -> None:
    """Show the feedback, newest first (residents by pseudonym)."""
    from participation.feedback import list_feedback

    settings = settings_or_exit()

    async def work(session: AsyncSession) -> Any:
        return await list_feedback(session, unanswered_only=unanswered, limit=limit)

    rows = with_session(work)
    if not rows:
        click.echo("No feedback yet." if not unanswered else "No feedback is waiting for an answer.")
        return
    for row in rows:
        when = row.created_at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        state = "answered" if row.answered_at else "open"
        click.echo(f"#{row.id}  {when}  {row.pseudonym}  [{state}]  {row.text}")
        if row.answer:
            click.echo(f"    answer: {row.answer}")


@feedback.command("answer")
@click.argument("feedback_id", type=int)
@click.argument("text")
def feedback_answer(feedback_id: int, text: str) -> None:
    """Answer feedback FEEDBACK_ID with TEXT: the resident receives it in the chat (audited)."""
    from bot.i18n import build_i18n
    from notices.feedback import answer_and_queue
    from participation.feedback import FeedbackRefusal, FeedbackRefused

    settings = settings_or_exit()
    i18n = build_i18n(settings.default_locale)

    async def work(session: AsyncSession) -> Any:
        with i18n.context():
            return await answer_and_queue(session, feedback_id, text, actor_telegram_id=None, source=Source.CLI, i18n=i18n)

    try:
        reached = with_session(work)
    except FeedbackRefused as refused:
        messages = {
            FeedbackRefusal.EMPTY: "The answer is empty.",
            FeedbackRefusal.TOO_LONG: "The answer is too long (2000 characters at most).",
            FeedbackRefusal.UNKNOWN: f"There is no feedback #{feedback_id}: see `palabre feedback list`.",
            FeedbackRefusal.ALREADY_ANSWERED: f"Feedback #{feedback_id} was already answered.",
        }
        click.echo(messages[refused.reason], err=True)
        sys.exit(1)
    if reached:
        click.echo(f"Answer to feedback #{feedback_id} queued for the resident.")
    else:
        click.echo(f"Answer to feedback #{feedback_id} saved; its author erased their data and cannot receive it.")


@main.group()
def keys() -> None:
    """The key that encrypts personal data at rest (DATA_KEY)."""


@keys.command("init")
def keys_init() -> None:
    """Write a new DATA_KEY to .env, unless a key is already set (it is never replaced)."""
    from bot.envfile import read_value, write_value

    env_file = Path(".env")
    if os.environ.get("DATA_KEY"):
        click.echo("DATA_KEY is already set in the environment: nothing written.")
        return
    if read_value(env_file, "DATA_KEY"):
        click.echo(f"DATA_KEY is already set in {env_file.resolve()}: nothing written.")
        return
    write_value(env_file, "DATA_KEY", crypto.generate_key())
    click.echo(
        f"A new DATA_KEY was written to {env_file.resolve()}. Keep a copy of it apart from the database "
        "backups: without it, the personal data cannot be read."
    )


@keys.command("rotate")
@click.option("--resume", is_flag=True, help="Add no new key: finish encrypting with the first key of DATA_KEY.")
def keys_rotate(resume: bool) -> None:
    """Put a new key first in DATA_KEY, then encrypt every personal value again with it."""
    from bot.envfile import read_value, write_value
    from storage.db import scrub_sqlite
    from storage.rekey import reencrypt_values

    settings = settings_or_exit()
    if settings.data_key is None:
        click.echo("DATA_KEY is not set: there is nothing to rotate (`palabre keys init` creates the first key).", err=True)
        sys.exit(2)
    env_file = Path(".env")
    if not resume:
        if os.environ.get("DATA_KEY") or not read_value(env_file, "DATA_KEY"):
            click.echo(
                "DATA_KEY comes from the environment, which this command cannot change: put a new key "
                "(`python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`) "
                "first in DATA_KEY (NEW,OLD), restart Palabre, then run `palabre keys rotate --resume`.",
                err=True,
            )
            sys.exit(2)
        ring = [crypto.generate_key(), *crypto.installed_keys()]
        # The new ring is saved before anything is encrypted with it: a crash loses no key.
        write_value(env_file, "DATA_KEY", ",".join(ring))
        crypto.install_keys(",".join(ring))
        click.echo(f"A new key was put first in DATA_KEY in {env_file.resolve()}.")

    async def main() -> int:
        engine = make_engine(settings.database_url)
        try:
            await upgrade(engine)
            async with engine.connect() as connection:
                changed = await connection.run_sync(lambda sync: reencrypt_values(sync, commit=True))
            await scrub_sqlite(engine)  # the old-key versions of the rows go from the file too
            return changed
        finally:
            await engine.dispose()

    changed = asyncio.run(main())
    click.echo(f"Values encrypted again with the first key of DATA_KEY: {changed}.")
    if len(crypto.installed_keys()) > 1:
        click.echo(
            "Every stored value now uses the first key. Restart every running palabre process, run "
            "`palabre keys rotate --resume` once more (it catches what they wrote meanwhile), then keep "
            "only the first key in DATA_KEY: the older ones are no longer needed."
        )


if __name__ == "__main__":
    main()
