"""Broadcast: the outbox sender delivering to 10,000 (and 100,000) recipients through a fake Bot API.

Three processes per scenario, so that none competes with another for the event loop:
- the fake Bot API server (tests/e2e/fake_telegram/) on 127.0.0.1, enforcing the configured rate
  as Telegram enforces its own (429 with retry_after beyond it), one message per second per chat;
- the sender (bot/sender.py's OutboxSender at that rate) over an SQLite outbox filled in bulk
  beforehand, run until every message is sent; its peak memory is its own;
- this process, which sets up, starts both and reads the figures.

The achieved rate is counted by the server: accepted sendMessage calls between the first and the
last, divided by the time between them. Each process also reports the CPU time it used, per
message: on a machine of two cores, it tells whether the sender or the fake is the limit.

    .venv/bin/python -m bench.broadcast [--scenarios 25:10000,500:10000,500:100000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import use_bench_key

FIRST_CHAT = 5_000_000
TEXT = "📣 <b>Réunion publique</b> jeudi à 19 h à la salle des fêtes : venez nombreux !"


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux keeps it across exec, so a
    subprocess would report its parent's peak if that was higher."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


# --- The fake Bot API server, in its own process ---------------------------------------------------


async def freeze_every_second() -> None:
    while True:
        gc.freeze()
        await asyncio.sleep(1.0)


async def serve(rate: int, chats: int) -> None:
    from tests.e2e.fake_telegram import FakeTelegram

    fake = FakeTelegram(global_per_second=rate, per_chat_per_second=1)
    accepted: list[float] = []
    send = fake._handlers["sendmessage"]

    def timed_send(call: Any) -> Any:
        result = send(call)  # raises on 429: only accepted sends are timed
        accepted.append(time.monotonic())
        return result

    fake._handlers["sendmessage"] = timed_send
    for chat_id in range(FIRST_CHAT, FIRST_CHAT + chats):  # residents who once wrote to the bot
        fake._open_chat({"id": chat_id, "type": "private", "first_name": "Camille"})
    await fake.start()
    # What the fake holds is kept to the end: out of the collector's reach, whose pauses it would measure (RESULTS.md §6).
    freezer = asyncio.create_task(freeze_every_second())
    cpu_before = time.process_time()  # serving only: not the imports nor opening the chats
    print(json.dumps({"token": fake.token, "url": fake.base_url}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "stats" from the parent
    span = accepted[-1] - accepted[0] if len(accepted) > 1 else 0.0
    cpu = time.process_time() - cpu_before
    freezer.cancel()
    print(json.dumps({"accepted": len(accepted), "span": span, "count_429": fake.count_429, "server_cpu": cpu}), flush=True)
    await fake.stop()


# --- The sender, in its own process -------------------------------------------------------------


async def send(db: Path, url: str, token: str, rate: float) -> dict[str, float]:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode
    from sqlalchemy import func, select

    from bot.sender import OutboxSender
    from participation.outbox import Status
    from storage.db import make_engine, make_sessionmaker
    from storage.models import OutboxMessage

    gc.freeze()  # as `palabre run` does once its imports are done (bot/cli/run.py)
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    sessionmaker = make_sessionmaker(engine)
    # Built like bot/app.py's sender client: no reply retry, it paces and postpones by itself.
    bot = Bot(
        token,
        session=AiohttpSession(api=TelegramAPIServer.from_base(url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    sender = OutboxSender(bot, sessionmaker, rate=rate)
    start_mb = rss_mb()
    started = time.perf_counter()
    cpu_before = time.process_time()  # every thread of the process: aiosqlite's included
    task = asyncio.create_task(sender.run())
    while True:
        await asyncio.sleep(0.5)
        async with sessionmaker() as session:
            left = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_([Status.PENDING, Status.SENDING]))
            )
        if not left:
            break
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    await sender.stop()
    await task
    async with sessionmaker() as session:
        counts = dict((await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))).all())
    await bot.session.close()
    await engine.dispose()
    return {
        "seconds": seconds,
        "sender_cpu": cpu,
        "sent": counts.get("sent", 0),
        "failed": counts.get("failed", 0),
        "start_mb": start_mb,
        "peak_mb": peak_mb(),
    }


# --- Orchestration ----------------------------------------------------------------------------


def fill_outbox(db: Path, recipients: int) -> None:
    """A migrated database whose outbox holds one due message per recipient (bulk insert)."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{db}")
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(migrate())
    due = (datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    from storage import crypto

    # Encrypted as the outbox stores it (storage.crypto.EncryptedJSON): the sender decrypts each.
    payload = crypto.encrypt(json.dumps({"text": TEXT}, ensure_ascii=False, separators=(",", ":")))
    connection = sqlite3.connect(db)
    with connection:
        connection.executemany(
            "INSERT INTO outbox_message (chat_id, method, payload, kind, broadcast_id, status, attempts, not_before, created_at)"
            " VALUES (?, 'sendMessage', ?, 'broadcast', 1, 'pending', 0, ?, ?)",
            ((chat_id, payload, due, due) for chat_id in range(FIRST_CHAT, FIRST_CHAT + recipients)),
        )
    connection.close()


def load_average() -> float:
    with open("/proc/loadavg") as loadavg:
        return float(loadavg.read().split()[0])


def scenario(rate: int, recipients: int, workdir: Path) -> dict[str, float]:
    db = workdir / f"outbox-{rate}-{recipients}.db"
    fill_outbox(db, recipients)
    load_before = load_average()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.broadcast", "--serve", str(rate), "--chats", str(recipients)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        where = json.loads(server.stdout.readline())
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.broadcast",
                "--send",
                str(rate),
                "--db",
                str(db),
                "--url",
                where["url"],
                "--token",
                where["token"],
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        sender = json.loads(out.stdout.strip().splitlines()[-1])
        server.stdin.write("stats\n")
        server.stdin.flush()
        stats = json.loads(server.stdout.readline())
    finally:
        server.wait(timeout=30)
    achieved = (stats["accepted"] - 1) / stats["span"] if stats["span"] else 0.0
    return {
        "rate": rate,
        "recipients": recipients,
        "achieved": achieved,
        **stats,
        **sender,
        "load_before": load_before,
        "load_after": load_average(),
    }


def run(scenarios: list[tuple[int, int]], workdir: Path, *, quiet: bool = False) -> list[dict[str, float]]:
    figures = []
    if not quiet:
        print("broadcast: OutboxSender → fake Bot API (own process, enforcing the rate), SQLite outbox")
        print(
            f"  {'rate':>5} {'recipients':>10} {'achieved/s':>10} {'of rate':>8} {'429s':>5} {'sent':>8} {'seconds':>8}"
            f" {'sender RSS start→peak MB':>25} {'CPU ms/msg sender':>17} {'fake':>5} {'load':>11}"
        )
    for rate, recipients in scenarios:
        f = scenario(rate, recipients, workdir)
        figures.append(f)
        if not quiet:
            print(
                f"  {rate:>5} {recipients:>10,} {f['achieved']:>10.1f} {100 * f['achieved'] / rate:>7.1f}% {f['count_429']:>5.0f}"
                f" {f['sent']:>8,.0f} {f['seconds']:>8.1f} {f['start_mb']:>14.0f} → {f['peak_mb']:<8.0f}"
                f" {1000 * f['sender_cpu'] / max(1, f['sent']):>17.2f} {1000 * f['server_cpu'] / max(1, f['accepted']):>5.2f}"
                f" {f['load_before']:>5.2f}→{f['load_after']:<5.2f}",
                flush=True,
            )
    if not quiet:
        print("  goal: ≥ 95 % of the rate, no 429, peak memory flat in the number of recipients")
    return figures


def main(argv: list[str] | None = None) -> None:
    use_bench_key()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="25:10000,500:10000,500:100000", help="RATE:RECIPIENTS, comma-separated")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--chats", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--send", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(serve(args.serve, args.chats))
    elif args.send:
        print(json.dumps(asyncio.run(send(args.db, args.url, args.token, args.send))))
    else:
        scenarios = [tuple(int(x) for x in item.split(":")) for item in args.scenarios.split(",")]
        with tempfile.TemporaryDirectory() as workdir:
            run(scenarios, Path(workdir))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
