"""`reviewshield serve`: the web app and the deadline worker in one process (the embedded default).

For the scale path run `reviewshield worker` processes and any WSGI server (several web processes)
against one PostgreSQL database instead.
"""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the web app and run the deadline worker in the same process."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-worker", action="store_true", help="serve pages only")

    def handle(self, *args: Any, host: str, port: int, threads: int, no_worker: bool, **options: Any) -> None:
        from reviewshield.deadlines.worker import start_worker_thread
        from reviewshield.demo.accounts import DEMO_LOGINS
        from reviewshield.runtime import start_sqlite_checkpointer
        from reviewshield.webserver import make_server
        from reviewshield.wsgi import application

        checkpointer = start_sqlite_checkpointer()  # before the first request opens a connection
        stop = thread = None
        if not no_worker:
            thread, stop = start_worker_thread(batch=100, lease=timedelta(seconds=60), idle_sleep=1.0)
        server = make_server(
            application,
            host=host,
            port=port,
            threads=threads,
            trusted_proxy=settings.REVIEWSHIELD_TRUSTED_PROXY,
        )
        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write(self.style.SUCCESS(f"ReviewShield is running at http://{shown_host}:{port}/"))
        self.stdout.write(f"  API docs:  http://{shown_host}:{port}/api/docs")
        self.stdout.write(f"  Admin:     http://{shown_host}:{port}/admin/")
        self.stdout.write("  Deadline worker: " + ("off" if no_worker else "running in this process"))
        self.stdout.write("  Demo logins (username / password):")
        for role, username, password in DEMO_LOGINS:
            self.stdout.write(f"    {role:<14} {username:<16} {password}")
        self.stdout.flush()

        def _stop(signum: int, frame: Any) -> None:
            if stop is not None and thread is not None:
                stop.set()
                thread.join(timeout=30)  # let the batch in hand commit
            if checkpointer is not None:
                checkpointer[1].set()
                checkpointer[0].join(timeout=30)  # the last checkpoint
            server.close()
            sys.exit(0)

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        try:
            server.run()
        finally:
            if stop is not None:
                stop.set()
