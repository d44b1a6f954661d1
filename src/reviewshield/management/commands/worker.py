"""`reviewshield worker` — fire due deadlines until stopped (SIGTERM/SIGINT finish the batch first)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from reviewshield.deadlines.worker import run_worker


class Command(BaseCommand):
    help = "Run the deadline worker: claim due deadlines and fire each exactly once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=200, help="deadlines claimed per transaction (200)")
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=60.0,
            help="how long a claim lasts before another worker may take it over (60); keep it well "
            "above the time one batch takes",
        )
        parser.add_argument(
            "--idle-sleep", type=float, default=1.0, help="seconds to sleep when nothing is due (1.0)"
        )
        parser.add_argument(
            "--name", default=None, help="worker name in claims and runs (hostname:pid:random)"
        )
        parser.add_argument("--once", action="store_true", help="fire whatever is due now, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        from reviewshield.runtime import settle_heap

        settle_heap()
        settled = run_worker(
            name=options["name"],
            batch=options["batch"],
            lease=timedelta(seconds=options["lease_seconds"]),
            idle_sleep=options["idle_sleep"],
            max_idle_loops=1 if options["once"] else None,
        )
        if options["once"]:
            self.stdout.write(f"{settled} deadlines settled")
