"""RFC 3161 timestamps of the log's signed checkpoints, from the TSA named in REVIEWSHIELD_TSA_URL.

Our signature on a checkpoint proves who signed it, not when; a buyer's complaint may turn on when
(the harassment began after the review, the seller answered after the deadline). An outside
time-stamping authority signing SHA-256 of the checkpoint's note dates every record it covers.

Flow: the worker's "log.timestamp" duty (registered in `apps`, run right after "log.checkpoint")
takes checkpoints without a timestamp, newest first, asks the TSA over HTTP, checks the answer with
`proofs.timestamp` (granted, SHA-256 imprint of the note, our nonce, and — with
REVIEWSHIELD_TSA_CA_FILE — signed by a certificate chaining to those roots) and attaches it with one
conditional UPDATE. Off (no HTTP, no query) while REVIEWSHIELD_TSA_URL is empty.

Why it is shaped so:
- The HTTP call happens outside any transaction: a slow TSA must never hold the log's row lock (or,
  on SQLite, the database's one write lock) for its timeout.
- Signing a checkpoint never waits for the TSA. A TSA that is down or answers wrong is logged, and
  the checkpoint is asked for again on a later tick, after a pause that grows while failures last.
- Several workers may stamp the same checkpoint at once; the UPDATE only fills an empty timestamp,
  so the first answer stays and a token never changes once a bundle may carry it.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from reviewshield.evidence.models import LogCheckpoint
from reviewshield.proofs.timestamp import Timestamp, TimestampError, check_timestamp

log = logging.getLogger(__name__)

BATCH = 10  # checkpoints asked for per tick: a TSA back after an outage catches up without a flood
MAX_RESPONSE_BYTES = 1 << 20  # a timestamp with its certificate chain is a few kilobytes
# A TSA whose genTime is this much earlier than our signing time has a wrong clock, and a timestamp
# saying the checkpoint existed before we signed it would be a false statement in a bundle.
CLOCK_SKEW = timedelta(minutes=10)


class TimestampFailed(Exception):
    """The TSA could not be reached or its answer was refused; for operators' logs, so in English."""


def tsa_enabled() -> bool:
    return bool(settings.REVIEWSHIELD_TSA_URL)


def tsa_certificates() -> bytes | None:
    """The configured TSA roots (PEM), read afresh each time so a replaced file takes effect."""
    path = settings.REVIEWSHIELD_TSA_CA_FILE
    return Path(path).read_bytes() if path else None


def timestamp_fetch(*, note: str, issued_at: datetime) -> tuple[bytes, Timestamp]:
    """Ask the TSA to timestamp `note`; the DER response and what it says, once every check passed."""
    data = note.encode()
    request = (
        TimestampRequestBuilder()
        .data(data)
        .hash_algorithm(HashAlgorithm.SHA256)
        .nonce(nonce=True)  # a replayed or misrouted answer carries another nonce
        .cert_request(cert_request=True)  # the signer's certificate inside, for `openssl ts -verify`
        .build()
    )
    response = _post(request.as_bytes())
    try:
        ca = tsa_certificates()
    except OSError as exc:
        raise TimestampFailed(f"cannot read REVIEWSHIELD_TSA_CA_FILE ({exc})") from None
    try:
        stamp = check_timestamp(response, data, ca_pem=ca, nonce=request.nonce)
    except TimestampError as exc:
        raise TimestampFailed(f"the TSA's answer was refused: {exc}") from None
    if stamp.gen_time < issued_at - CLOCK_SKEW:
        raise TimestampFailed(
            f"the TSA's answer was refused: its genTime {stamp.gen_time.isoformat()} is before the "
            f"checkpoint was signed ({issued_at.isoformat()}); the TSA's clock (or ours) is wrong"
        )
    return response, stamp


def _post(query: bytes) -> bytes:
    url = settings.REVIEWSHIELD_TSA_URL
    if not url.startswith(("https://", "http://")):
        # urllib would also open file:// and ftp:// URLs; a TSA speaks HTTP (RFC 3161 §3.4).
        raise TimestampFailed(f"REVIEWSHIELD_TSA_URL {url!r} is not an http(s) URL")
    req = urllib.request.Request(
        url,
        data=query,
        method="POST",
        headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"},
    )
    try:
        with urllib.request.urlopen(req, timeout=settings.REVIEWSHIELD_TSA_TIMEOUT_SECONDS) as res:
            body: bytes = res.read(MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise TimestampFailed(f"the TSA at {url} did not answer ({exc})") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise TimestampFailed(f"the TSA at {url} answered more than {MAX_RESPONSE_BYTES} bytes")
    return body


def checkpoint_timestamp(*, checkpoint: LogCheckpoint) -> bool:
    """Get `checkpoint` a timestamp and attach it; False when another worker attached one first.

    Raises `TimestampFailed` (nothing stored) when the TSA is unreachable or its answer is refused.
    """
    if connection.in_atomic_block:
        raise RuntimeError("ask the TSA outside any transaction: its timeout would hold the database's locks")
    response, stamp = timestamp_fetch(note=checkpoint.note, issued_at=checkpoint.issued_at)
    attached = LogCheckpoint.objects.filter(pk=checkpoint.pk, timestamp_response__isnull=True).update(
        timestamp_response=response, timestamped_at=stamp.gen_time
    )
    return attached == 1


@dataclass
class Backoff:
    """One worker's pause after a TSA failure: 5 s, doubling, at most 5 minutes.

    The duty runs inside the worker loop, so a TSA that hangs would otherwise cost a full timeout on
    every tick and hold the deadlines up.
    """

    first: float = 5.0
    longest: float = 300.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    until: float = field(default=float("-inf"))

    def ready(self) -> bool:
        return self.clock() >= self.until

    def failed(self) -> float:
        self.failures += 1
        pause = min(self.first * 2 ** (self.failures - 1), self.longest)
        self.until = self.clock() + pause
        return pause


def timestamp_tick(*, backoff: Backoff | None = None) -> int:
    """The worker's duty: timestamp checkpoints that have none, newest first; returns how many got one.

    Stops at the first failure, logged as a warning: the TSA is asked again on a later tick (after
    `backoff`'s pause, when given).
    """
    if not tsa_enabled() or (backoff is not None and not backoff.ready()):
        return 0
    attached = 0
    for checkpoint in LogCheckpoint.objects.filter(timestamp_response__isnull=True)[:BATCH]:
        try:
            attached += int(checkpoint_timestamp(checkpoint=checkpoint))
        except TimestampFailed as exc:
            again = f"in {backoff.failed():.0f}s" if backoff is not None else "on the next tick"
            log.warning(
                "checkpoint of size %s not timestamped: %s; asking again %s", checkpoint.size, exc, again
            )
            return attached
    if backoff is not None:
        backoff.failures = 0
    return attached
