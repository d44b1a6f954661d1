"""The lexicon each process screens with, reloaded when its files change — no restart needed.

Every `REVIEWSHIELD_LEXICON_CHECK_SECONDS` a process compares the name, size and modification time
of each `*.toml` in the lexicon folder with what it last loaded. When they differ it loads the
folder again; a broken edit (`LexiconError`) is logged and refused, and the last good lexicon stays
in use until the files are fixed. Each stored verdict records the version and hash it was given
under. (A file watcher library would need a thread per process and inotify; one `stat` per file
every few seconds is cheaper and works the same on every deployment, so it is written here.)
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from reviewshield.screening import Lexicon, LexiconError, load
from reviewshield.screening.lexicon import SHIPPED_DIR

log = logging.getLogger("reviewshield.screening")


@dataclass(frozen=True)
class Refused:
    """A reload that failed: when, and the loader's message (file, key, problem)."""

    at: datetime
    message: str


class LexiconRegistry:
    def __init__(self, folder: Path, check_seconds: float) -> None:
        self.folder = folder
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._lexicon: Lexicon | None = None
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._checked = 0.0
        self.loaded_at: datetime | None = None
        self.refused: Refused | None = None

    def _stat(self) -> tuple[tuple[str, int, int], ...]:
        try:
            stats = [(p.name, p.stat()) for p in self.folder.glob("*.toml")]
            return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in stats))
        except OSError:
            return ()

    def current(self) -> Lexicon:
        """The lexicon to screen with now; looks at the files at most every `check_seconds`."""
        lexicon = self._lexicon
        if lexicon is not None and time.monotonic() - self._checked < self.check_seconds:
            return lexicon
        with self._lock:
            return self._refresh()

    def reload(self) -> Lexicon:
        """Look at the files now (an admin's "reload", and tests)."""
        with self._lock:
            return self._refresh(force=True)

    def _refresh(self, force: bool = False) -> Lexicon:
        self._checked = time.monotonic()
        signature = self._stat()
        if self._lexicon is not None and signature == self._signature and not force:
            return self._lexicon
        try:
            fresh = load(self.folder)
        except LexiconError as exc:
            self._signature = signature  # do not retry the same broken files every few seconds
            self.refused = Refused(timezone.now(), str(exc))
            if self._lexicon is None:
                raise
            log.error(
                "lexicon reload refused, still screening with %s (%s): %s",
                self._lexicon.version,
                self._lexicon.content_hash,
                exc,
            )
            return self._lexicon
        changed = self._lexicon is None or fresh.content_hash != self._lexicon.content_hash
        self._lexicon, self._signature, self.refused = fresh, signature, None
        if changed:
            self.loaded_at = timezone.now()
            log.info("lexicon %s loaded (%s) from %s", fresh.version, fresh.content_hash, self.folder)
        return fresh


_registry: LexiconRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> LexiconRegistry:
    """This process's registry, for the configured folder (the shipped lexicons by default)."""
    global _registry
    folder = Path(settings.REVIEWSHIELD_LEXICON_DIR) if settings.REVIEWSHIELD_LEXICON_DIR else SHIPPED_DIR
    with _registry_lock:
        if _registry is None or _registry.folder != folder:
            _registry = LexiconRegistry(folder, settings.REVIEWSHIELD_LEXICON_CHECK_SECONDS)
        _registry.check_seconds = settings.REVIEWSHIELD_LEXICON_CHECK_SECONDS
        return _registry


def current_lexicon() -> Lexicon:
    return registry().current()
