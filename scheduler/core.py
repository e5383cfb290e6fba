"""The scheduler: jobs are rebuilt from the database at start and every RESYNC_SECONDS.

Each feature contributes a *job source*: an async function that reads the database and returns
the actions planned (stable id, time, coroutine). Resyncing often means that what the command
line imports in another process is picked up without a restart, and a time that passed while
the bot was down runs at once. Every action must claim its row first (`UPDATE … WHERE status =
'pending'`) so that a double fire, or two processes, never do it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession

from config.logs import describe_crash
from config.settings import Settings
from storage.db import SessionMaker
from storage.types import utcnow

log = logging.getLogger("palabre.scheduler")

RESYNC_SECONDS = 15


class SchedulerStopped(Exception):
    """APScheduler stopped without being asked to: its supervisor starts a new one."""


@dataclass
class JobContext:
    """What every job gets: the database, the settings, and a way to wake the sender."""

    sessionmaker: SessionMaker
    settings: Settings
    wake_sender: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlannedJob:
    job_id: str
    run_at: datetime
    action: Callable[[JobContext], Awaitable[object]]  # what a job returns (a count, for tests) is not used


JobSource = Callable[[AsyncSession, JobContext], Awaitable[list[PlannedJob]]]


def log_job_event(event: JobExecutionEvent) -> None:
    """APScheduler's listener: no job fails, is skipped or is missed without a line in the logs."""
    if event.code == EVENT_JOB_ERROR and event.exception is not None:
        log.error("scheduler: job %s failed: %s", event.job_id, describe_crash(event.exception))
    elif event.code == EVENT_JOB_MAX_INSTANCES:
        log.warning("scheduler: job %s skipped: its previous run has not finished", event.job_id)
    elif event.code == EVENT_JOB_MISSED:
        log.warning("scheduler: job %s missed its time", event.job_id)


class Scheduler:
    def __init__(self, context: JobContext, sources: list[JobSource], *, may_run: Callable[[], bool] = lambda: True) -> None:
        self.context = context
        self._sources = sources
        # False once this process's leader lease has lapsed (bot/leader.py Fence.is_open).
        self._may_run = may_run
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_listener(log_job_event, EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self._planned: set[str] = set()
        self._catching_up: set[str] = set()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Start, then watch that APScheduler keeps running until `shutdown` (for the supervisor)."""
        self._stopping.clear()
        await self.start()
        try:
            while not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RESYNC_SECONDS)
                if not self._stopping.is_set() and not self._scheduler.running:
                    raise SchedulerStopped
        finally:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=False)

    async def start(self) -> None:
        self._scheduler.start()
        planned = await self.resync()
        # Jobs already due run at once; saying when they are done lets operators and tests know
        # the process has caught up with what it missed while it was down.
        now = utcnow()
        self._catching_up = {job.job_id for job in planned if job.run_at <= now}
        if not self._catching_up:
            log.info("scheduler: caught up at start")
        self._scheduler.add_job(self.resync, "interval", seconds=RESYNC_SECONDS, id="palabre.resync", replace_existing=True)

    async def shutdown(self) -> None:
        self._stopping.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def resync(self) -> list[PlannedJob]:
        """Plan every job the database asks for; drop the ones it no longer asks for; return them."""
        planned: list[PlannedJob] = []
        try:
            async with self.context.sessionmaker() as session:
                for source in self._sources:
                    planned.extend(await source(session, self.context))
        except Exception:
            log.exception("scheduler: resync failed")
            return []
        now = utcnow()
        wanted = set()
        for job in planned:
            wanted.add(job.job_id)
            self._scheduler.add_job(
                self._run,
                "date",
                run_date=max(job.run_at, now),
                args=[job],
                id=job.job_id,
                replace_existing=True,
                misfire_grace_time=None,  # late is better than never: the action checks itself
                coalesce=True,
            )
        for stale in self._planned - wanted:
            if self._scheduler.get_job(stale):
                self._scheduler.remove_job(stale)
        self._planned = wanted
        return planned

    async def _run(self, job: PlannedJob) -> None:
        if not self._may_run():
            # A process resumed after a freeze: the leader's lease has lapsed, the job is not ours.
            log.info("scheduler: job %s not run: this process is no longer the leader", job.job_id)
            return
        try:
            await job.action(self.context)
        except Exception as exc:  # noqa: BLE001 - one failed job must not stop the others
            log.error("scheduler: job %s failed: %s", job.job_id, describe_crash(exc))
        self.context.wake_sender()
        if job.job_id in self._catching_up:
            self._catching_up.discard(job.job_id)
            if not self._catching_up:
                log.info("scheduler: caught up at start")
