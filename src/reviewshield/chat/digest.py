"""The SHA-256 of a stretch of stored chat messages. PURE.

The encoding itself lives in `proofs.chatdigest`, free of Django, because evidence bundles ship it
to recompute a number's hash offline; this module only gives stored messages the hash's view.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reviewshield.proofs.chatdigest import Line, excerpt_bytes, excerpt_record, excerpt_sha256

__all__ = ["Line", "excerpt_bytes", "excerpt_record", "excerpt_sha256", "lines_of"]


def lines_of(messages: Iterable[Any]) -> list[Line]:
    """The hash's view of stored messages (anything with external_id, sender, sent_at, text, attachment_hashes)."""
    return [Line(m.external_id, m.sender, m.sent_at, m.text, tuple(m.attachment_hashes)) for m in messages]
