"""`reviewshield demo [--once]`: load the demo dataset (with --once: only if it is not there yet)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone


class Command(BaseCommand):
    help = "Load the demo dataset: platforms, shops, orders, reviews, complaints in every state, demo logins."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="do nothing if the demo is already loaded")

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        from reviewshield.demo.load import demo_load, demo_loaded

        if once and demo_loaded():
            self.stdout.write("Demo data already loaded.")
            return
        counts = demo_load(now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data loaded: {shops} shops, {orders} orders, {cases} complaints.".format(**counts)
            )
        )
