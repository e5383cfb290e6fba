"""Personal data and accountability: keys init|rotate, privacy purge, audit."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import command_engine, date_refusal, fail, in_session, settings_or_exit
from participation.audit import Source
from participation.dates import DateRefused, parse_moment
from storage import crypto


@click.group()
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
        fail("DATA_KEY is not set: there is nothing to rotate (`palabre keys init` creates the first key).", 2)
    env_file = Path(".env")
    if not resume:
        if os.environ.get("DATA_KEY") or not read_value(env_file, "DATA_KEY"):
            fail(
                "DATA_KEY comes from the environment, which this command cannot change: put a new key "
                "(`python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`) "
                "first in DATA_KEY (NEW,OLD), restart Palabre, then run `palabre keys rotate --resume`.",
                2,
            )
        ring = [crypto.generate_key(), *crypto.installed_keys()]
        # The new ring is saved before anything is encrypted with it: a crash loses no key.
        write_value(env_file, "DATA_KEY", ",".join(ring))
        crypto.install_keys(",".join(ring))
        click.echo(f"A new key was put first in DATA_KEY in {env_file.resolve()}.")

    async def main() -> int:
        # Not one transaction: values are encrypted again in committed batches, so a crash loses nothing done.
        async with command_engine(settings) as engine:
            async with engine.connect() as connection:
                changed = await connection.run_sync(lambda sync: reencrypt_values(sync, commit=True))
            await scrub_sqlite(engine)  # the old-key versions of the rows go from the file too
            return changed

    changed = asyncio.run(main())
    click.echo(f"Values encrypted again with the first key of DATA_KEY: {changed}.")
    if len(crypto.installed_keys()) > 1:
        click.echo(
            "Every stored value now uses the first key. Restart every running palabre process, run "
            "`palabre keys rotate --resume` once more (it catches what they wrote meanwhile), then keep "
            "only the first key in DATA_KEY: the older ones are no longer needed."
        )


@click.group()
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

    report = in_session(settings, work)
    verb = "Would purge" if dry_run else "Purged"
    for kind, count in sorted(report.counts.items()):
        click.echo(f"{verb} {count} {PURGE_LABELS.get(kind, kind)}.")


@click.command()
@click.option("--since", help="Only actions from this date or time on (e.g. 2026-11-01, 1/11 or 2026-11-01 08:00).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=1000, show_default=True)
def audit(since: str | None, limit: int) -> None:
    """List what admins, officials and agents did: when, who, what."""
    from participation.audit import entries

    settings = settings_or_exit()
    since_at = None
    if since:
        try:
            since_at = parse_moment(since, settings.tz, ahead=False)
        except DateRefused as refused:
            fail(date_refusal("--since", refused), 2)

    async def work(session: AsyncSession) -> list[Any]:
        return await entries(session, since=since_at, limit=limit)

    for entry in in_session(settings, work):
        who = "operator (command line)" if entry.actor_telegram_id is None else f"user {entry.actor_telegram_id}"
        when = entry.at.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
        click.echo(f"{when}  {who:<24} {entry.source:<5} {entry.action:<24} {entry.subject or '-'}  {detail}".rstrip())
