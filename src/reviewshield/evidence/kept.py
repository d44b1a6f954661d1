"""Kept uploads: the files of a refused form, held so the person need not choose them again.

A browser cannot put a file back into a form it re-renders, so when a submission with files is
refused (a missing field, one bad file among several, a refusal by the service), the files that
passed intake are put into the evidence storage — which every web process shares, locally or on
S3 — with a row naming their owner and the form they belong to (`purpose`). The re-rendered form
lists them by name with a ticked "keep" box carrying each row's random token; the next submission
of that form claims the ticked ones (owner, purpose and token must all match, so nobody can claim
another person's file), hands them to the service like fresh uploads — intake checks them again —
and removes them once the service has accepted them. Unclaimed ones are removed by the worker after
`REVIEWSHIELD_KEPT_UPLOAD_HOURS` (default 24).

A file sent without a kind of evidence cannot be judged yet; it is kept unchecked (`kind` empty)
and checked as soon as the form names a kind (`kept_recheck`).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files import File

from reviewshield.errors import EvidenceRejected
from reviewshield.evidence.blobs import blob_storage
from reviewshield.evidence.intake import Upload, current_kinds, evidence_prepare, refusal_error
from reviewshield.evidence.kinds import Refusal, display_name
from reviewshield.evidence.models import KeptUpload

log = logging.getLogger("reviewshield.evidence")

MAX_KEPT_PER_FORM = 20  # more tokens than that in one post are ignored


def keep_for() -> timedelta:
    return timedelta(hours=getattr(settings, "REVIEWSHIELD_KEPT_UPLOAD_HOURS", 24))


class _Handle:
    """Reads an uploaded file through its open handle only.

    Intake takes a temporary upload by its path and may move it into the store; the open handle
    still reads the bytes after that, so a file can be kept even after the service refused the
    submission late. Hiding the path makes intake copy the bytes to a file of its own.
    """

    def __init__(self, f: Any) -> None:
        self._f = f
        # The upload handler stops keeping bytes past the largest limit and says so: a cut-off file
        # must still be refused as too large, never kept in part.
        self.rs_oversize = bool(getattr(f, "rs_oversize", False))

    def seek(self, pos: int) -> Any:
        return self._f.seek(pos)

    def tell(self) -> int:
        return int(self._f.tell())

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._f.read(size)
        return data


@dataclass
class KeptOutcome:
    kept: list[KeptUpload] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # one sentence per refused file


def _judge(upload: Upload, *, side: str) -> str | None:
    """The refusal sentence for an upload of a known kind, or None when intake accepts it."""
    try:
        prepared = evidence_prepare(upload, side=side, buyer_private=())
    except EvidenceRejected as exc:
        return str(exc.message)
    prepared.discard()
    return None


def kept_store(
    *, owner: Any, purpose: str, uploads: Sequence[Upload], side: str, now: datetime
) -> KeptOutcome:
    """Check each upload on its own and keep the accepted ones (and those without a kind yet)."""
    outcome = KeptOutcome()
    kinds = current_kinds()
    storage = blob_storage()
    for upload in uploads:
        handle = _Handle(upload.file)
        checked = Upload(
            file=handle,
            name=upload.name,
            kind=upload.kind,
            reference=upload.reference,
            description=upload.description,
        )
        if upload.kind in kinds:
            problem = _judge(checked, side=side)
            if problem:
                outcome.refused.append(problem)
                continue
        elif handle.rs_oversize:  # too large for any kind: nothing to keep
            largest = max(k.max_bytes for k in kinds.values())
            refusal = refusal_error(
                Refusal("too_large", {"max_mb": largest >> 20}), display_name(upload.name)
            )
            outcome.refused.append(str(refusal.message))
            continue
        token = secrets.token_urlsafe(32)
        key = f"kept/{token}"
        handle.seek(0)
        saved = storage.save(key, File(handle, name=key))  # type: ignore[arg-type]
        try:
            row = KeptUpload.objects.create(
                token=token,
                owner=owner,
                purpose=purpose,
                key=saved,
                name=display_name(upload.name),
                size=storage.size(saved),
                kind=upload.kind if upload.kind in kinds else "",
                reference=upload.reference.strip()[:64],
                description=upload.description.strip()[:500],
                created_at=now,
                expires_at=now + keep_for(),
            )
        except BaseException:
            storage.delete(saved)
            raise
        outcome.kept.append(row)
    return outcome


def kept_for(*, owner: Any, purpose: str, tokens: Sequence[str], now: datetime) -> list[KeptUpload]:
    """The kept files of this owner and form among `tokens` (others' tokens and expired ones: none)."""
    wanted = [t for t in tokens if t][:MAX_KEPT_PER_FORM]
    if not wanted or not getattr(owner, "pk", None):
        return []
    return list(
        KeptUpload.objects.filter(
            owner=owner, purpose=purpose, token__in=wanted, expires_at__gt=now
        ).order_by("id")
    )


@contextlib.contextmanager
def kept_opened(
    rows: Sequence[KeptUpload], *, kind: str = "", reference: str = "", description: str = ""
) -> Iterator[list[Upload]]:
    """The kept files as uploads (a file kept without a kind takes the form's `kind`), closed after."""
    storage = blob_storage()
    handles: list[Any] = []
    try:
        uploads = []
        for row in rows:
            fh = storage.open(row.key, "rb")
            handles.append(fh)
            uploads.append(
                Upload(
                    file=fh,
                    name=row.name,
                    kind=row.kind or kind,
                    reference=row.reference or reference,
                    description=row.description or description,
                )
            )
        yield uploads
    finally:
        for fh in handles:
            fh.close()


def kept_recheck(rows: Sequence[KeptUpload], *, kind: str, side: str) -> KeptOutcome:
    """Judge the files kept without a kind now that the form names one; refused ones are removed."""
    outcome = KeptOutcome()
    if kind not in current_kinds():
        outcome.kept = list(rows)
        return outcome
    storage = blob_storage()
    for row in rows:
        if row.kind:
            outcome.kept.append(row)
            continue
        with storage.open(row.key, "rb") as fh:
            upload = Upload(
                file=_Handle(fh),
                name=row.name,
                kind=kind,
                reference=row.reference,
                description=row.description,
            )
            problem = _judge(upload, side=side)
        if problem:
            outcome.refused.append(problem)
            kept_release([row])
        else:
            row.kind = kind
            row.save(update_fields=["kind"])
            outcome.kept.append(row)
    return outcome


def kept_release(rows: Sequence[KeptUpload]) -> None:
    """Remove kept files (attached now, or given up); a file that will not go is left to the purge."""
    storage = blob_storage()
    for row in rows:
        KeptUpload.objects.filter(pk=row.pk).delete()
        try:
            storage.delete(row.key)
        except OSError:  # pragma: no cover - the storage is away; the row is gone, the purge skips it
            log.warning("kept upload %s could not be removed from the storage", row.key)


def kept_purge(*, now: datetime) -> int:
    """Remove the kept files nobody claimed in time (a periodic duty of the worker)."""
    expired = list(KeptUpload.objects.filter(expires_at__lte=now).order_by("id")[:500])
    kept_release(expired)
    return len(expired)
