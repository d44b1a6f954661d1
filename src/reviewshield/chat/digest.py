"""The canonical encoding of a stretch of chat and its SHA-256. PURE.

The encoding is the log's canonical JSON (`proofs.records.canonical`: sorted keys, no spaces,
UTF-8) of the conversation's key and the messages in order, each with its id, sender, UTC send
time, text and attachment hashes. Anyone holding the messages can recompute the hash, and a change
to any of them (or a message added or removed) gives another one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reviewshield.proofs.records import canonical


@dataclass(frozen=True)
class Line:
    """One message as the hash sees it."""

    message_id: str
    sender: str
    sent_at: datetime
    text: str
    attachment_hashes: Sequence[str]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lines_of(messages: Iterable[Any]) -> list[Line]:
    """The hash's view of stored messages (anything with external_id, sender, sent_at, text, attachment_hashes)."""
    return [Line(m.external_id, m.sender, m.sent_at, m.text, tuple(m.attachment_hashes)) for m in messages]


def excerpt_record(conversation: str, lines: Iterable[Line]) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "messages": [
            {
                "id": line.message_id,
                "sender": line.sender,
                "sent_at": _utc(line.sent_at),
                "text": line.text,
                "attachments": list(line.attachment_hashes),
            }
            for line in lines
        ],
    }


def excerpt_sha256(conversation: str, lines: Iterable[Line]) -> str:
    """The hex SHA-256 of the canonical encoding of these messages of `conversation` ("platform:id")."""
    return hashlib.sha256(canonical(excerpt_record(conversation, lines))).hexdigest()
