"""Problem reports: categories import, report status, reports export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail, in_session, settings_or_exit, write_output
from participation.audit import Source


@click.group()
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
        fail("Nothing was imported.")

    async def work(session: AsyncSession) -> Any:
        return await import_categories(session, specs)

    result = in_session(settings_or_exit(), work)
    click.echo(f"Imported {len(specs)} categories ({result.created} new, {result.updated} updated).")


@click.group()
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
        fail(f"Unknown status {status!r}: choose one of {', '.join(s.value for s in reports.Status)}.", 2)
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

    problem = in_session(settings, work)
    if problem:
        fail(problem)
    click.echo(f"Report {ref.upper()} is now {target.value}.")


@click.group()
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

    rows = in_session(settings, work)
    data = to_geojson(rows).encode("utf-8") if fmt == "geojson" else to_csv(rows)
    if write_output(data, output):
        click.echo(f"{len(rows)} reports written to {output}.", err=True)
