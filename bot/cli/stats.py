"""Figures for the council and residents' feedback: stats, feedback list|answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import date_refusal, fail, in_session, settings_or_exit, write_output
from participation.audit import Source


@click.command()
@click.option("--from", "start", help="First day, e.g. 2026-09-01, 01/09/2026 or 1 September (default: 90 days before --to).")
@click.option("--to", "end", help="Last day, included, e.g. 2026-11-30 or 30/11 (default: today).")
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
    from participation.dates import DateRefused, parse_period
    from participation.stats import compute_stats
    from storage.types import utcnow

    settings = settings_or_exit()
    if output is None and fmt in ("png", "pdf"):
        # Never an unexpected file in the working directory: the report goes where it is asked.
        fail(f"A {fmt.upper()} report needs --output FILE.", 2)
    try:
        first, last = parse_period(start, end, settings)
    except DateRefused as refused:
        fail(date_refusal("--from" if start is not None and refused.typed == start else "--to", refused), 2)
    locale = settings.default_locale

    async def work(session: AsyncSession) -> Any:
        figures = await compute_stats(session, first, last, now=utcnow(), interval_days=settings.satisfaction_interval_days)
        return figures, await neighbourhood_names(session, locale, locale)

    figures, names = in_session(settings, work)
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


@click.group()
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

    rows = in_session(settings, work)
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
        reached = in_session(settings, work)
    except FeedbackRefused as refused:
        messages = {
            FeedbackRefusal.EMPTY: "The answer is empty.",
            FeedbackRefusal.TOO_LONG: "The answer is too long (2000 characters at most).",
            FeedbackRefusal.UNKNOWN: f"There is no feedback #{feedback_id}: see `palabre feedback list`.",
            FeedbackRefusal.ALREADY_ANSWERED: f"Feedback #{feedback_id} was already answered.",
        }
        fail(messages[refused.reason])
    if reached:
        click.echo(f"Answer to feedback #{feedback_id} queued for the resident.")
    else:
        click.echo(f"Answer to feedback #{feedback_id} saved; its author erased their data and cannot receive it.")
