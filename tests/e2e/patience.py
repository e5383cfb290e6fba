"""How long end-to-end waits may last: the same deadlines stretched on a loaded machine.

Every wait of the e2e tests returns as soon as its event happens; only the deadline after which
it gives up grows, so a busy machine makes the suite slower, never red.
"""

from __future__ import annotations

import os


def slack() -> float:
    """The factor applied to deadlines: PALABRE_TEST_SLACK, else the load per core (1 to 8)."""
    configured = os.environ.get("PALABRE_TEST_SLACK")
    if configured:
        return max(1.0, float(configured))
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return min(8.0, max(1.0, load))


def patient(seconds: float) -> float:
    """A deadline of `seconds` on an idle machine, longer under load."""
    return seconds * slack()
