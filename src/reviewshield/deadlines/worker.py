"""The deadline worker loop: claim due deadlines, fire them, sleep when nothing is due.

Run it as `reviewshield worker` (its own process; as many as you like, on any hosts sharing the
database) or inside the web process via `start_worker_thread` (`make run`). Stopping is clean on
SIGTERM/SIGINT: the batch in hand is finished and committed, then the loop exits. Killing it
harder is safe as well — the open batch rolls back and its leases run out (see `claiming`).

Extra handler modules (tests, benchmarks) are named in $REVIEWSHIELD_HANDLER_MODULES
(comma-separated) and imported at start, so worker subprocesses know the same kinds as their parent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.deadlines.scheduling import load_handler_modules

log = logging.getLogger(__name__)

RETRY_SLEEP_MAX = 30.0

# Duties that are not deadlines but run on every worker every so often (signing log checkpoints).
# Each must be safe to run on several workers at once; apps register them in `AppConfig.ready`.
PERIODIC: dict[str, tuple[float, Callable[[datetime], Any]]] = {}


def periodic(
    name: str, every_seconds: float
) -> Callable[[Callable[[datetime], Any]], Callable[[datetime], Any]]:
    def wrap(fn: Callable[[datetime], Any]) -> Callable[[datetime], Any]:
        PERIODIC[name] = (every_seconds, fn)
        return fn

    return wrap


def _run_periodic(last: dict[str, float], clock: float) -> None:
    for name, (every, fn) in PERIODIC.items():
        if clock - last.get(name, float("-inf")) < every:
            continue
        last[name] = clock
        try:
            fn(timezone.now())
        except Exception:
            log.exception("periodic duty %s failed; it runs again in %ss", name, every)


def default_worker_name() -> str:
    """hostname:pid:random — unique per process run, so a restarted worker never owns old leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"[:100]


def _install_stop_signals(stop: threading.Event) -> dict[int, Any]:
    """Turn SIGTERM/SIGINT into `stop`; returns the previous handlers to restore."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s; finishing the current batch", signal.Signals(signum).name)
        # Setting the Event here could deadlock: the handler runs in the main thread, which may be
        # inside Event.wait() holding the Event's internal lock. A helper thread takes it instead.
        threading.Thread(target=stop.set, daemon=True).start()

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, on_signal)
    return previous


def run_worker(
    *,
    name: str | None = None,
    batch: int = 200,
    lease: timedelta = timedelta(seconds=60),
    idle_sleep: float = 1.0,
    stop: threading.Event | None = None,
    max_idle_loops: int | None = None,
) -> int:
    """Loop until `stop` is set (or a signal arrives, or `max_idle_loops` empty claims in a row).

    Returns how many deadlines this worker settled.
    """
    name = name or default_worker_name()
    stop = stop or threading.Event()
    load_handler_modules()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = _install_stop_signals(stop) if in_main_thread else {}
    log.info("deadline worker %s started (batch %s, lease %ss)", name, batch, lease.total_seconds())
    settled = 0
    idle_loops = 0
    failures = 0
    duties: dict[str, float] = {}
    try:
        while not stop.is_set():
            _run_periodic(duties, time.monotonic())
            try:
                n = deadlines_run_once(worker=name, now=timezone.now(), limit=batch, lease=lease)
            except Exception as exc:
                # Lost connection, server restart, failover, or a bug outside the handlers (those
                # are caught per deadline): the batch rolled back, and its claims fall due again
                # when their lease ends. Log, back off, come back — a worker must not just die.
                failures += 1
                wait = min(max(idle_sleep, 0.1) * 2 ** min(failures, 6), RETRY_SLEEP_MAX)
                if isinstance(exc, DatabaseError):
                    log.warning("deadline worker %s: database error (%s); retrying in %.1fs", name, exc, wait)
                    _drop_connection()
                else:
                    log.exception("deadline worker %s: unexpected error; retrying in %.1fs", name, wait)
                stop.wait(wait)
                continue
            failures = 0
            if n:
                settled += n
                idle_loops = 0
                continue
            idle_loops += 1
            if max_idle_loops is not None and idle_loops >= max_idle_loops:
                break
            # Between busy streaks, give back a connection that has aged out or gone bad, so an
            # idle worker does not sit on a dead socket (CONN_MAX_AGE applies as in a request).
            close_old_connections()
            stop.wait(idle_sleep)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if not in_main_thread:
            connection.close()  # connections are per thread; do not leak this one
    log.info("deadline worker %s stopped after %s deadlines", name, settled)
    return settled


def _drop_connection() -> None:
    # Closing a broken connection may raise; Django forgets the connection either way.
    with contextlib.suppress(DatabaseError):
        connection.close()


def start_worker_thread(
    *,
    name: str | None = None,
    batch: int = 200,
    lease: timedelta = timedelta(seconds=60),
    idle_sleep: float = 1.0,
) -> tuple[threading.Thread, threading.Event]:
    """Run the worker in a daemon thread beside the web server; set the event to stop it.

    Signals stay with the server (only the main thread may handle them): on shutdown, set the
    event and join the thread so the batch in hand commits.
    """
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        kwargs={"name": name, "batch": batch, "lease": lease, "idle_sleep": idle_sleep, "stop": stop},
        name="deadline-worker",
        daemon=True,
    )
    thread.start()
    return thread, stop
