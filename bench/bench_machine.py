"""machine_loop_ms: how fast, and how steady, this machine runs plain Python right now.

Not a target: a yardstick for the other figures. The same VM has run the same code twice as fast on
one day as on another, and 1.5–2× slower for seconds at a time within one run; a figure that moved
by as much as this one did was moved by the machine. A fixed pure-Python workload (a million
additions) is timed 100 times, a few milliseconds apart, over about ten seconds: the median, and
the 95th percentile as the screening API's p95 would see the machine's own slow moments.
"""

from __future__ import annotations

import statistics
import time

from harness import Figures, figures

ROUNDS = 100


def machine_work() -> int:
    """The fixed workload (also timed between the screening API's batches)."""
    total = 0
    for i in range(1_000_000):
        total += i
    return total


@figures("machine_loop_ms", "machine_loop_p95_ms")
def machine_loop() -> Figures:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        machine_work()
        samples.append((time.perf_counter() - started) * 1000)
        time.sleep(0.03)  # spread over the seconds a benchmark takes, as its requests are
    p95 = statistics.quantiles(samples, n=100, method="inclusive")[94]
    return {
        "machine_loop_ms": (round(statistics.median(samples), 1), "ms"),
        "machine_loop_p95_ms": (round(p95, 1), "ms"),
    }
