"""Content-addressed file storage: every file is kept once, under its SHA-256, in the evidence storage.

Files are written *before* the database transaction that refers to them (a 500 MB video must not
hold the database's write lock while it is copied), which leaves one hazard: the transaction fails
and the file stays behind with nothing pointing at it. `blobs_staged` removes, after a failure,
every file it wrote whose hash no committed row names. Content addressing makes the rest safe: two
uploads of the same bytes write the same key with the same content.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.core.files import File
from django.core.files.storage import Storage, storages

from reviewshield.evidence.models import Blob

log = logging.getLogger("reviewshield.evidence")


@dataclass(frozen=True)
class Staged:
    """A file on local disk, hashed and typed, ready to go into the store."""

    path: str
    sha256: str
    size: int
    mime: str
    movable: bool = False  # a temporary file the store may take over by renaming it


class _Movable(File):  # type: ignore[type-arg]
    """Lets FileSystemStorage rename the file into place instead of copying it."""

    def __init__(self, fh: IO[bytes], name: str, path: str) -> None:
        super().__init__(fh, name=name)
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def blob_storage() -> Storage:
    return storages["evidence"]


def blob_key(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _store(staged: Staged) -> bool:
    """Put one file in the store; True when this call wrote it (it was not there before)."""
    storage = blob_storage()
    key = blob_key(staged.sha256)
    if Blob.objects.filter(sha256=staged.sha256).exists() or storage.exists(key):
        return False
    with open(staged.path, "rb") as fh:
        content = _Movable(fh, key, staged.path) if staged.movable else File(fh, name=key)
        saved = storage.save(key, content)
    if saved != key:  # a storage that renames on collision would break content addressing
        raise RuntimeError(f"evidence storage stored {key} as {saved}")
    return True


def blob_rows(staged: Sequence[Staged], now: datetime) -> None:
    """Insert the rows for stored files (inside the caller's transaction); existing hashes are kept."""
    Blob.objects.bulk_create(
        [
            Blob(sha256=s.sha256, key=blob_key(s.sha256), size=s.size, mime=s.mime, created_at=now)
            for s in staged
        ],
        ignore_conflicts=True,  # the same bytes from another upload, maybe committing right now
    )


@contextmanager
def blobs_staged(staged: Sequence[Staged]) -> Iterator[None]:
    """Store these files; if the block raises, remove the ones this call wrote and nothing names."""
    written: list[str] = []
    try:
        for s in staged:
            if _store(s):
                written.append(s.sha256)
        yield
    except BaseException:
        referenced = set(Blob.objects.filter(sha256__in=written).values_list("sha256", flat=True))
        for sha in written:
            if sha not in referenced:
                try:
                    blob_storage().delete(blob_key(sha))
                except Exception:  # the original error matters more than a leftover file
                    log.exception("could not remove the unreferenced evidence file %s", sha)
        raise


def blob_open(blob: Blob) -> IO[bytes]:
    return blob_storage().open(blob.key, "rb")
