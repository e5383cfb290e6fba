"""Start-up: from `palabre run` to its first getUpdates, migrations already applied.

Baseline, measured in the same run: a bare aiogram bot (one handler) started the same way, so the
figure can be read as a ratio on a shared, noisy machine. Also timed, as the floor any aiogram bot
pays before it can poll: `python -c "import aiogram"` alone (aiogram builds its ~300 pydantic
models at import).

    .venv/bin/python -m bench.startup [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.fake_telegram import FakeTelegram

BARE_BOT = """
import asyncio, os
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
dp = Dispatcher()
@dp.message()
async def echo(message):
    await message.answer("ok")
async def main():
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])))
    await dp.start_polling(bot, handle_signals=True)
asyncio.run(main())
"""


async def time_to_first_poll(fake: FakeTelegram, argv: list[str], env: dict[str, str], cwd: Path) -> float:
    before = sum(1 for method, _ in fake.requests if method == "getUpdates")
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        while sum(1 for method, _ in fake.requests if method == "getUpdates") == before:
            if process.returncode is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"{argv} did not start polling")
            await asyncio.sleep(0.005)
        return time.perf_counter() - started
    finally:
        process.terminate()
        await process.wait()


async def time_to_exit(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*argv, cwd=cwd, env=env)
    if await process.wait() != 0:
        raise RuntimeError(f"{argv} failed")
    return time.perf_counter() - started


async def main(runs: int) -> None:
    async with FakeTelegram() as fake:
        with tempfile.TemporaryDirectory() as workdir:
            cwd = Path(workdir)
            env = {
                **os.environ,
                "BOT_TOKEN": fake.token,
                "TELEGRAM_API_URL": fake.base_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{cwd / 'palabre.db'}",
                "HTTP_PORT": "0",
                "LOG_LEVEL": "WARNING",
            }
            palabre = [sys.executable, "-m", "bot.cli", "run"]
            bare = [sys.executable, "-c", BARE_BOT]
            await time_to_first_poll(fake, palabre, env, cwd)  # applies the migrations once
            palabre_times, bare_times, import_times = [], [], []
            for _ in range(runs):  # interleaved, so that machine noise hits all alike
                # os._exit: the interpreter's tear-down of aiogram's models is not part of starting up.
                import_times.append(await time_to_exit([sys.executable, "-c", "import os, aiogram; os._exit(0)"], env, cwd))
                bare_times.append(await time_to_first_poll(fake, bare, env, cwd))
                palabre_times.append(await time_to_first_poll(fake, palabre, env, cwd))
    p, b, i = statistics.median(palabre_times), statistics.median(bare_times), statistics.median(import_times)
    print(f"start-up to first getUpdates, median of {runs} (min–max):")
    print(f"  palabre run    : {p:.2f} s ({min(palabre_times):.2f}–{max(palabre_times):.2f})   goal < 2 s")
    print(f"  bare aiogram   : {b:.2f} s ({min(bare_times):.2f}–{max(bare_times):.2f})")
    print(f"  import aiogram : {i:.2f} s ({min(import_times):.2f}–{max(import_times):.2f})   the floor of any aiogram bot")
    print(f"  ratio          : {p / b:.2f}× the bare bot; Palabre's own share {p - i:.2f} s")


if __name__ == "__main__":
    from bench import use_bench_key

    use_bench_key()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    asyncio.run(main(parser.parse_args().runs))
