"""Evidence kinds and the rules an upload must pass. Pure: no Django, no files, no clock.

Each kind says which sniffed types it takes, how large a file may be, and what the *other side*
of the case may see of it:

- ``CLEAN_IMAGE``: a re-encoded copy with no metadata (the original stays sealed for agents);
- ``MASKED_TEXT``: the text with the buyer's phone numbers, addresses and ID numbers masked;
- ``AGENT_ONLY``: nothing but the fact that it exists, its size and hash. Carrier bills and call
  records carry the buyer's own number on every line; audio and video can carry a location in
  their metadata and the buyer's voice or home — none of that may reach the seller, and we have
  no way to clean them, so they are for the platform's agents.

The type is always what libmagic sniffed from the bytes, never the name or the declared type.
`judge` returns a `Refusal` (a stable code and its parameters; the edge translates it) or None.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

MB = 1 << 20


class Shown(StrEnum):
    CLEAN_IMAGE = "clean_image"
    MASKED_TEXT = "masked_text"
    AGENT_ONLY = "agent_only"


IMAGES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/heic", "image/heif"})
PDF = frozenset({"application/pdf"})
TEXT = frozenset({"text/plain"})
CSV = frozenset({"text/csv", "application/csv"})
AUDIO = frozenset(
    {
        "audio/mpeg",
        "audio/mp4",
        "audio/x-m4a",
        "audio/aac",
        "audio/x-hx-aac-adts",
        "audio/amr",
        "audio/x-wav",
        "audio/wav",
        "audio/ogg",
        "audio/flac",
        "audio/x-flac",
    }
)
VIDEO = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/3gpp", "video/x-matroska"})
# Phone exports (SMS Backup & Restore). XML is dangerous in general (below); this kind alone takes
# it, sealed for agents, downloaded as an attachment and read by `forensics.parse`, which refuses
# DTDs and entities.
XML = frozenset({"text/xml", "application/xml"})

# Never accepted, whatever the kind: a browser could run them, or they hide other files inside.
DANGEROUS = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "text/x-shellscript",
        "text/x-python",
        "text/x-php",
        "text/x-perl",
        "text/x-script.python",
        "application/x-dosexec",
        "application/x-executable",
        "application/x-sharedlib",
        "application/x-pie-executable",
        "application/x-mach-binary",
        "application/java-archive",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-7z-compressed",
        "application/x-rar",
        "application/vnd.rar",
        "application/x-tar",
        "application/x-bzip2",
        "application/x-xz",
        "application/zstd",
        "application/x-msi",
        "application/vnd.microsoft.portable-executable",
        "application/x-ms-shortcut",
    }
)


@dataclass(frozen=True)
class Accepts:
    """One family of types a kind takes, with its own size limit and what the other side sees."""

    types: frozenset[str]
    max_bytes: int
    shown: Shown


@dataclass(frozen=True)
class Kind:
    code: str
    accepts: tuple[Accepts, ...]
    needs_reference: bool = False  # e.g. a courier waybill number
    examples: tuple[str, ...] = field(default=())

    @property
    def max_bytes(self) -> int:
        return max(a.max_bytes for a in self.accepts)

    @property
    def types(self) -> frozenset[str]:
        return frozenset().union(*(a.types for a in self.accepts))

    def family(self, mime: str) -> Accepts | None:
        return next((a for a in self.accepts if mime in a.types), None)


def _image(limit_mb: int = 20) -> Accepts:
    return Accepts(IMAGES, limit_mb * MB, Shown.CLEAN_IMAGE)


def _pdf_sealed(limit_mb: int = 20) -> Accepts:
    return Accepts(PDF, limit_mb * MB, Shown.AGENT_ONLY)


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("chat_screenshot", (_image(),)),
        Kind("site_message", (_image(),)),
        Kind("sms_photo", (_image(),)),
        # The itemised bill shows the buyer's own number on every line: agents only.
        Kind("carrier_bill", (Accepts(IMAGES, 20 * MB, Shown.AGENT_ONLY), _pdf_sealed())),
        Kind(
            "call_records",
            (
                Accepts(IMAGES, 20 * MB, Shown.AGENT_ONLY),
                _pdf_sealed(),
                Accepts(TEXT | CSV, 20 * MB, Shown.AGENT_ONLY),
            ),
        ),
        Kind("waybill", (_image(),), needs_reference=True),
        Kind("audio", (Accepts(AUDIO, 50 * MB, Shown.AGENT_ONLY),)),
        Kind("unboxing_video", (Accepts(VIDEO, 500 * MB, Shown.AGENT_ONLY),)),
        Kind("statement", (Accepts(TEXT, 1 * MB, Shown.MASKED_TEXT), _pdf_sealed())),
        # The buyer's whole SMS and call log, with their contacts' names and numbers: agents only.
        # A 1,000,000-record sms.xml is about 340 MB.
        Kind("phone_export", (Accepts(XML | CSV | TEXT, 512 * MB, Shown.AGENT_ONLY),)),
    )
}


def kinds_with_limits(video_max_bytes: int | None = None) -> dict[str, Kind]:
    """The kinds, with the video limit raised or lowered for a deployment (a setting)."""
    if video_max_bytes is None:
        return KINDS
    video = KINDS["unboxing_video"]
    return {
        **KINDS,
        "unboxing_video": Kind(
            video.code, (Accepts(VIDEO, video_max_bytes, Shown.AGENT_ONLY),), video.needs_reference
        ),
    }


@dataclass(frozen=True)
class Refusal:
    code: str
    params: dict[str, str | int] = field(default_factory=dict)


# Markup that a browser would render or run, looked for inside files that claim to be images or
# PDFs (an HTML/JPEG polyglot is a valid JPEG that is also a web page).
_MARKUP = re.compile(
    rb"<\s*(?:script|html|svg|iframe|body|object|embed|meta\s+http-equiv)\b|<!doctype\s+html|<\?php",
    re.IGNORECASE,
)
# PDF features that run code or launch things when opened.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA)\b")
MARKUP_LOOKBEHIND = 64  # bytes kept between chunks so a marker split across two is still found


def markup_found(chunk: bytes, mime: str) -> str | None:
    """The active content found in this chunk of a file of type `mime`, or None."""
    if mime in IMAGES or mime in PDF:
        m = _MARKUP.search(chunk)
        if m:
            return m.group(0).decode("latin-1")
    if mime in PDF:
        m = _PDF_ACTIVE.search(chunk)
        if m:
            return m.group(0).decode("latin-1")
    return None


def judge(
    kinds: dict[str, Kind], kind_code: str, mime: str, size: int, reference: str = ""
) -> Refusal | None:
    """Whether a file of sniffed type `mime` and `size` bytes may be evidence of kind `kind_code`."""
    kind = kinds.get(kind_code)
    if kind is None:
        return Refusal("unknown_kind", {"kind": kind_code})
    if kind.needs_reference and not reference.strip():
        return Refusal("reference_missing", {"kind": kind_code})
    if size <= 0:
        return Refusal("empty")
    family = kind.family(mime)
    if mime in DANGEROUS and not (mime in XML and family is not None and family.shown == Shown.AGENT_ONLY):
        return Refusal("dangerous_type", {"type": mime})
    if family is None:
        return Refusal("type_not_allowed", {"type": mime, "kind": kind_code})
    if size > family.max_bytes:
        return Refusal("too_large", {"max_mb": family.max_bytes // MB, "kind": kind_code})
    return None


def too_large_for_any(kinds: dict[str, Kind], kind_code: str, size: int) -> bool:
    """True when no type of this kind could be this large (refuse before sniffing anything)."""
    kind = kinds.get(kind_code)
    return kind is not None and size > kind.max_bytes


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def display_name(name: str, limit: int = 120) -> str:
    """A file name fit to show people: the last path part, no control characters, bounded length.

    Only ever shown; stored files are named by their SHA-256.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE_NAME.sub("", name).strip().lstrip(".")
    return (name or "file")[:limit]
