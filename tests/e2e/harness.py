"""Runs the real `palabre run` process against the fake Bot API, for end-to-end stories.

    async def test_story(fake, palabre):
        bot = await palabre.start()            # the real process, polling the fake server
        camille = fake.user(1001)
        await onboard(camille)                 # /start → Français → J’accepte → main menu
        await bot.restart()                    # SIGTERM, then start again on the same database
        await bot.kill()                       # SIGKILL, for crash tests

Each story gets its own SQLite file (or PostgreSQL database when the `database_url` fixture is
parametrised so), its own media folder and a free HTTP port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from participation import outbox
from storage.db import make_engine, make_sessionmaker
from tests.e2e.fake_telegram import FakeTelegram, FakeUser
from tests.e2e.patience import patient
from tests.participation.reports_support import CATEGORIES_YAML

ROOT = Path(__file__).resolve().parent.parent.parent
# On an idle machine a start takes a few seconds; the deadline grows with the load (patience.py).
START_TIMEOUT = 60.0
CAUGHT_UP = "scheduler: caught up at start"
PROFILE_OFFER = {"fr": "📝 Facultatif", "en": "📝 Optional"}  # the start of the offer after onboarding


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """One `palabre run` child process; start, stop, kill and restart it like an operator would."""

    def __init__(self, fake: FakeTelegram, workdir: Path, database_url: str, env: dict[str, str]) -> None:
        self.fake = fake
        self.workdir = workdir
        self.database_url = database_url
        self.http_port = free_port()
        self.log_path = workdir / f"palabre-{self.http_port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TELEGRAM_", "DATABASE_"))},
            "BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": fake.base_url,
            "DATABASE_URL": database_url,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.http_port),
            "MEDIA_DIR": str(workdir / "media"),
            "DEFAULT_LOCALE": "fr",
            "LOG_LEVEL": "INFO",
            "GEOCODER_URL": "",  # no network: a story that needs the address search serves one
            "PYTHONUNBUFFERED": "1",
            # A shorter leader lease than the 15 s default, so that a dead leader is replaced within
            # the stories' waits; not shorter: a 500/s broadcast on a busy machine delayed 5 s renewals.
            "LEADER_LEASE_SECONDS": "10",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def start(self) -> BotProcess:
        """Start `palabre run` and wait until it polls the fake server."""
        return await self._start([], lambda before: self._polls() > before, self._polls())

    async def start_webhook(self, role: str = "all") -> BotProcess:
        """Start `palabre run --role ROLE` in webhook mode; wait until the webhook is set and HTTP served."""
        return await self._start(["--role", role], lambda _before: self.fake.webhook is not None and self._serving(), 0)

    async def start_worker(self) -> BotProcess:
        """Start `palabre run --role worker` (scheduler and sender only) and wait until it serves HTTP."""
        return await self._start(["--role", "worker"], lambda _before: self._serving(), 0)

    def _serving(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.http_port)) == 0

    async def _start(self, args: list[str], ready, before: int) -> BotProcess:  # type: ignore[no-untyped-def]
        assert self.process is None, "already running"
        log = self.log_path.open("a", encoding="utf-8")
        log.write(f"\n===== start {self.starts + 1} =====\n")
        log.flush()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            *args,
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=log,
            stdin=asyncio.subprocess.DEVNULL,
        )
        log.close()
        self.starts += 1
        deadline = asyncio.get_running_loop().time() + patient(START_TIMEOUT)
        while not ready(before):
            if self.process.returncode is not None:
                raise AssertionError(f"palabre run exited with {self.process.returncode}:\n{self.logs[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"palabre run did not start polling:\n{self.logs[-3000:]}")
            await asyncio.sleep(0.05)
        return self

    async def stop(self) -> None:
        """A clean stop (SIGTERM), as systemd would do it."""
        await self._end(signal.SIGTERM)

    async def kill(self) -> None:
        """A crash: SIGKILL, nothing gets to clean up."""
        await self._end(signal.SIGKILL)

    def freeze(self) -> None:
        """SIGSTOP: the process neither dies nor runs, and keeps its connections and files open."""
        assert self.process is not None and self.process.returncode is None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT: a frozen process runs again where it stopped."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    async def wait_log(self, text: str, *, count: int = 1, timeout: float = 30.0) -> None:
        """Wait until `text` appears `count` times in the process's log."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.logs.count(text) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{text!r} not logged {count} time(s) within {timeout}s:\n{self.logs[-3000:]}")
            await asyncio.sleep(0.05)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def _end(self, how: signal.Signals) -> None:
        if self.process is None:
            return
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process would not handle SIGTERM
            self.process.send_signal(how)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"palabre run did not stop on {how.name}:\n{self.logs[-3000:]}") from None
        self.process = None

    def _current_start_logs(self) -> str:
        return self.logs.rsplit(f"===== start {self.starts} =====", 1)[-1]

    async def caught_up(self, timeout: float = 60.0) -> None:
        """Wait until this start's scheduler ran every job that was due, and the outbox is empty.

        What a negative assertion needs after a start: anything the process would do on its own
        about the past has been done and delivered, so "nothing more came" is now a fact.
        """
        deadline = asyncio.get_running_loop().time() + patient(timeout)
        while CAUGHT_UP not in self._current_start_logs():
            if self.process is None or self.process.returncode is not None:
                raise AssertionError(f"palabre run is not running:\n{self.logs[-3000:]}")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the scheduler did not catch up:\n{self.logs[-3000:]}")
            await asyncio.sleep(0.05)
        await outbox_drained(self.database_url, deadline)

    def _polls(self) -> int:
        return sum(1 for method, _params in self.fake.requests if method == "getUpdates")


class PalabreFactory:
    """The `palabre` fixture: builds BotProcess objects sharing the test's fake server."""

    def __init__(self, fake: FakeTelegram, tmp_path: Path, database_url: str) -> None:
        self.fake = fake
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.processes: list[BotProcess] = []

    async def start(self, **env: Any) -> BotProcess:
        process = self.process(**env)
        return await process.start()

    def process(self, **env: Any) -> BotProcess:
        process = BotProcess(self.fake, self.tmp_path, self.database_url, {k: str(v) for k, v in env.items()})
        self.processes.append(process)
        return process

    async def close(self) -> None:
        for process in self.processes:
            await process.stop()


async def wait_for_log(processes: tuple[BotProcess, ...], line: str, timeout: float = 60.0) -> BotProcess:
    """Wait until one of `processes` logged `line` since its latest start; returns that process."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patient(timeout)
    while True:
        for process in processes:
            if line in process._current_start_logs():
                return process
        if loop.time() > deadline:
            raise AssertionError(f"no process logged {line!r}")
        await asyncio.sleep(0.05)


async def outbox_drained(database_url: str, deadline: float | None = None) -> None:
    """Wait until no outbox message is pending or in flight: each was delivered or given up."""
    loop = asyncio.get_running_loop()
    deadline = deadline if deadline is not None else loop.time() + patient(60.0)
    engine = make_engine(database_url)
    try:
        while True:
            async with make_sessionmaker(engine)() as session:
                figures = await outbox.delivery_figures(session)
            if figures.pending == 0:
                return
            if loop.time() > deadline:
                raise AssertionError(f"{figures.pending} outbox messages still pending")
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def onboard(user: FakeUser, language: str = "fr") -> dict[str, Any]:
    """Play a new resident through onboarding; returns the welcome message with the main menu.

    The optional profile is offered right after the welcome: waiting for it too keeps it from
    passing for the answer to the story's next step.
    """
    await user.send_command("/start")
    await user.wait_message("Palabre")
    await user.tap("Français" if language == "fr" else "English")
    await user.wait_message("Vos données" if language == "fr" else "Your data")
    await user.tap("J’accepte" if language == "fr" else "I agree")
    welcome = await user.wait_message("C’est parti" if language == "fr" else "You're all set")
    await user.wait_message(PROFILE_OFFER[language])
    return welcome


async def palabre_cli(bot: BotProcess, *args: str) -> str:
    """Run a `palabre` command beside the story's bot, on its database, as the operator would: its standard output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=bot.workdir,
        env=bot.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=patient(60))
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


async def import_categories(bot: BotProcess, folder: Path) -> str:
    """The report categories of tests/participation/reports_support.py, imported with `palabre categories import`."""
    path = folder / "categories.yaml"
    path.write_text(CATEGORIES_YAML, encoding="utf-8")
    return await palabre_cli(bot, "categories", "import", str(path))
