"""The `palabre` command line, one module per command group. Errors are one clear sentence and a non-zero exit.

`main` is the entry point (`palabre = "bot.cli:main"` in pyproject.toml); the groups add their commands to it here.
"""

from __future__ import annotations

import click

from bot.cli import broadcasts, consultations, data, population, reports, roles, run, stats
from bot.cli.common import PalabreGroup


@click.group(cls=PalabreGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Palabre: a participation channel for your commune, as a Telegram bot."""


for command in (
    run.run,
    run.db,
    run.demo,
    data.keys,
    data.privacy,
    data.audit,
    roles.role,
    consultations.consultation,
    consultations.results,
    consultations.qr,
    consultations.poll,
    consultations.publish,
    reports.categories,
    reports.report,
    reports.reports,
    broadcasts.topics,
    broadcasts.neighbourhoods,
    broadcasts.broadcast,
    population.population,
    stats.stats,
    stats.feedback,
):
    main.add_command(command)

__all__ = ["main"]
