"""Send due webhook deliveries: claim under a lease, POST outside any transaction, record the answer.

The protocol follows `deadlines.claiming`:

1. `deliveries_claim` leases up to `limit` due deliveries with one conditional UPDATE:
   `claimed_by = worker`, `next_attempt_at = now + lease`, `attempts += 1`. On PostgreSQL the inner
   SELECT takes FOR UPDATE SKIP LOCKED, so concurrent claimers never take each other's rows; on
   SQLite the statement runs in a BEGIN IMMEDIATE transaction, so claims are serialized. A worker
   that dies while sending needs no reaper: its lease end is simply the next attempt time.
2. The POSTs happen with no transaction open (a slow receiver must never hold a database lock for
   its timeout), several at once on a small thread pool that never touches the database.
3. One transaction records every answer: a `WebhookAttempt` per try, and — only where the delivery
   is still claimed by this worker — delivered, given up, or the next attempt time. A worker whose
   lease ran out while it was sending leaves the row to whoever claimed it next.

So a delivery is sent at least once, and more than once only when a worker died or outlived its
lease after the receiver had answered; receivers drop repeats by the event id
(X-ReviewShield-Delivery). Deliveries are not ordered: receivers order by `created_at`.

2xx means delivered; anything else (other statuses, redirects, timeouts, refused connections) is a
failed attempt, retried after base·2^(n−1) seconds (REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS, at most
6 hours, with "equal jitter": between half and all of it), until REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS
attempts, then given up (`dead_at`). An endpoint that did not answer at all is not asked again in
the same round: its other deliveries in the batch are recorded as skipped attempts and back off too,
so one dead receiver costs a round one timeout per pool thread, not one per delivery.

Log lines name deliveries, events and endpoints; they never carry a payload (or a URL, which may
hold a token).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from reviewshield.deadlines.worker import default_worker_name
from reviewshield.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from reviewshield.webhooks.signing import signed_headers, webhook_body

log = logging.getLogger(__name__)

BATCH = 100
"""Deliveries claimed per round."""
CONCURRENCY = 8
"""POSTs in flight at once in a round."""
BACKOFF_CAP = timedelta(hours=6)
ERROR_CHARS = 1000
RESPONSE_READ_LIMIT = 64 * 1024
"""Bytes of a receiver's answer we read (and drop) so the connection can be reused; more is not read."""
TICK_BUDGET_SECONDS = 30.0
"""The worker's duty sends full rounds back to back for at most this long, then lets deadlines run."""

_DELIVERY = WebhookDelivery._meta.db_table
_ENDPOINT = WebhookEndpoint._meta.db_table

Jitter = Callable[[], float]


def retry_delay(attempts: int, *, base_seconds: float, jitter: float = 1.0) -> timedelta:
    """Pause after the `attempts`-th failed try: base·2^(attempts−1), capped at 6 h.

    `jitter` in [0, 1] picks between half (0) and all (1) of it, so receivers coming back from an
    outage are not hit by every retry in the same second; tests pass 1.
    """
    exponent = min(max(attempts - 1, 0), 30)  # bounded so the multiplication cannot overflow
    full = min(timedelta(seconds=base_seconds) * (2**exponent), BACKOFF_CAP)
    return full / 2 + full / 2 * min(max(jitter, 0.0), 1.0)


def lease_for(limit: int, timeout: float) -> timedelta:
    """Long enough for a whole round to time out, pool-full after pool-full, plus a minute."""
    return timedelta(seconds=timeout * math.ceil(limit / CONCURRENCY) + 60)


def deliveries_claim(*, worker: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due deliveries of active endpoints (earliest first) to `worker`."""
    if limit <= 0:
        return []
    # Most rounds find nothing due; a plain read first spares SQLite's one write lock.
    if not WebhookDelivery.objects.filter(
        delivered_at__isnull=True, dead_at__isnull=True, next_attempt_at__lte=now, endpoint__active=True
    ).exists():
        return []
    ops = connection.ops
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # One statement: the rows the subquery picks are the rows updated (see deadlines.claiming for
    # why two workers can never both claim one). The condition is the partial index's.
    sql = (
        f"UPDATE {_DELIVERY} SET claimed_by = %s, next_attempt_at = %s, attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM {_DELIVERY} WHERE delivered_at IS NULL AND dead_at IS NULL "
        f"AND next_attempt_at <= %s AND endpoint_id IN (SELECT id FROM {_ENDPOINT} WHERE active = %s) "
        f"ORDER BY next_attempt_at LIMIT %s{lock}) RETURNING id"
    )
    params = [
        worker,
        ops.adapt_datetimefield_value(now + lease),
        ops.adapt_datetimefield_value(now),
        True,
        limit,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class Job:
    """What one POST needs; built from the database before any request is made."""

    delivery_id: int
    n: int
    endpoint_id: int
    endpoint_name: str
    url: str
    secret: str
    event: str
    event_id: str
    body: bytes


@dataclass(frozen=True)
class Answer:
    job: Job
    at: datetime
    status: int | None
    error: str
    duration_ms: int
    unreachable: bool = False

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _jobs(worker: str, ids: list[int]) -> list[Job]:
    rows = (
        WebhookDelivery.objects.filter(id__in=ids, claimed_by=worker)
        .select_related("event", "endpoint")
        .order_by("next_attempt_at", "id")
    )
    return [
        Job(
            delivery_id=d.pk,
            n=d.attempts,
            endpoint_id=d.endpoint_id,
            endpoint_name=d.endpoint.name,
            url=d.endpoint.url,
            secret=d.endpoint.secret,
            event=d.event.event,
            event_id=str(d.event.id),
            body=webhook_body(
                event_id=str(d.event.id),
                event=d.event.event,
                created_at=d.event.created_at,
                data=d.event.payload,
            ),
        )
        for d in rows
    ]


def _post(client: httpx.Client, job: Job, *, at: datetime, timeout: float) -> Answer:
    """One signed POST; never raises."""
    if not job.url.startswith(("https://", "http://")):
        return Answer(job, at, None, "invalid_url: the endpoint's URL is not an http(s) URL", 0)
    headers = signed_headers(
        secret=job.secret,
        event=job.event,
        delivery_id=job.event_id,
        timestamp=int(at.timestamp()),
        body=job.body,
    )
    started = time.perf_counter()
    status: int | None = None
    error = ""
    unreachable = False
    try:
        with client.stream("POST", job.url, content=job.body, headers=headers, timeout=timeout) as response:
            status = response.status_code
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read > RESPONSE_READ_LIMIT:
                    break
    except httpx.TimeoutException as exc:
        error, unreachable = f"timeout: no answer within {timeout:g} s ({type(exc).__name__})", True
    except httpx.ConnectError as exc:
        error, unreachable = f"unreachable: {type(exc).__name__}: {exc}", True
    except Exception as exc:  # a broken answer, a bad URL: a failed attempt, not a dead worker
        error = f"failed: {type(exc).__name__}: {exc}"
    duration_ms = round((time.perf_counter() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    return Answer(job, at, status, error[:ERROR_CHARS], duration_ms, unreachable)


def _send_all(jobs: list[Job], *, now: datetime, timeout: float) -> list[Answer]:
    """POST every job, CONCURRENCY at a time; an endpoint that did not answer is skipped after that."""
    started = time.monotonic()
    unreachable: set[int] = set()
    guard = threading.Lock()

    def clock() -> datetime:
        # `now` is the round's time; the attempt's own time moves on with the round.
        return now + timedelta(seconds=time.monotonic() - started)

    def send(client: httpx.Client, job: Job) -> Answer:
        at = clock()
        with guard:
            skip = job.endpoint_id in unreachable
        if skip:
            return Answer(
                job, at, None, "skipped: the endpoint did not answer another delivery this round", 0
            )
        answer = _post(client, job, at=at, timeout=timeout)
        if answer.unreachable:
            with guard:
                unreachable.add(job.endpoint_id)
        return answer

    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    # No redirects: a 3xx is an answer we did not ask for, and following it could send the signed
    # body somewhere else. No environment proxies: the endpoints are the marketplace's, by URL.
    with httpx.Client(limits=limits, follow_redirects=False, trust_env=False) as client:
        if len(jobs) == 1:
            return [send(client, jobs[0])]
        with ThreadPoolExecutor(
            max_workers=min(CONCURRENCY, len(jobs)), thread_name_prefix="webhook"
        ) as pool:
            return list(pool.map(lambda job: send(client, job), jobs))


def _record(answers: list[Answer], *, worker: str, max_attempts: int, base: float, jitter: Jitter) -> None:
    """Write every attempt, and settle the deliveries still claimed by `worker`; one transaction."""
    attempts = []
    delivered: list[Answer] = []
    with transaction.atomic():
        for a in answers:
            job = a.job
            # The attempt is logged even when the row is no longer ours: the request was made.
            attempts.append(
                WebhookAttempt(
                    delivery_id=job.delivery_id,
                    n=job.n,
                    at=a.at,
                    status_code=a.status,
                    error=a.error,
                    duration_ms=a.duration_ms,
                    worker=worker,
                )
            )
            if a.delivered:
                delivered.append(a)
                continue
            # Settled only while still ours: after our lease ran out another worker may own it.
            mine = WebhookDelivery.objects.filter(
                pk=job.delivery_id, claimed_by=worker, delivered_at__isnull=True, dead_at__isnull=True
            )
            if job.n >= max_attempts:
                mine.update(dead_at=a.at, claimed_by="", last_status=a.status, last_error=a.error)
                log.error(
                    "webhook delivery %s (%s to endpoint %s %r) given up after %s attempts: %s",
                    job.delivery_id,
                    job.event,
                    job.endpoint_id,
                    job.endpoint_name,
                    job.n,
                    a.error,
                )
                continue
            retry_at = a.at + retry_delay(job.n, base_seconds=base, jitter=jitter())
            mine.update(next_attempt_at=retry_at, claimed_by="", last_status=a.status, last_error=a.error)
            log.warning(
                "webhook delivery %s (%s to endpoint %s %r) attempt %s failed: %s; retry at %s",
                job.delivery_id,
                job.event,
                job.endpoint_id,
                job.endpoint_name,
                job.n,
                a.error,
                retry_at.isoformat(),
            )
        if delivered:
            # The common case, as one prepared statement run for every row (the ORM's update per row
            # costs more than the POST): each delivery keeps its own time and status code.
            adapt = connection.ops.adapt_datetimefield_value
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {_DELIVERY} SET delivered_at = %s, last_status = %s, claimed_by = '', "
                    f"last_error = '' WHERE id = %s AND claimed_by = %s "
                    f"AND delivered_at IS NULL AND dead_at IS NULL",
                    [(adapt(a.at), a.status, a.job.delivery_id, worker) for a in delivered],
                )
        WebhookAttempt.objects.bulk_create(attempts)


def webhooks_deliver_once(
    *,
    now: datetime,
    worker: str | None = None,
    limit: int = BATCH,
    jitter: Jitter = random.random,
) -> int:
    """Claim a round of due deliveries, POST them, record the answers; returns how many were tried.

    Must run outside any transaction (RuntimeError otherwise). `worker` defaults to a fresh name
    per round; `jitter` returns a number in [0, 1] per retry (tests pass `lambda: 1.0`).
    """
    if connection.in_atomic_block:
        raise RuntimeError("deliver webhooks outside any transaction: a slow receiver would hold its locks")
    worker = worker or default_worker_name()
    timeout = float(settings.REVIEWSHIELD_WEBHOOK_TIMEOUT_SECONDS)
    ids = deliveries_claim(worker=worker, now=now, limit=limit, lease=lease_for(limit, timeout))
    if not ids:
        return 0
    jobs = _jobs(worker, ids)
    answers = _send_all(jobs, now=now, timeout=timeout)
    _record(
        answers,
        worker=worker,
        max_attempts=int(settings.REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS),
        base=float(settings.REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS),
        jitter=jitter,
    )
    return len(answers)


def webhooks_tick(*, budget_seconds: float = TICK_BUDGET_SECONDS) -> int:
    """The worker's duty: send full rounds while there are any, for at most `budget_seconds`."""
    started = time.monotonic()
    sent = 0
    while True:
        n = webhooks_deliver_once(now=timezone.now())
        sent += n
        if n < BATCH or time.monotonic() - started >= budget_seconds:
            return sent
