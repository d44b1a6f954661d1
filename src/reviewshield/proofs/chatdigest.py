"""The canonical encoding of a stretch of chat (a chat evidence number's messages) and its SHA-256. PURE.

The encoding is the log's canonical JSON (`records.canonical`: sorted keys, no spaces, UTF-8) of
the conversation's key and the messages in order, each with its id, sender, UTC send time, text and
attachment hashes:

    {"conversation":"taobao:C1","messages":[{"attachments":[],"id":"m2","sender":"buyer",
     "sent_at":"2026-11-12T01:00:00.000000Z","text":"…"},…]}

Anyone holding the messages can recompute the hash, and a change to any of them (or a message
added or removed) gives another one. `chat.digest` hashes stored messages with this code, and
evidence bundles carry these exact bytes (`chat/<number>.json`), which `bundle` reads back with
`excerpt_parse` — one implementation on both sides, and no Django, so bundles can ship it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reviewshield.proofs.records import canonical

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MESSAGE_FIELDS = frozenset({"id", "sender", "sent_at", "text", "attachments"})


@dataclass(frozen=True)
class Line:
    """One message as the hash sees it."""

    message_id: str
    sender: str
    sent_at: datetime
    text: str
    attachment_hashes: Sequence[str]


class ExcerptError(ValueError):
    """The bytes are not a stretch of chat in the canonical encoding's shape; the message says where."""


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


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


def excerpt_bytes(conversation: str, lines: Iterable[Line]) -> bytes:
    """The canonical encoding of these messages of `conversation` ("platform:id")."""
    return canonical(excerpt_record(conversation, lines))


def excerpt_sha256(conversation: str, lines: Iterable[Line]) -> str:
    """The hex SHA-256 of the canonical encoding of these messages of `conversation` ("platform:id")."""
    return hashlib.sha256(excerpt_bytes(conversation, lines)).hexdigest()


def excerpt_parse(data: bytes) -> tuple[str, list[Line]]:
    """The conversation and messages that `data` (an encoded stretch) holds; ExcerptError if malformed.

    Only the shape is checked here: whether the messages are the ones a number covers is the
    hash's business (`excerpt_sha256` of the result).
    """
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ExcerptError(f"not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(record, dict) or set(record) != {"conversation", "messages"}:
        raise ExcerptError('not an object with exactly "conversation" and "messages"')
    conversation, messages = record["conversation"], record["messages"]
    if not isinstance(conversation, str) or not isinstance(messages, list):
        raise ExcerptError('"conversation" must be a string and "messages" a list')
    return conversation, [_line(n, m) for n, m in enumerate(messages, start=1)]


def _line(n: int, message: Any) -> Line:
    if not isinstance(message, dict) or set(message) != _MESSAGE_FIELDS:
        raise ExcerptError(f"message {n} is not an object with exactly {', '.join(sorted(_MESSAGE_FIELDS))}")
    texts = [message[k] for k in ("id", "sender", "sent_at", "text")]
    attachments = message["attachments"]
    if not all(isinstance(v, str) for v in texts) or not (
        isinstance(attachments, list) and all(isinstance(h, str) for h in attachments)
    ):
        raise ExcerptError(
            f"message {n}: id, sender, sent_at and text must be strings, attachments a list of them"
        )
    try:
        sent_at = datetime.strptime(message["sent_at"], _TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise ExcerptError(
            f"message {n}: sent_at is not a UTC time like 2026-11-12T01:00:00.000000Z"
        ) from exc
    return Line(message["id"], message["sender"], sent_at, message["text"], tuple(attachments))
