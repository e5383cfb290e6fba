"""Benchmarks: they print figures; they are not tests and assert nothing about time."""

from __future__ import annotations

import os

# Personal fields are encrypted at rest, in benchmarks as in production: a fixed throwaway key.
BENCH_DATA_KEY = "YmVuY2gta2V5LXBhbGFicmUtYmVuY2gta2V5LTMyYnk="


def use_bench_key() -> None:
    """Give this process, and the ones it starts (`palabre run`, steps), the benchmarks' key."""
    from storage.crypto import install_keys

    os.environ.setdefault("DATA_KEY", BENCH_DATA_KEY)
    install_keys(os.environ["DATA_KEY"])
