"""The embedded server hands each request to the idle thread that finished last (`reviewshield.webserver`)."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from reviewshield.webserver import HotThreadFirst, MostRecentFirst, make_server


@contextmanager
def serving(app: Any, threads: int) -> Iterator[int]:
    server = make_server(app, host="127.0.0.1", port=0, threads=threads)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        runner.join(timeout=10)


def thread_name_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [threading.current_thread().name.encode()]


def get(port: int, path: str = "/", language: str = "zh-hans") -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept-Language": language})
        answer = connection.getresponse()
        assert answer.status == 200
        return answer.read().decode()
    finally:
        connection.close()


def test_one_client_after_another_is_answered_by_the_same_warm_thread() -> None:
    """Waitress on its own goes round all its threads (each with a cold database connection)."""
    with serving(thread_name_app, threads=6) as port:
        names = [get(port) for _ in range(12)]

    assert len(set(names)) == 1, names


def test_requests_at_the_same_time_each_get_a_thread_of_their_own() -> None:
    arrived = threading.Barrier(4, timeout=10)  # three requests and the test itself

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        arrived.wait()  # nobody is answered until all three are being served at once
        return thread_name_app(environ, start_response)

    with serving(app, threads=4) as port:
        results: list[str] = []
        clients = [threading.Thread(target=lambda: results.append(get(port))) for _ in range(3)]
        for client in clients:
            client.start()
        arrived.wait()
        for client in clients:
            client.join(timeout=10)

    assert len(results) == 3 and len(set(results)) == 3, results


def test_the_condition_wakes_the_last_waiter_first_and_every_waiter_on_notify_all() -> None:
    lock = threading.Lock()
    condition = MostRecentFirst(lock)
    woken: list[int] = []
    ready = threading.Semaphore(0)

    def waiter(n: int) -> None:
        with lock:
            ready.release()
            condition.wait()
            woken.append(n)

    threads = []
    for n in range(3):  # one at a time, so that the order they wait in is known
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        ready.acquire()
        with lock:
            pass  # the waiter released the lock inside wait(): it is waiting now
        threads.append(t)
    with lock:
        condition.notify()
    threads[2].join(timeout=10)
    with lock:
        condition.notify_all()
    for t in threads:
        t.join(timeout=10)

    assert woken[0] == 2 and sorted(woken) == [0, 1, 2]


def test_a_wait_with_a_timeout_ends_and_leaves_no_waiter_behind() -> None:
    lock = threading.Lock()
    condition = MostRecentFirst(lock)
    with lock:
        assert condition.wait(timeout=0.05) is False
        condition.notify()  # nobody to wake, nothing stale to release


def test_the_dispatcher_stops_its_threads_on_shutdown() -> None:
    dispatcher = HotThreadFirst()
    dispatcher.set_thread_count(3)

    assert dispatcher.shutdown(timeout=10) is True
    assert dispatcher.threads == set()


@pytest.mark.parametrize("threads", [1, 3])
def test_every_request_is_answered_whatever_the_thread_count(threads: int) -> None:
    with serving(thread_name_app, threads=threads) as port:
        assert all(get(port).startswith("waitress-") for _ in range(5))


def test_reviewshield_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The embedded default as `make run` starts it: pages, the worker, the background checkpoints."""
    env = {
        **os.environ,
        "REVIEWSHIELD_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "reviewshield.settings",
    }
    env.pop("DATABASE_URL", None)
    migrated = subprocess.run(
        [sys.executable, "-m", "reviewshield", "migrate", "--noinput"],
        env=env,
        capture_output=True,
        timeout=300,
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "reviewshield", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get(port, "/", language="en")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read()[-2000:]
                time.sleep(0.2)
        assert "ReviewShield" in page
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    assert server.returncode == 0, err[-2000:]
    assert "ReviewShield is running at http://127.0.0.1:" in out
    assert "Deadline worker: running in this process" in out
