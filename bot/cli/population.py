"""The population margins that weight results: population import."""

from __future__ import annotations

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import fail, in_session, read_text_or_exit, settings_or_exit
from participation.audit import Source
from participation.audit import record as audit_record
from participation.population import Margins


@click.group()
def population() -> None:
    """The commune's population by neighbourhood and age bracket, to weight results."""


@population.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def population_import(file: str) -> None:
    """Replace the population margins with those of FILE (YAML); nothing is imported if it has a problem."""
    from participation import population as population_module
    from participation.subscriptions import FileInvalid

    text = read_text_or_exit(file)

    async def work(session: AsyncSession) -> Margins:
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
        margins = in_session(settings_or_exit(), work)
    except FileInvalid as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        count = len(exc.problems)
        fail(f"Nothing was imported ({count} problem{'' if count == 1 else 's'}).")
    click.echo(
        f"Population imported: {margins.total} inhabitants aged 15 and over in {len(margins.neighbourhoods)} "
        f"neighbourhoods ({margins.source})."
    )
