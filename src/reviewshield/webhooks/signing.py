"""The bytes of a webhook and their signature. PURE: no Django, no clock, no settings.

A receiver needs only this file (and the endpoint's secret) to check what we send:

    body        canonical JSON of {"id", "event", "created_at", "data"}: sorted keys, no spaces,
                UTF-8 (not \\u escapes), no NaN
    timestamp   X-ReviewShield-Timestamp, the unix seconds of this attempt
    signature   X-ReviewShield-Signature: "sha256=" + hex HMAC-SHA256(secret, f"{timestamp}." + body)

Signing the timestamp with the body means a captured request cannot be replayed later than the
receiver's tolerance; the event id (also in X-ReviewShield-Delivery) lets the receiver drop a
delivery it has already processed, since every delivery is sent at least once, maybe more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

SCHEME = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300

HEADER_EVENT = "X-ReviewShield-Event"
HEADER_DELIVERY = "X-ReviewShield-Delivery"
HEADER_TIMESTAMP = "X-ReviewShield-Timestamp"
HEADER_SIGNATURE = "X-ReviewShield-Signature"


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """One exact byte string per value: sorted keys, compact, UTF-8."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def utc_iso(at: datetime) -> str:
    """`2026-11-12T01:00:00Z` (microseconds when there are any); refuses naive datetimes."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a naive datetime has no place in a webhook: pass an aware one")
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def webhook_body(*, event_id: str, event: str, created_at: datetime, data: Mapping[str, Any]) -> bytes:
    """The POST body of one event: the same bytes on every attempt, to every endpoint."""
    return canonical_json({"id": event_id, "event": event, "created_at": utc_iso(created_at), "data": data})


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-ReviewShield-Signature value: `sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    return SCHEME + _mac(secret, timestamp, body)


def signed_headers(
    *, secret: str, event: str, delivery_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header of one attempt."""
    return {
        "Content-Type": "application/json",
        HEADER_EVENT: event,
        HEADER_DELIVERY: delivery_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp: str | int,
    body: bytes,
    header: str,
    now_unix: float,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when `header` signs `timestamp` and `body` with `secret`, and `timestamp` is fresh.

    `timestamp` is the X-ReviewShield-Timestamp header as received; `now_unix` is the receiver's
    clock. Compares in constant time, so a forger learns nothing from how long a refusal took.
    """
    if isinstance(timestamp, str):
        # Digits only, and few of them: int() of a 5,000-digit header would raise, not refuse.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            return False
        timestamp = int(timestamp)
    if abs(now_unix - timestamp) > tolerance:
        return False
    if not header.startswith(SCHEME):
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), header.encode("utf-8", "replace"))
