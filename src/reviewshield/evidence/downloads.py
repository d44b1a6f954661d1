"""Serving a stored evidence file to a person: never as a page the browser could run."""

from __future__ import annotations

import mimetypes

from django.http import FileResponse

from reviewshield.evidence.blobs import blob_open
from reviewshield.evidence.models import Blob

# Clean copies are pixels we wrote ourselves: safe to show in the page. Everything else downloads.
INLINE_TYPES = {"image/png", "image/jpeg"}


def blob_response(blob: Blob, *, filename_stem: str, inline: bool = False) -> FileResponse:
    """Serve `blob`; inline only for our own re-encoded images, always sandboxed and unsniffable."""
    extension = mimetypes.guess_extension(blob.mime) or ""
    show_inline = inline and blob.mime in INLINE_TYPES
    response = FileResponse(
        blob_open(blob),
        as_attachment=not show_inline,
        filename=f"{filename_stem}{extension}",
        content_type=blob.mime if show_inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were talked into rendering it, a sandboxed document runs no script.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    response["Cache-Control"] = "private, no-store"
    return response
