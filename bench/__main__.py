"""Every benchmark in one command: `.venv/bin/python -m bench [--quick]`.

They print their figures; compare them as ratios within one run (the machine may be shared).
`--quick` runs each at a small size, to check that the code still works (a minute or two).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import answers, broadcast, results, startup, use_bench_key, weighting


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} CPUs ({cpu}) · load {load} · Python {platform.python_version()}"


def main() -> None:
    use_bench_key()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the code, not the figures")
    parser.add_argument("--only", choices=["answers", "broadcast", "results", "startup", "weighting"], action="append")
    args = parser.parse_args()
    chosen = args.only or ["answers", "broadcast", "results", "startup", "weighting"]
    print(machine(), flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for name in chosen:
            started = time.perf_counter()
            print(flush=True)
            if name == "answers":
                asyncio.run(
                    answers.run(30 if args.quick else 300, 10, [1, 10, 100] if not args.quick else [1, 10], Path(workdir))
                )
            elif name == "broadcast":
                broadcast.run(
                    [(25, 50), (500, 1000)] if args.quick else [(25, 10_000), (500, 10_000), (500, 100_000)], Path(workdir)
                )
            elif name == "results":
                results.run(2_000 if args.quick else 100_000, Path(workdir))
            elif name == "weighting":
                weighting.run(2_000 if args.quick else 100_000)
            else:
                asyncio.run(startup.main(2 if args.quick else 7))
            print(
                f"  ({name}: {time.perf_counter() - started:.0f} s; load after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])})",
                flush=True,
            )


if __name__ == "__main__":
    main()
