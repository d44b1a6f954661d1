"""Process tuning shared by the long-running entry points: the web application and the worker.

Python's cyclic garbage collector walks every tracked object of the oldest generation on a full
collection. A Django process keeps a few hundred thousand objects for its whole life (modules,
models, URL patterns, translations, the screening lexicon), so each full collection took 100 ms
or more in the middle of an unlucky request — the screening API's slowest answers were exactly
those. Freezing what the process has loaded moves it out of the collector's sight (the standard
library's `gc.freeze`, meant for this), and a larger first-generation threshold stops a request
that allocates tens of thousands of short-lived objects from triggering hundreds of small
collections. Reference counting still frees everything that is not in a cycle at once.

On the embedded SQLite database, `start_sqlite_checkpointer` moves the write-ahead log's
checkpoints out of the requests that happened to commit past 1,000 pages onto a thread of its own.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 20_000


def warm_up() -> None:
    """Load now what a web process would otherwise load on its first requests and then keep: the
    URL patterns (and with them every view, API schema and form), the screening lexicon, the
    translation catalogues, the masking's tables. Called before `settle_heap`, so that all of it is
    frozen out of the collector's sight rather than walked by every full collection for the life of
    the process."""
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 — the property imports the URL modules
    for language in ("zh-hans", "en"):
        with translation.override(language):
            translation.gettext("Complaint")
    from reviewshield.detection.lexicons import current_lexicon
    from reviewshield.screening import LexiconError

    try:
        current_lexicon()
    except LexiconError:
        # Broken lexicon files refuse screening, not the whole site: the process starts, screening
        # requests get the loader's error, and the files are read again once they change.
        logging.getLogger("reviewshield.screening").exception("lexicon not loaded at start")
    from reviewshield.privacy.masking import BuyerData, mask_personal_data

    # The masking's digit tables and pypinyin's dictionaries, before a seller's first page needs them.
    mask_personal_data("王芳 一三八", BuyerData(names=("王芳",)))


def settle_heap() -> None:
    """Call once the process has loaded what it keeps for its life (after Django is set up)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block: for a request that builds tens of thousands of
    short-lived objects (the screening API's batch of 1,000), none in a reference cycle.

    Collections during the block would only walk objects still in use and free nothing; after it,
    reference counting has freed them and the collector's count is back where it was. Left alone
    if something else turned the collector off.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- SQLite: WAL checkpoints beside the requests, not inside them ------------------------------------

# Set while a background checkpointer runs in this process: the connections opened meanwhile leave
# checkpoints to it.
_background_checkpoints = threading.Event()


def _leave_checkpoints_to_the_background(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite" and _background_checkpoints.is_set():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_autocheckpoint=0")


def start_sqlite_checkpointer(
    alias: str = "default", *, interval: float = 0.5
) -> tuple[threading.Thread, threading.Event] | None:
    """Copy the write-ahead log into the SQLite file on a thread of its own, every `interval` seconds.

    SQLite's own checkpoint runs inside the commit that takes the log past 1,000 pages: that
    request copies 4 MB into the file and waits for it to reach the disk. The screening API writes
    its flagged messages and alerts with every batch, so one batch in seven paid 8–12 ms for it —
    its p95 was exactly those batches. Connections opened while this thread runs turn that off
    (`wal_autocheckpoint=0`); the thread runs PASSIVE checkpoints (never waiting for a reader or
    a writer) on its own connection. The sqlite3 driver lets go of the GIL while SQLite works, so
    the copying and the disk's flush happen beside the requests, on the other core. SQLite's
    checkpoints need no lock against writers in WAL mode: a commit never waits for this thread.

    Returns None where there is nothing to do (another database, or SQLite in memory). Set the
    event to stop; the thread runs a last checkpoint before it ends.
    """
    from django.db import connections
    from django.db.backends.signals import connection_created

    settings = connections[alias].settings_dict
    path = str(settings["NAME"])
    if "sqlite" not in settings["ENGINE"] or path == ":memory:" or path.startswith("file:"):
        return None
    connection_created.connect(_leave_checkpoints_to_the_background, dispatch_uid="rs-background-checkpoints")
    _background_checkpoints.set()
    stop = threading.Event()
    thread = threading.Thread(
        target=_checkpoint_loop, args=(path, interval, stop), name="sqlite-checkpointer", daemon=True
    )
    thread.start()
    return thread, stop


def _checkpoint_loop(path: str, interval: float, stop: threading.Event) -> None:
    log = logging.getLogger("reviewshield.sqlite")
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        while True:
            stopping = stop.wait(interval)
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:  # a bad moment (a full disk, say) must not end checkpointing for good
                log.exception("background checkpoint failed; trying again")
            if stopping:
                return
    finally:
        _background_checkpoints.clear()
        db.close()
