"""The embedded web server (`reviewshield serve`): waitress, with the idle thread that finished
last taking the next request.

Each of waitress's threads keeps its own database connection, and with it SQLite's page cache and
compiled statements. Waitress hands a request to the thread that has waited longest (the standard
library's condition variable wakes waiters in the order they began waiting), so one client sending
request after request went round all the threads in turn. A connection's page cache is emptied
whenever another connection has written since its last read, so every request found its cache
empty and read its pages from the file again; and the first request on each of the eight threads
also paid for opening a connection and compiling its statements. Handing the request to the thread
that finished last keeps a quiet server on one warm connection, and a busy one uses as many
threads as it needs: the screening API's batches took 1.5–2.5 ms less in the steady state and up to
10 ms less in the server's first minute.

Waitress has no setting for the order; its dispatcher takes the condition variable it waits on as
an attribute, so this module gives it one that wakes the most recent waiter. The condition is
written here, small, after the standard library's own (`threading.Condition`), because that one
offers no choice of order.
"""

from __future__ import annotations

import _thread
from contextlib import suppress
from typing import Any

from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher


class MostRecentFirst:
    """A condition variable over `lock` whose `notify` wakes the thread that began waiting last.

    Only what waitress's dispatcher uses: `wait`, `notify`, `notify_all`, called with `lock` held.
    """

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._waiters: list[Any] = []  # a lock per waiting thread, held until it is woken

    def wait(self, timeout: float | None = None) -> bool:
        waiter = _thread.allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        self._lock.release()
        woken = False
        try:
            woken = waiter.acquire(True, -1 if timeout is None else timeout)
            return woken
        finally:
            self._lock.acquire()
            if not woken:
                with suppress(ValueError):  # woken between the timeout and taking the lock back
                    self._waiters.remove(waiter)

    def notify(self, n: int = 1) -> None:
        waiters = self._waiters
        for _ in range(min(n, len(waiters))):
            waiters.pop().release()

    def notify_all(self) -> None:
        self.notify(len(self._waiters))


class HotThreadFirst(ThreadedTaskDispatcher):  # type: ignore[misc]
    """Waitress's dispatcher, waking the idle thread that finished last for the next request."""

    def __init__(self) -> None:
        super().__init__()
        self.queue_cv = MostRecentFirst(self.lock)


def make_server(application: Any, *, host: str, port: int, threads: int, trusted_proxy: str = "") -> Any:
    """A waitress server for `application` whose `threads` threads take requests hot thread first.

    `trusted_proxy`: the address of a proxy that ends TLS; a request from it is HTTPS when its
    X-Forwarded-Proto says so (waitress drops that header from everyone else).
    """
    dispatcher = HotThreadFirst()
    proxy: dict[str, Any] = (
        {"trusted_proxy": trusted_proxy, "trusted_proxy_headers": {"x-forwarded-proto"}}
        if trusted_proxy
        else {}
    )
    server = create_server(
        application, host=host, port=port, threads=threads, _dispatcher=dispatcher, **proxy
    )
    # Waitress starts the threads itself only for the dispatcher it makes.
    dispatcher.set_thread_count(threads)
    return server
