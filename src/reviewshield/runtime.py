"""Process tuning shared by the long-running entry points: the web application and the worker.

Python's cyclic garbage collector walks every tracked object of the oldest generation on a full
collection. A Django process keeps a few hundred thousand objects for its whole life (modules,
models, URL patterns, translations, the screening lexicon), so each full collection took 100 ms
or more in the middle of an unlucky request — the screening API's slowest answers were exactly
those. Freezing what the process has loaded moves it out of the collector's sight (the standard
library's `gc.freeze`, meant for this), and a larger first-generation threshold stops a request
that allocates tens of thousands of short-lived objects from triggering hundreds of small
collections. Reference counting still frees everything that is not in a cycle at once.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 20_000


def warm_up() -> None:
    """Load now what a web process would otherwise load on its first requests and then keep: the
    URL patterns (and with them every view, API schema and form), the screening lexicon, the
    translation catalogues. Called before `settle_heap`, so that all of it is frozen out of the
    collector's sight rather than walked by every full collection for the life of the process."""
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
