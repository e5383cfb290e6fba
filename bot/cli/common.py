"""What every `palabre` command shares: the settings, the one way to open the database, errors, output."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from config.settings import Settings, load_settings
from participation.dates import DateProblem, DateRefused
from storage import crypto
from storage.db import make_engine, make_sessionmaker
from storage.migrate import upgrade

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    """One sentence on standard error and a non-zero exit: how every command refuses."""
    click.echo(message, err=True)
    sys.exit(code)


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


@contextlib.asynccontextmanager
async def command_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The database of a command, migrated first and closed after (for work that commits in batches)."""
    engine = make_engine(settings.database_url)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def command_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """The one way a command opens a session: one transaction on a migrated database, committed on success."""
    async with command_engine(settings) as engine, make_sessionmaker(engine).begin() as session:
        yield session


def in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `work` in `command_session`, from a command's synchronous body."""

    async def run() -> T:
        async with command_session(settings) as session:
            return await work(session)

    return asyncio.run(run())


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
        fail(f"Could not write {output}: {exc.strerror}.")
    return True


def read_text_or_exit(path: str | Path) -> str:
    """A YAML file's text; a file that cannot be read is one sentence and exit 2."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"Cannot read {path}: {exc.strerror if isinstance(exc, OSError) else 'not UTF-8 text'}.", 2)


def date_refusal(option: str, refused: DateRefused) -> str:
    """The CLI's sentence for a date it cannot read, in the words of notices/dates.py's chat sentence."""
    if refused.problem == DateProblem.NO_SUCH_DAY:
        return f"{option} {refused.typed!r}: this day or time does not exist."
    if refused.problem == DateProblem.EMPTY_PERIOD:
        return "--from must not come after --to."
    return (
        f"{option} {refused.typed!r} is not a date: write it for example 2026-12-01, 01/12/2026, 1/12 or 1 December "
        "(with a time: 2026-12-01 18:30 or 1/12 18h30)."
    )
