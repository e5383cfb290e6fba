"""Everyday mistakes of an operator, as one sentence each (the CLI prints it and exits non-zero)."""

from __future__ import annotations

import socket
from collections.abc import Iterator


class StartupError(Exception):
    """Palabre cannot start for a reason the operator can fix; the message says how."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as the setting's name only
        return "DATABASE_URL"


def _database_reason(exc: BaseException) -> str | None:
    """Why the database could not be reached, when `exc` says so; None for anything else."""
    name = type(exc).__name__
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused (is the server running, on this host and port?)"
    if isinstance(exc, socket.gaierror):
        return "the host name is unknown"
    if isinstance(exc, TimeoutError):
        return "the server did not answer in time"
    if name == "InvalidPasswordError":
        return "the user name or password was refused"
    if name == "InvalidCatalogNameError":
        return "this database does not exist on the server"
    if name in ("InvalidAuthorizationSpecificationError", "ConnectionDoesNotExistError", "CannotConnectNowError"):
        return "the server refused the connection"
    return None


def everyday_error(exc: BaseException, database_url: str) -> str | None:
    """One sentence for a mistake an operator makes every day, or None (a real bug: keep the traceback)."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    chain = list(_chain(exc))
    for item in chain:
        if isinstance(item, StartupError):
            return str(item)
    for item in chain:
        if isinstance(item, (NoSuchModuleError, ArgumentError)) or (
            type(item).__name__ == "InvalidRequestError" and "async" in str(item)
        ):
            return (
                "DATABASE_URL is not a database address Palabre supports: use sqlite+aiosqlite:///palabre.db "
                "or postgresql+asyncpg://user:password@host/name."
            )
    for item in chain:
        reason = _database_reason(item)
        if reason is not None:
            return f"Cannot connect to the database {_safe_url(database_url)}: {reason}."
    for item in chain:
        if isinstance(item, OSError) and item.filename is not None:
            return f"Cannot use {item.filename}: {item.strerror or 'error'}; check that its folder exists and can be written."
    return None
