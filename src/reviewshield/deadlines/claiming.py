"""Claim due deadlines and fire each exactly once.

The protocol, and why it is exactly-once even when workers are killed at any moment:

1. `deadlines_claim` takes a *lease* on up to `limit` due rows with one conditional UPDATE:
   `claimed_by = worker`, `available_at = now + lease`, `attempts += 1`. On PostgreSQL the inner
   SELECT uses FOR UPDATE SKIP LOCKED, so concurrent claimers never wait on or take each other's
   rows; on SQLite the statement runs in a BEGIN IMMEDIATE transaction, so claims are serialized.
   A lease needs no reaper: if the worker dies, `available_at` (the lease end) simply falls due.
2. `deadlines_process` opens ONE transaction per batch, row-locks the rows *still claimed by this
   worker and not done* (rows another worker re-claimed after our lease ran out are skipped), runs
   each handler in a savepoint and, in that same transaction, marks the row done and writes its
   `DeadlineRun`. The handler's effects, "done" and the run row commit together or not at all: a
   worker killed mid-batch leaves nothing behind, and whoever claims after the lease redoes it.
   While we hold the row locks, a claimer on PostgreSQL skips the rows (SKIP LOCKED) even if our
   lease has expired, so a slow batch can never be fired twice either.

Failures: a handler exception rolls back only its savepoint; the row records the traceback tail
and is pushed back with exponential backoff. `attempts` counts claims, so a row that keeps killing
its worker (or keeps timing out) also ends as "failed" instead of looping forever.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction

from reviewshield.deadlines.models import Deadline, DeadlineRun, Outcome
from reviewshield.deadlines.scheduling import handler_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""Claims a deadline gets; the last failure (or a claim beyond this) marks it "failed"."""
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
ERROR_TAIL_CHARS = 4000

_TABLE = Deadline._meta.db_table


@dataclass
class ProcessResult:
    fired: list[int] = field(default_factory=list)
    obsolete: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    """Claimed ids we no longer own (re-claimed by another worker, cancelled, or locked)."""

    @property
    def processed(self) -> int:
        """Rows this batch settled one way or another (everything but the skipped ones)."""
        return len(self.fired) + len(self.obsolete) + len(self.retrying) + len(self.failed)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after the `attempts`-th failed one: 10 s, 20 s, 40 s … capped at 1 h."""
    exponent = min(max(attempts - 1, 0), 20)  # bounded so the multiplication cannot overflow
    return min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)


def deadlines_claim(*, worker: str, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Lease up to `limit` due deadlines (earliest first) to `worker`; returns their ids."""
    if limit <= 0:
        return []
    ops = connection.ops
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    # One statement: the rows picked by the subquery are the rows updated. On PostgreSQL the
    # subquery's row locks are held until the UPDATE commits, and SKIP LOCKED re-checks the WHERE
    # on the newest row version, so two workers can never both claim a row; on SQLite the atomic
    # block is BEGIN IMMEDIATE (settings), which serializes claimers before they read anything.
    sql = (
        f"UPDATE {_TABLE} SET claimed_by = %s, available_at = %s, attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM {_TABLE} WHERE done_at IS NULL AND available_at <= %s "
        f"ORDER BY available_at LIMIT %s{lock}) RETURNING id"
    )
    params = [
        worker,
        ops.adapt_datetimefield_value(now + lease),
        ops.adapt_datetimefield_value(now),
        limit,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _error_tail(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc))
    return text[-ERROR_TAIL_CHARS:]


def _fail(deadline: Deadline, *, now: datetime, error: str, result: ProcessResult) -> None:
    deadline.last_error = error
    deadline.done_at = now
    deadline.outcome = Outcome.FAILED
    deadline.claimed_by = ""
    deadline.save(update_fields=["last_error", "done_at", "outcome", "claimed_by"])
    result.failed.append(deadline.pk)
    log.error(
        "deadline %s (%s) failed for good after %s attempts: %s",
        deadline.pk,
        deadline.kind,
        deadline.attempts,
        error.strip().splitlines()[-1] if error.strip() else "",
    )


def deadlines_process(*, worker: str, ids: list[int], now: datetime) -> ProcessResult:
    """Fire the claimed deadlines `ids` in one transaction; see the module docstring."""
    result = ProcessResult()
    if not ids:
        return result
    runs: list[DeadlineRun] = []
    done: dict[str, list[int]] = {Outcome.FIRED: [], Outcome.OBSOLETE: []}
    with transaction.atomic():
        # Only rows still ours: after our lease expired another worker may have re-claimed a row
        # (claimed_by changed) or it may have been cancelled (done_at set). SKIP LOCKED: a row
        # locked right now belongs to someone else's claim or batch, never to us.
        rows = list(
            Deadline.objects.select_for_update(skip_locked=True)
            .filter(id__in=ids, claimed_by=worker, done_at__isnull=True)
            .order_by("due_at", "id")
        )
        owned = {row.pk for row in rows}
        result.skipped = [pk for pk in ids if pk not in owned]
        for deadline in rows:
            if deadline.attempts > MAX_ATTEMPTS:
                # Claimed again and again without ever completing: its worker keeps dying or its
                # batch keeps outliving the lease. Stop here rather than loop forever.
                _fail(
                    deadline,
                    now=now,
                    error=f"claimed {deadline.attempts} times without completing "
                    f"(worker killed or lease too short?)",
                    result=result,
                )
                continue
            handler = handler_for(deadline.kind)
            if handler is None:
                _fail(
                    deadline,
                    now=now,
                    error=f"no handler registered for kind {deadline.kind!r}",
                    result=result,
                )
                continue
            try:
                # The savepoint confines a failing handler's writes; the others in the batch stay.
                with transaction.atomic():
                    outcome = handler(deadline, now) or Outcome.FIRED
            except Exception as exc:
                error = _error_tail(exc)
                if deadline.attempts >= MAX_ATTEMPTS:
                    _fail(deadline, now=now, error=error, result=result)
                else:
                    deadline.last_error = error
                    deadline.available_at = now + backoff(deadline.attempts)
                    deadline.claimed_by = ""
                    deadline.save(update_fields=["last_error", "available_at", "claimed_by"])
                    result.retrying.append(deadline.pk)
                    log.warning(
                        "deadline %s (%s) attempt %s failed; retry at %s",
                        deadline.pk,
                        deadline.kind,
                        deadline.attempts,
                        deadline.available_at.isoformat(),
                    )
                continue
            if outcome not in done:
                _fail(deadline, now=now, error=f"handler returned unknown outcome {outcome!r}", result=result)
                continue
            done[outcome].append(deadline.pk)
            runs.append(DeadlineRun(deadline_id=deadline.pk, worker=worker, fired_at=now))
        for outcome, pks in done.items():
            if pks:
                Deadline.objects.filter(id__in=pks).update(done_at=now, outcome=outcome, claimed_by="")
        # Same transaction as the handlers' effects: a run row exists exactly when they committed.
        DeadlineRun.objects.bulk_create(runs)
    result.fired = done[Outcome.FIRED]
    result.obsolete = done[Outcome.OBSOLETE]
    return result


def deadlines_run_once(*, worker: str, now: datetime, limit: int, lease: timedelta) -> int:
    """Claim a batch and process it; returns how many deadlines were settled (0: nothing was due)."""
    ids = deadlines_claim(worker=worker, now=now, limit=limit, lease=lease)
    if not ids:
        return 0
    return deadlines_process(worker=worker, ids=ids, now=now).processed


def deadlines_retry(*, ids: list[int], now: datetime) -> int:
    """Make failed or still-open deadlines due now (admin "retry now"); returns how many.

    Failed ones are reopened with a fresh attempt budget. An open row that a worker holds right
    now is safe to touch: if another worker claims it, the first one's batch skips it because
    `claimed_by` changed, and a row already being fired is locked until it is done.
    """
    with transaction.atomic():
        Deadline.objects.filter(id__in=ids, outcome=Outcome.FAILED).update(
            done_at=None, outcome="", attempts=0, claimed_by=""
        )
        # Reopened rows are open now too, so this one update makes every one of them due.
        return Deadline.objects.filter(id__in=ids, done_at__isnull=True).update(available_at=now)
