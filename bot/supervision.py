"""Supervision of the leader's background tasks: a crash is logged with its cause and the task restarted."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

from config.logs import describe_crash

log = logging.getLogger("palabre.supervision")

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
# This many crashes, each within STABLE_SECONDS of its start, and the task is given up on.
MAX_CRASHES = 5
STABLE_SECONDS = 60.0


class TaskState(StrEnum):
    RUNNING = "running"
    RESTARTING = "restarting after a crash"
    GAVE_UP = "crashed too often"
    STOPPED = "stopped"


class Supervisor:
    """Runs `work()` in a task; after a crash, logs it and runs it again with exponential backoff.

    After MAX_CRASHES quick crashes in a row it stops trying and calls `on_give_up`: the leader then
    hands its lease over, since another process (another machine, another database connection)
    may do better.
    """

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        *,
        on_give_up: Callable[[], None],
        first_backoff: float = FIRST_BACKOFF_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        max_crashes: int = MAX_CRASHES,
    ) -> None:
        self.name = name
        self._work = work
        self._on_give_up = on_give_up
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._max_crashes = max_crashes
        self.state = TaskState.STOPPED
        self.crashes = 0  # in a row, for the logs and the tests
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self.state = TaskState.RUNNING  # from now on, not when the task first gets the loop
        self._task = asyncio.create_task(self._loop(), name=self.name)

    def request_stop(self) -> None:
        """No restart from now on; the owner then stops the running work itself."""
        self._stopping.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Wait for the running work (stopped by its owner after `request_stop`) to end."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            if not self._task.done():
                self._task.cancel()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await self._task
        self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            started = time.monotonic()
            self.state = TaskState.RUNNING
            try:
                await self._work()
            except Exception as exc:  # noqa: BLE001 - the point: log any crash and go on
                if time.monotonic() - started >= STABLE_SECONDS:
                    self.crashes = 0  # it had been running well: a new run of crashes starts
                self.crashes += 1
                log.error("%s crashed (%d in a row): %s", self.name, self.crashes, describe_crash(exc))
            else:
                break  # it ended because it was asked to
            if self.crashes >= self._max_crashes:
                self.state = TaskState.GAVE_UP
                log.error("%s keeps crashing: giving up", self.name)
                self._on_give_up()
                return
            self.state = TaskState.RESTARTING
            delay = min(self._max_backoff, self._first_backoff * 2 ** (self.crashes - 1))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
        self.state = TaskState.STOPPED
