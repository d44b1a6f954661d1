"""Deadline worker benchmarks, on PostgreSQL (database `reviewshield_bench`, dropped and rebuilt).

- deadline_claims_per_s, deadline_duplicates: 1,000,000 due deadlines of a no-op kind; two real
  `reviewshield worker` processes claim and fire them (a transaction per batch, with run rows) for
  a fixed time. claims/s counts deadlines fired per second once both are up; duplicates counts
  deadlines with more than one run row (must be 0). Target ≥ 2,000/s.
- due_scan_ratio: the time to claim 1,000 due deadlines among 1,000,000 pending future ones,
  divided by the time among 10,000 (median of several claims, each rolled back). Target ≤ 2: the
  partial index on `available_at` makes the scan cost independent of the backlog.

$REVIEWSHIELD_BENCH_PG overrides the database URL (default postgres://postgres@127.0.0.1:5432/reviewshield_bench).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta

import psycopg

from harness import Figures, figures, setup_django

BENCH_URL = os.environ.get("REVIEWSHIELD_BENCH_PG", "postgres://postgres@127.0.0.1:5432/reviewshield_bench")
WORKERS = 2
BATCH = int(os.environ.get("REVIEWSHIELD_BENCH_BATCH", "500"))
RUN_SECONDS = float(os.environ.get("REVIEWSHIELD_BENCH_SECONDS", "20"))


def _fresh_database() -> None:
    """Drop and recreate the benchmark database, then migrate it (through Django)."""
    base, _, name = BENCH_URL.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    setup_django(BENCH_URL)


def _insert_pending(n: int, *, start: str, step: str, kind: str = "test.noop") -> None:
    """INSERT … SELECT generate_series: n open deadlines due at start + g·step (SQL intervals)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO deadlines_deadline (kind, due_at, available_at, provisional, payload, claimed_by, "
            "attempts, last_error, outcome, created_at) "
            "SELECT %s, t, t, false, '{}'::jsonb, '', 0, '', '', now() "
            f"FROM generate_series(1, %s) AS g, LATERAL (SELECT now() + {start} + g * {step} AS t) AS due",
            [kind, n],
        )
        cursor.execute("VACUUM ANALYZE deadlines_deadline")


def _count(sql: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


@figures("deadline_claims_per_s", "deadline_duplicates")
def bench_claims() -> Figures:
    _fresh_database()
    # All due: spread over the last hour so ORDER BY available_at has real work to do.
    _insert_pending(1_000_000, start="interval '-1 hour'", step="interval '3 milliseconds'")
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_URL,
        "REVIEWSHIELD_HANDLER_MODULES": "reviewshield.deadlines.testing",
        "REVIEWSHIELD_LOG_LEVEL": "WARNING",
    }
    args = ["--skip-checks", "--batch", str(BATCH), "--lease-seconds", "60", "--idle-sleep", "0.2"]
    procs = [
        subprocess.Popen([sys.executable, "-m", "reviewshield", "worker", *args], env=env)
        for _ in range(WORKERS)
    ]
    runs_sql = "SELECT count(*) FROM deadlines_deadlinerun"
    try:
        # Start the clock once both workers have fired something (Django start-up is not the subject).
        deadline = time.monotonic() + 60
        while _count("SELECT count(DISTINCT worker) FROM deadlines_deadlinerun") < WORKERS:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("workers did not start")
            time.sleep(0.1)
        t0, n0 = time.monotonic(), _count(runs_sql)
        time.sleep(RUN_SECONDS)
        t1, n1 = time.monotonic(), _count(runs_sql)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
    duplicates = _count(
        "SELECT count(*) FROM (SELECT deadline_id FROM deadlines_deadlinerun GROUP BY deadline_id "
        "HAVING count(*) > 1) AS dup"
    )
    return {
        "deadline_claims_per_s": ((n1 - n0) / (t1 - t0), "claims/s"),
        "deadline_duplicates": (duplicates, "count"),
    }


def _median_claim_seconds(repetitions: int = 9) -> float:
    from django.db import transaction
    from django.utils import timezone

    from reviewshield.deadlines.claiming import deadlines_claim

    timings = []
    for i in range(repetitions + 1):
        with transaction.atomic():
            started = time.perf_counter()
            ids = deadlines_claim(worker="bench", now=timezone.now(), limit=1000, lease=timedelta(seconds=60))
            elapsed = time.perf_counter() - started
            # Roll back: every repetition claims the same 1,000 rows from the same state.
            transaction.set_rollback(True)
        if len(ids) != 1000:
            raise RuntimeError(f"claimed {len(ids)} deadlines, expected 1000")
        if i:  # the first one warms the caches
            timings.append(elapsed)
    return statistics.median(timings)


@figures("due_scan_ratio")
def bench_due_scan() -> Figures:
    _fresh_database()
    _insert_pending(1_000, start="interval '-1 hour'", step="interval '1 second'")
    _insert_pending(10_000, start="interval '1 day'", step="interval '1 second'")
    small = _median_claim_seconds()
    _insert_pending(990_000, start="interval '1 day'", step="interval '1 second'")
    large = _median_claim_seconds()
    return {"due_scan_ratio": (large / small, "ratio")}
