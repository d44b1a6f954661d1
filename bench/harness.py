"""A tiny benchmark registry. Each benchmark is a function that returns {figure: (value, unit)}.

Benchmarks run one per fresh subprocess (`bench/run.py`), because each chooses its own database
before Django starts.
"""

from __future__ import annotations

from collections.abc import Callable

Figures = dict[str, tuple[float, str]]
REGISTRY: dict[str, tuple[tuple[str, ...], Callable[[], Figures]]] = {}


def figures(*names: str) -> Callable[[Callable[[], Figures]], Callable[[], Figures]]:
    """Register a benchmark that produces the named figures."""

    def wrap(fn: Callable[[], Figures]) -> Callable[[], Figures]:
        REGISTRY[f"{fn.__module__}:{fn.__name__}"] = (names, fn)
        return fn

    return wrap


def setup_django(database_url: str | None = None, data_dir: str | None = None) -> None:
    """Point Django at the benchmark's own database and data folder, then set it up."""
    import os
    import tempfile

    os.environ["REVIEWSHIELD_DATA_DIR"] = data_dir or tempfile.mkdtemp(prefix="rs-bench-")
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewshield.settings")
    os.environ.setdefault("REVIEWSHIELD_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
