"""Evidence intake: turn an uploaded file into something safe to keep, or refuse it and say why.

Runs before any database transaction (it reads whole files): the bytes are hashed, their type is
sniffed by libmagic (names and declared types are never trusted), checked against the kind
(`kinds.judge`), searched for markup a browser would run, optionally virus-scanned, and then

- images are decoded under a pixel limit and re-encoded from their pixels alone into a clean copy
  (no EXIF, GPS, XMP, comments or trailing bytes) — the copy the other side sees;
- a buyer's text statement gets a copy with their phone numbers, addresses and ID numbers masked.

Everything lands in temporary files; `blobs.blobs_staged` moves them into the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import magic
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps, UnidentifiedImageError

from reviewshield.errors import EvidenceRejected
from reviewshield.evidence import clamd
from reviewshield.evidence.blobs import Staged, blob_rows, blobs_staged
from reviewshield.evidence.kinds import (
    AUDIO,
    CSV,
    DANGEROUS,
    IMAGES,
    MARKUP_LOOKBEHIND,
    PDF,
    TEXT,
    VIDEO,
    XML,
    Kind,
    Refusal,
    Shown,
    display_name,
    judge,
    kinds_with_limits,
    markup_found,
)
from reviewshield.evidence.models import EvidenceKind
from reviewshield.freetext import text_checked
from reviewshield.privacy.masking import BuyerData, mask_personal_data

try:  # HEIC/HEIF, the iPhone's photo format; without it those photos are refused as unreadable
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a dependency; this keeps intake importable
    pass

CHUNK = 1 << 20


@dataclass(frozen=True)
class Upload:
    """A file to attach: any file-like object (chunks() or read()), its name, kind and notes."""

    file: Any
    name: str
    kind: str
    description: str = ""
    reference: str = ""  # a courier waybill number


@dataclass(frozen=True)
class Prepared:
    kind: str
    name: str  # fit for display; never a path
    description: str
    reference: str
    original: Staged
    clean: Staged | None  # what the other side may see; None: agents only
    shown: Shown
    temp_paths: tuple[str, ...]  # our own temporary files, removed by `discard`

    def discard(self) -> None:
        for path in self.temp_paths:
            with contextlib.suppress(FileNotFoundError):  # moved into the store
                os.unlink(path)


def current_kinds() -> dict[str, Kind]:
    return kinds_with_limits(settings.REVIEWSHIELD_VIDEO_MAX_MB << 20)


def _temp_file(suffix: str = "") -> tuple[int, str]:
    return tempfile.mkstemp(prefix="rs-", suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR)


def _chunks(f: Any) -> Iterator[bytes]:
    if hasattr(f, "seek"):
        f.seek(0)
    if hasattr(f, "chunks"):
        yield from f.chunks(CHUNK)
    else:
        yield from iter(lambda: f.read(CHUNK), b"")


def _hash_file(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _Rejected(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


def _local_copy(f: Any, limit: int, temps: list[str]) -> tuple[str, str, int, bool]:
    """(path, sha256, size, movable) of the upload on local disk, reading it at most once."""
    if getattr(f, "rs_oversize", False):
        raise _Rejected(Refusal("too_large", {"max_mb": limit >> 20}))
    path = f.temporary_file_path() if hasattr(f, "temporary_file_path") else None
    if path:
        sha, size = (f.rs_sha256, f.rs_size) if getattr(f, "rs_sha256", None) else _hash_file(path)
        return path, sha, size, True
    fd, path = _temp_file()
    temps.append(path)
    digest = hashlib.sha256()
    size = 0
    with os.fdopen(fd, "wb") as out:
        for chunk in _chunks(f):
            size += len(chunk)
            if size > limit:
                raise _Rejected(Refusal("too_large", {"max_mb": limit >> 20}))
            digest.update(chunk)
            out.write(chunk)
    return path, digest.hexdigest(), size, True


def _sniff(path: str) -> str:
    # libmagic can append details ("application/x-executable, no program header"): keep the type.
    mime = magic.from_file(path, mime=True).split(",")[0].split(";")[0].strip().lower()
    return {"image/x-png": "image/png", "image/pjpeg": "image/jpeg"}.get(mime, mime)


def _scan_markup(path: str, mime: str) -> None:
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            found = markup_found(tail + chunk, mime)
            if found:
                raise _Rejected(Refusal("markup", {"found": found}))
            tail = chunk[-MARKUP_LOOKBEHIND:]


def _virus_scan(path: str) -> None:
    address = settings.REVIEWSHIELD_CLAMD
    if not address:
        return
    try:
        verdict = clamd.scan_file(address, path)
    except clamd.ScanFailed as exc:
        raise _Rejected(Refusal("scan_failed", {"problem": str(exc)[:200]})) from exc
    if not verdict.clean:
        raise _Rejected(Refusal("virus", {"signature": verdict.signature}))


def _clean_image(path: str, mime: str, temps: list[str]) -> Staged:
    """Decode under the pixel limit and write the pixels, and only the pixels, to a new file."""
    max_pixels = settings.REVIEWSHIELD_IMAGE_MAX_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                pixels = img.width * img.height
                if pixels > max_pixels:
                    raise _Rejected(Refusal("image_bomb", {"pixels": pixels, "max": max_pixels}))
                img.seek(0)  # animated images: the first frame is the evidence
                upright = ImageOps.exif_transpose(img)  # the photo as it was taken, before EXIF goes
                alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                pixels_only = upright.convert("RGBA" if alpha else "RGB")
                # A fresh image built from raw pixels carries no info dict, no EXIF, no XMP, no ICC.
                fresh = Image.frombytes(pixels_only.mode, pixels_only.size, pixels_only.tobytes())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _Rejected(Refusal("image_bomb", {"pixels": "?", "max": max_pixels})) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _Rejected(Refusal("unreadable_image")) from exc
    lossless = mime in ("image/png", "image/gif") or alpha
    fd, out = _temp_file(".png" if lossless else ".jpg")
    temps.append(out)
    with os.fdopen(fd, "wb") as fh:
        if lossless:
            fresh.save(fh, format="PNG")
        else:
            fresh.save(fh, format="JPEG", quality=90)
    sha, size = _hash_file(out)
    return Staged(out, sha, size, "image/png" if lossless else "image/jpeg", movable=True)


def _masked_text(path: str, private: BuyerData, temps: list[str]) -> Staged:
    with open(path, "rb") as fh:
        raw = fh.read()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _Rejected(Refusal("unreadable_text"))
    fd, out = _temp_file(".txt")
    temps.append(out)
    with os.fdopen(fd, "wb") as fh:
        fh.write(mask_personal_data(text, private).encode("utf-8"))
    sha, size = _hash_file(out)
    return Staged(out, sha, size, "text/plain", movable=True)


def evidence_prepare(upload: Upload, *, side: str, buyer_private: BuyerData) -> Prepared:
    """Check one upload and make its clean copy; raises EvidenceRejected saying why it cannot be kept.

    `side` is who submits it ("buyer" or "seller"); `buyer_private` the buyer's known data
    (`privacy.selectors.buyer_known_data`), masked in the copy a seller reads.
    """
    kinds = current_kinds()
    name = display_name(upload.name)
    description = text_checked(upload.description, text="evidence_description", field="description")
    temps: list[str] = []
    try:
        kind = kinds.get(upload.kind)
        if kind is None:
            raise _Rejected(Refusal("unknown_kind", {"kind": upload.kind}))
        path, sha, size, movable = _local_copy(upload.file, kind.max_bytes, temps)
        if size > kind.max_bytes:  # before reading any further
            raise _Rejected(Refusal("too_large", {"max_mb": kind.max_bytes >> 20}))
        mime = _sniff(path) if size else "application/x-empty"
        refusal = judge(kinds, upload.kind, mime, size, upload.reference)
        if refusal:
            raise _Rejected(refusal)
        if mime in IMAGES or mime in PDF:
            _scan_markup(path, mime)
        _virus_scan(path)
        family = kind.family(mime)
        assert family is not None  # judge() refused anything else
        clean: Staged | None = None
        if mime in IMAGES:
            # Every image is decoded (a bomb must not reach an agent's browser either); only the
            # kinds the other side may see hand them the clean copy.
            clean = _clean_image(path, mime, temps)
        if family.shown == Shown.MASKED_TEXT:
            clean = _masked_text(path, buyer_private if side == "buyer" else BuyerData(), temps)
        if family.shown == Shown.AGENT_ONLY:
            clean = None
        original = Staged(path, sha, size, mime, movable=movable)
        return Prepared(
            kind=upload.kind,
            name=name,
            description=description,
            reference=upload.reference.strip()[:64],
            original=original,
            clean=clean,
            shown=family.shown,
            temp_paths=tuple(temps),
        )
    except _Rejected as rejected:
        for path in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        raise refusal_error(rejected.refusal, name) from None


def evidence_prepare_all(uploads: Sequence[Upload], *, side: str, buyer_private: BuyerData) -> list[Prepared]:
    """Prepare every upload, or none: the first refusal discards what was already prepared."""
    done: list[Prepared] = []
    try:
        for upload in uploads:
            done.append(evidence_prepare(upload, side=side, buyer_private=buyer_private))
    except BaseException:
        for p in done:
            p.discard()
        raise
    return done


@contextlib.contextmanager
def evidence_intake(
    uploads: Sequence[Upload], *, side: str, buyer_private: BuyerData
) -> Iterator[list[Prepared]]:
    """Check and clean every upload before the transaction, store the files, and clean up after.

    Yields the prepared items for the caller's transaction; if that transaction fails, the files it
    would have referred to are removed again (nothing is half-stored).
    """
    prepared = evidence_prepare_all(uploads, side=side, buyer_private=buyer_private)
    try:
        staged = [s for p in prepared for s in (p.original, p.clean) if s is not None]
        with blobs_staged(staged):
            yield prepared
    finally:
        for p in prepared:
            p.discard()


Item = TypeVar("Item")


def evidence_item_create(
    model: type[Item], *, item: Prepared, side: str, user: Any, now: datetime, **owner: Any
) -> Item:
    """Write one prepared item's rows inside the caller's transaction: its blobs and a `model` row
    (an `evidence.models.EvidenceItem`) belonging to `owner` (its files are already in the store)."""
    blob_rows([item.original, *([item.clean] if item.clean else [])], now)
    return model.objects.create(  # type: ignore[attr-defined, no-any-return]
        **owner,
        side=side,
        kind=item.kind,
        submitted_by=user,
        blob_id=item.original.sha256,
        clean_blob_id=item.clean.sha256 if item.clean else None,
        original_name=item.name,
        content_type=item.original.mime,
        size=item.original.size,
        sha256=item.original.sha256,
        reference=item.reference,
        description=item.description,
        created_at=now,
    )


def kind_label(code: str) -> str:
    try:
        return str(EvidenceKind(code).label)
    except ValueError:
        return code


# One sentence per refusal code of `kinds.judge` and of the checks here, naming the file and why.
REFUSAL_MESSAGES = {
    "unknown_kind": gettext_lazy("“%(kind)s” is not a kind of evidence ReviewShield takes."),
    "reference_missing": gettext_lazy("%(kind)s needs its waybill number."),
    "empty": gettext_lazy("The file %(name)s is empty."),
    "too_large": gettext_lazy(
        "The file %(name)s is larger than %(max_mb)s MB, the limit for this kind of evidence."
    ),
    "dangerous_type": gettext_lazy(
        "The file %(name)s is %(type)s, which could run code or hide other files, so it is "
        "refused. Send a photo, screenshot, PDF, recording or video instead."
    ),
    "type_not_allowed": gettext_lazy("The file %(name)s is %(type)s, which is not accepted as %(kind)s."),
    "markup": gettext_lazy(
        "The file %(name)s looks like an image or a PDF but contains web-page code or a script "
        "(%(found)s), so it is refused."
    ),
    "image_bomb": gettext_lazy(
        "The image %(name)s has too many pixels to open safely (%(pixels)s; at most %(max)s), so it is refused."
    ),
    "unreadable_image": gettext_lazy("The image %(name)s cannot be read; it may be damaged or not an image."),
    "unreadable_text": gettext_lazy("The text file %(name)s is neither UTF-8 nor GB18030 text."),
    "virus": gettext_lazy("The virus scan found %(signature)s in %(name)s, so it is refused."),
    "scan_failed": gettext_lazy(
        "The virus scan could not check %(name)s, so it is refused for now. Please try again later."
    ),
}

# What a sniffed type is, in words a person knows (the type itself is a code for programs).
_TYPE_WORDS: list[tuple[frozenset[str], Any]] = [
    (IMAGES, gettext_lazy("an image")),
    (PDF, gettext_lazy("a PDF document")),
    (AUDIO, gettext_lazy("a sound recording")),
    (VIDEO, gettext_lazy("a video")),
    (frozenset({"text/html", "application/xhtml+xml"}), gettext_lazy("a web page")),
    (frozenset({"image/svg+xml"}), gettext_lazy("an SVG drawing")),
    (XML, gettext_lazy("an XML file")),
    (CSV, gettext_lazy("a table (CSV)")),
    (TEXT, gettext_lazy("a text file")),
    (frozenset({"application/x-empty"}), gettext_lazy("an empty file")),
    (DANGEROUS, gettext_lazy("a program, a script or an archive")),
]


def type_words(mime: str) -> str:
    """`image/png` → “an image”; a type no family names → “a file of a type ReviewShield does not take”."""
    words = next((w for types, w in _TYPE_WORDS if mime in types), None)
    return str(words or _("a file of a type ReviewShield does not take"))


def refusal_error(refusal: Refusal, name: str) -> EvidenceRejected:
    """The refusal as one sentence a person can read, in the active language: the file and why.

    The details keep the stable codes for programs (`reason`, the sniffed `type`)."""
    p: dict[str, Any] = {"name": name, **refusal.params}
    if "kind" in p:
        p["kind"] = kind_label(str(p["kind"]))
    if "type" in p:
        p["type"] = type_words(str(p["type"]))
    message = REFUSAL_MESSAGES.get(refusal.code, _("The file %(name)s cannot be accepted as evidence.")) % p
    return EvidenceRejected(message, details={"reason": refusal.code, "file": name, **refusal.params})
