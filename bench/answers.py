"""Answer throughput: residents answering a consultation through the real dispatcher, on SQLite.

Every update goes through `Dispatcher.feed_update` with Palabre's middlewares and handlers and a
bot session that records instead of sending. Residents are already onboarded and inside the
consultation (their response begun), so what is measured is answering: one tap on a choice per
update, which checks the tap, saves the answer, moves on and redraws the next question.

Baseline, in the same run and on the same database settings: a bare aiogram dispatcher whose only
handler does what any durable bot must do — one insert and one commit — and answers the callback.

    .venv/bin/python -m bench.answers [--residents 300] [--questions 10] [--levels 1,10,100]

With `--latency-ms`, the other measure (issue 12): the bot session answers every Bot API call
after that many milliseconds, as Telegram does, and N residents tap at once (N in `--at-once`),
each answering every question, on each backend of `--backend` (PostgreSQL from TEST_POSTGRES_URL,
a fresh database per run). It prints answers/s, p50, p99 and the taps lost (not stored).

    .venv/bin/python -m bench.answers --latency-ms 0,50,100 --at-once 1,10,100 --backend sqlite,postgres
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from sqlalchemy import event, func, select, text

from bench import use_bench_key
from bot.app import build_dispatcher
from bot.i18n import build_i18n, compile_catalogs
from config.settings import Settings
from notices.consultations import Act
from participation import audit
from participation import consultations as domain
from participation.consultation_file import parse_consultation_file
from participation.privacy import NOTICE_VERSION
from storage.db import SessionMaker, make_engine, make_sessionmaker
from storage.migrate import upgrade
from storage.models import ConsultationAnswer, Resident

TOKEN = "123456:BENCH-token"
CHOICES = 3


class CountingSession(BaseSession):
    """A bot session that answers like Telegram would and only counts what was asked."""

    def __init__(self, latency: float = 0.0) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self._ids = itertools.count(1000)
        self._latency = latency

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if self._latency:
            await asyncio.sleep(self._latency)  # the round trip to Telegram
        name = type(method).__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        if "Message" in str(method.__returning__):
            chat_id = int(getattr(method, "chat_id", None) or 0)
            return Message(message_id=next(self._ids), date=datetime.now(UTC), chat=Chat(id=chat_id, type="private"))
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        raise NotImplementedError
        yield b""  # pragma: no cover


def consultation_yaml(questions: int) -> str:
    lines = [
        "slug: bench",
        "title: {fr: Banc d’essai, en: Bench}",
        "opens_at: 2020-01-01T08:00:00+01:00",
        "closes_at: 2099-12-15T20:00:00+01:00",
        "questions:",
    ]
    for q in range(questions):
        lines += [
            f"  - id: q{q}",
            "    type: single",
            f'    prompt: {{fr: "Question {q} ?", en: "Question {q}?"}}',
            "    choices:",
            *[f"      - {{id: c{c}, label: {{fr: Choix {c}, en: Choice {c}}}}}" for c in range(CHOICES)],
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Seat:
    """One resident ready to answer: their Telegram id and the id of their begun response."""

    user_id: int
    response_id: int


async def prepare(sessionmaker: SessionMaker, settings: Settings, *, first_id: int, residents: int, questions: int) -> list[Seat]:
    """Residents with consent, each with a begun response (at question 1)."""
    seats = []
    async with sessionmaker.begin() as session:
        consultation = await domain.get_by_slug(session, "bench")
        if consultation is None:
            spec = parse_consultation_file(consultation_yaml(questions), "fr", settings.tz)
            consultation, _ = await domain.import_consultation(session, spec, actor_telegram_id=None, source=audit.Source.CLI)
            await session.flush()
        for user_id in range(first_id, first_id + residents):
            resident = Resident(telegram_id=user_id, locale="fr", consent_at=datetime.now(UTC), consent_version=NOTICE_VERSION)
            session.add(resident)
            await session.flush()
            view = await domain.begin(session, consultation, resident)
            seats.append(Seat(user_id, view.response.id))  # type: ignore[arg-type]
    return seats


_update_ids = itertools.count(1)


def tap(seat: Seat, data: str) -> Update:
    user = User(id=seat.user_id, is_bot=False, first_name="Camille", language_code="fr")
    chat = Chat(id=seat.user_id, type="private")
    message = Message(message_id=1, date=datetime.now(UTC), chat=chat, text="(question)")
    return Update(
        update_id=next(_update_ids),
        callback_query=CallbackQuery(id=str(next(_update_ids)), from_user=user, chat_instance="ci", message=message, data=data),
    )


async def play(dp: Dispatcher, bot: Bot, seats: list[Seat], questions: int, concurrency: int) -> tuple[float, list[float]]:
    """Each worker takes the next resident and answers all their questions; returns (wall time, latencies)."""
    queue: asyncio.Queue[Seat] = asyncio.Queue()
    for seat in seats:
        queue.put_nowait(seat)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            seat = queue.get_nowait()
            for q in range(questions):
                # After answering question q the response is at step q + 1 and question q + 1.
                update = tap(seat, Act(r=seat.response_id, s=q, q=q, a="c", v=q % CHOICES).pack())
                started = time.perf_counter()
                await dp.feed_update(bot, update)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies


def bare_dispatcher(sessionmaker: SessionMaker) -> Dispatcher:
    """The baseline: one insert and one commit per update, then the callback is answered."""
    dp = Dispatcher()

    @dp.callback_query()
    async def on_tap(query: CallbackQuery) -> None:
        async with sessionmaker() as session:
            await session.execute(
                text("INSERT INTO bench_event (user_id, data, at) VALUES (:u, :d, :t)"),
                {"u": query.from_user.id, "d": query.data, "t": datetime.now(UTC).isoformat()},
            )
            await session.commit()
        await query.answer()

    return dp


@dataclass
class Figures:
    answers: int
    wall: float
    p50: float
    p99: float
    statements: int = 0  # SQL statements sent to the database, commits included

    @property
    def per_second(self) -> float:
        return self.answers / self.wall

    @property
    def cost(self) -> float:
        """Wall time per answer (with concurrency, what the process spends per update)."""
        return self.wall / self.answers


def figures(wall: float, latencies: list[float]) -> Figures:
    ordered = sorted(latencies)
    return Figures(len(ordered), wall, statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))])


async def run(
    residents: int, questions: int, levels: list[int], workdir: Path, *, quiet: bool = False
) -> dict[int, tuple[Figures, Figures]]:
    compile_catalogs()
    settings = Settings(bot_token=TOKEN, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'palabre.db'}")
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE bench_event (id INTEGER PRIMARY KEY, user_id BIGINT, data TEXT, at TEXT)"))
    sessionmaker = make_sessionmaker(engine)
    palabre_dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    bare_dp = bare_dispatcher(sessionmaker)
    palabre_bot = Bot(TOKEN, session=reply_session(0, settings))
    bare_bot = Bot(TOKEN, session=CountingSession())
    out: dict[int, tuple[Figures, Figures]] = {}
    # Statements per update, counted at the driver: unlike times, they do not depend on the machine.
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        statements[0] += 1

    @event.listens_for(engine.sync_engine, "commit")
    def _count_commit(*_args: Any) -> None:
        statements[0] += 1

    first_id = 1_000_000
    gc.freeze()  # as `palabre run` does once its imports are done (bot/cli/run.py)
    # Warm-up: imports, compiled queries and caches, so that the first level is not penalised.
    warm = await prepare(sessionmaker, settings, first_id=first_id, residents=5, questions=questions)
    first_id += 5
    await play(palabre_dp, palabre_bot, warm, questions, 5)
    await play(bare_dp, bare_bot, [Seat(s.user_id, s.response_id) for s in warm], questions, 5)
    for level in levels:
        seats = await prepare(sessionmaker, settings, first_id=first_id, residents=residents, questions=questions)
        first_id += residents
        # Interleaved in the same run, so that machine noise hits both alike.
        before = statements[0]
        bare_wall, bare_lat = await play(bare_dp, bare_bot, seats, questions, level)
        bare_statements, before = statements[0] - before, statements[0]
        wall, lat = await play(palabre_dp, palabre_bot, seats, questions, level)
        palabre_figures, bare_figures = figures(wall, lat), figures(bare_wall, bare_lat)
        palabre_figures.statements, bare_figures.statements = statements[0] - before, bare_statements
        out[level] = (palabre_figures, bare_figures)
    async with sessionmaker() as session:
        saved = await session.scalar(select(func.count()).select_from(ConsultationAnswer))
    expected = (5 + residents * len(levels)) * questions
    if saved != expected:  # a refused tap would make the figures meaningless
        raise RuntimeError(f"{saved} answers saved, {expected} expected: some taps were refused")
    await engine.dispose()
    if not quiet:
        report(out, residents, questions)
    return out


def report(out: dict[int, tuple[Figures, Figures]], residents: int, questions: int) -> None:
    print(f"answer throughput: {residents} residents × {questions} questions per level, SQLite, feed_update")
    print(
        f"  {'concurrent':>10} {'palabre/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'baseline/s':>11} {'p50 ms':>8} {'p99 ms':>8} {'cost ratio':>11}"
    )
    for level, (p, b) in out.items():
        print(
            f"  {level:>10} {p.per_second:>10.0f} {p.p50 * 1000:>8.1f} {p.p99 * 1000:>8.1f}"
            f" {b.per_second:>11.0f} {b.p50 * 1000:>8.1f} {b.p99 * 1000:>8.1f} {p.cost / b.cost:>10.2f}×"
        )
    p, b = next(iter(out.values()))
    print(
        f"  SQL statements per update (commit included): palabre {p.statements / p.answers:.1f}, baseline {b.statements / b.answers:.1f}"
    )
    print("  goal: cost ratio (palabre time per answer / baseline time per update) ≤ 2×")


def reply_session(latency: float, settings: Settings) -> CountingSession:
    """A counting session with the request middlewares `palabre run` gives its reply Bot."""
    session = CountingSession(latency)
    try:
        from bot.app import reply_middlewares
    except ImportError:  # the code before issue 12, measured once for bench/RESULTS.md
        from bot.response_models import HoldResponseModels
        from bot.retry import RetryShortFloodWait

        middlewares: list[Any] = [HoldResponseModels(), RetryShortFloodWait()]
    else:
        middlewares = reply_middlewares(settings)
    for middleware in middlewares:
        session.middleware(middleware)
    return session


@dataclass
class AtOnce:
    backend: str
    latency_ms: int
    residents: int
    taps: int
    stored: int
    wall: float
    p50: float
    p99: float

    @property
    def lost(self) -> int:
        return self.taps - self.stored

    @property
    def per_second(self) -> float:
        return self.stored / self.wall


async def fresh_postgres(server_url: str) -> tuple[str, Any]:
    """A new database on the server of TEST_POSTGRES_URL; returns its URL and a dropper."""
    from sqlalchemy.ext.asyncio import create_async_engine

    name = f"bench_{next(_update_ids)}_{int(time.time())}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    return server_url.rsplit("/", 1)[0] + "/" + name, drop


async def at_once(backend: str, latency_ms: int, residents: int, questions: int, workdir: Path) -> AtOnce:
    """`residents` residents tap at the same moment, each through all the questions; nothing raises."""
    compile_catalogs()
    settings = Settings(bot_token=TOKEN, _env_file=None)  # type: ignore[call-arg]
    drop = None
    if backend == "postgres":
        import os

        server = os.environ.get("TEST_POSTGRES_URL")
        if not server:
            raise SystemExit("--backend postgres needs TEST_POSTGRES_URL (source scripts/services)")
        url, drop = await fresh_postgres(server)
    else:
        url = f"sqlite+aiosqlite:///{workdir / f'at-once-{latency_ms}-{residents}.db'}"
    engine = make_engine(url)
    await upgrade(engine)
    sessionmaker = make_sessionmaker(engine)
    dp = build_dispatcher(settings, sessionmaker, build_i18n(settings.default_locale))
    bot = Bot(TOKEN, session=reply_session(latency_ms / 1000, settings))
    seats = await prepare(sessionmaker, settings, first_id=2_000_000, residents=residents, questions=questions)
    latencies: list[float] = []

    async def resident(seat: Seat) -> None:
        for q in range(questions):
            update = tap(seat, Act(r=seat.response_id, s=q, q=q, a="c", v=q % CHOICES).pack())
            started = time.perf_counter()
            with contextlib.suppress(Exception):  # a failed tap is counted as lost below
                await dp.feed_update(bot, update)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(resident(seat) for seat in seats))
    wall = time.perf_counter() - started
    async with sessionmaker() as session:
        stored = await session.scalar(select(func.count()).select_from(ConsultationAnswer))
    await engine.dispose()
    if drop is not None:
        await drop()
    ordered = sorted(latencies)
    return AtOnce(
        backend,
        latency_ms,
        residents,
        residents * questions,
        int(stored or 0),
        wall,
        statistics.median(ordered),
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
    )


async def run_at_once(
    backends: list[str], latencies: list[int], levels: list[int], questions: int, workdir: Path
) -> list[AtOnce]:
    print(f"residents tapping at once, {questions} questions each, Bot API answering after the latency")
    print(f"  {'backend':>8} {'latency':>8} {'residents':>9} {'answers/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'lost':>9}")
    out = []
    for latency in latencies:
        for level in levels:
            for backend in backends:  # interleaved, so that machine noise hits both alike
                figures = await at_once(backend, latency, level, questions, workdir)
                out.append(figures)
                print(
                    f"  {backend:>8} {latency:>6}ms {level:>9} {figures.per_second:>10.1f} {figures.p50 * 1000:>8.0f}"
                    f" {figures.p99 * 1000:>8.0f} {figures.lost:>4}/{figures.taps:<4}",
                    flush=True,
                )
    return out


def main(argv: list[str] | None = None) -> None:
    use_bench_key()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=300, help="residents per concurrency level")
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--levels", default="1,10,100", help="concurrent residents, comma-separated")
    parser.add_argument("--latency-ms", help="Bot API latencies, comma-separated (e.g. 0,50,100): residents tapping at once")
    parser.add_argument("--at-once", default="1,10,100", help="with --latency-ms: residents tapping at once")
    parser.add_argument("--backend", default="sqlite", help="with --latency-ms: sqlite, postgres or both")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        if args.latency_ms is not None:
            asyncio.run(
                run_at_once(
                    args.backend.split(","),
                    [int(x) for x in args.latency_ms.split(",")],
                    [int(x) for x in args.at_once.split(",")],
                    args.questions,
                    Path(workdir),
                )
            )
        else:
            asyncio.run(run(args.residents, args.questions, [int(x) for x in args.levels.split(",")], Path(workdir)))


if __name__ == "__main__":
    main()
