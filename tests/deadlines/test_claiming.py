"""Claiming and firing deadlines, in one process: leases, exactly-once commits, retries, failures."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from reviewshield.deadlines import testing  # registers the test.* kinds
from reviewshield.deadlines.claiming import (
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    backoff,
    deadlines_claim,
    deadlines_process,
    deadlines_retry,
    deadlines_run_once,
)
from reviewshield.deadlines.models import Deadline, DeadlineRun, Outcome
from reviewshield.deadlines.scheduling import deadline_schedule, deadlines_cancel
from reviewshield.outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def schedule(kind: str = testing.RECORD, *, due: timedelta = timedelta(0), **payload: object) -> Deadline:
    return deadline_schedule(kind=kind, due_at=NOW + due, payload=dict(payload))


def effects(topic: str = testing.RECORD) -> Counter[int]:
    """How many times each deadline's handler effect was committed."""
    return Counter(m.payload["deadline"] for m in OutboxMessage.objects.filter(topic=topic))


def runs() -> Counter[int]:
    return Counter(DeadlineRun.objects.values_list("deadline_id", flat=True))


def test_claim_takes_due_rows_only_earliest_first() -> None:
    later = schedule(due=-timedelta(minutes=1))
    earliest = schedule(due=-timedelta(hours=2))
    middle = schedule(due=-timedelta(hours=1))
    exactly_now = schedule(due=timedelta(0))
    schedule(due=timedelta(seconds=1))  # not yet due

    first = deadlines_claim(worker="w1", now=NOW, limit=2, lease=LEASE)
    assert sorted(first) == sorted([earliest.pk, middle.pk])
    rest = deadlines_claim(worker="w1", now=NOW, limit=10, lease=LEASE)
    assert sorted(rest) == sorted([later.pk, exactly_now.pk])

    earliest.refresh_from_db()
    assert earliest.claimed_by == "w1"
    assert earliest.attempts == 1
    assert earliest.available_at == NOW + LEASE  # the lease end is when it falls due again
    assert earliest.done_at is None


def test_a_claimed_row_is_not_claimed_again_before_its_lease_ends() -> None:
    d = schedule()
    assert deadlines_claim(worker="w1", now=NOW, limit=10, lease=LEASE) == [d.pk]
    assert deadlines_claim(worker="w2", now=NOW, limit=10, lease=LEASE) == []
    almost = NOW + LEASE - timedelta(microseconds=1)
    assert deadlines_claim(worker="w2", now=almost, limit=10, lease=LEASE) == []


def test_a_crashed_workers_claim_is_taken_over_after_the_lease_and_fired_once() -> None:
    d = schedule()
    assert deadlines_claim(worker="crashed", now=NOW, limit=10, lease=LEASE) == [d.pk]
    # "crashed" never processes; when its lease ends the row is simply due again.
    later = NOW + LEASE
    assert deadlines_claim(worker="w2", now=later, limit=10, lease=LEASE) == [d.pk]

    # The first worker comes back to life late: the row is no longer its own.
    stale = deadlines_process(worker="crashed", ids=[d.pk], now=later)
    assert stale.skipped == [d.pk]
    assert stale.processed == 0
    fresh = deadlines_process(worker="w2", ids=[d.pk], now=later)
    assert fresh.fired == [d.pk]

    d.refresh_from_db()
    assert (d.outcome, d.done_at, d.attempts, d.claimed_by) == (Outcome.FIRED, later, 2, "")
    assert runs() == {d.pk: 1}
    assert list(DeadlineRun.objects.values_list("worker", "fired_at")) == [("w2", later)]
    assert effects() == {d.pk: 1}


def test_fired_deadline_has_its_effect_done_mark_and_run_row_together() -> None:
    a, b = schedule(), schedule(due=-timedelta(minutes=5))
    assert deadlines_run_once(worker="w", now=NOW, limit=10, lease=LEASE) == 2
    assert effects() == {a.pk: 1, b.pk: 1}
    assert runs() == {a.pk: 1, b.pk: 1}
    assert set(Deadline.objects.values_list("outcome", flat=True)) == {Outcome.FIRED}
    # Done rows are never claimed again, however late it gets.
    assert deadlines_claim(worker="w", now=NOW + timedelta(days=400), limit=10, lease=LEASE) == []


def test_a_failing_handler_leaves_no_effect_and_is_retried_with_backoff() -> None:
    d = schedule(testing.FAIL)
    result = deadlines_process(
        worker="w", ids=deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE), now=NOW
    )
    assert result.retrying == [d.pk]

    d.refresh_from_db()
    assert d.done_at is None
    assert d.outcome == ""
    assert d.claimed_by == ""
    assert "HandlerBoom: boom on deadline" in d.last_error
    assert d.available_at == NOW + backoff(1)
    assert effects(testing.FAIL) == {}  # its write was rolled back with the savepoint
    assert runs() == {}

    assert deadlines_claim(worker="w", now=d.available_at - timedelta(seconds=1), limit=10, lease=LEASE) == []
    assert deadlines_claim(worker="w", now=d.available_at, limit=10, lease=LEASE) == [d.pk]


def test_one_failing_handler_does_not_undo_the_others_in_its_batch() -> None:
    ok_before = schedule(due=-timedelta(minutes=2))
    bad = schedule(testing.FAIL, due=-timedelta(minutes=1))
    ok_after = schedule()
    result = deadlines_process(
        worker="w", ids=deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE), now=NOW
    )
    assert sorted(result.fired) == sorted([ok_before.pk, ok_after.pk])
    assert result.retrying == [bad.pk]
    assert effects() == {ok_before.pk: 1, ok_after.pk: 1}
    assert runs() == {ok_before.pk: 1, ok_after.pk: 1}


def test_backoff_doubles_and_is_capped() -> None:
    delays = [backoff(n) for n in range(1, 12)]
    assert delays[:3] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert all(a <= b for a, b in pairwise(delays))
    assert delays[-1] == BACKOFF_CAP
    assert backoff(10_000) == BACKOFF_CAP


def test_a_handler_that_keeps_failing_ends_failed_after_the_last_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    d = schedule(testing.FAIL)
    now = NOW
    for _ in range(MAX_ATTEMPTS):
        assert deadlines_run_once(worker="w", now=now, limit=10, lease=LEASE) == 1
        now += BACKOFF_CAP
    d.refresh_from_db()
    assert d.outcome == Outcome.FAILED
    assert d.done_at is not None
    assert d.attempts == MAX_ATTEMPTS
    assert "HandlerBoom" in d.last_error
    assert runs() == {}
    assert effects(testing.FAIL) == {}
    assert any(r.levelname == "ERROR" and str(d.pk) in r.getMessage() for r in caplog.records)
    assert deadlines_claim(worker="w", now=now + timedelta(days=1), limit=10, lease=LEASE) == []


def test_a_row_claimed_too_often_without_completing_fails_instead_of_looping() -> None:
    d = schedule()
    now = NOW
    for _ in range(MAX_ATTEMPTS + 1):  # every claimer dies before processing
        assert deadlines_claim(worker="doomed", now=now, limit=10, lease=LEASE) == [d.pk]
        now += LEASE
    result = deadlines_process(worker="doomed", ids=[d.pk], now=now)
    assert result.failed == [d.pk]
    d.refresh_from_db()
    assert d.outcome == Outcome.FAILED
    assert "without completing" in d.last_error
    assert effects() == {}


def test_unknown_kind_fails_with_a_clear_error() -> None:
    d = schedule("test.nobody-handles-this")
    result = deadlines_process(
        worker="w", ids=deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE), now=NOW
    )
    assert result.failed == [d.pk]
    d.refresh_from_db()
    assert d.outcome == Outcome.FAILED
    assert d.done_at == NOW
    assert "no handler registered for kind 'test.nobody-handles-this'" in d.last_error
    assert runs() == {}


def test_cancelled_deadlines_never_fire(cast: object) -> None:
    order = cast.order()  # type: ignore[attr-defined]
    keep = deadline_schedule(kind=testing.RECORD, due_at=NOW, order=order, payload={})
    cancel = deadline_schedule(kind=testing.OBSOLETE, due_at=NOW, order=order, payload={})
    assert deadlines_cancel(now=NOW, order=order, kinds=[testing.OBSOLETE]) == 1

    assert deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE) == [keep.pk]
    cancel.refresh_from_db()
    assert cancel.outcome == Outcome.CANCELLED
    assert runs() == {}


def test_a_deadline_cancelled_after_it_was_claimed_does_not_fire() -> None:
    d = schedule()
    ids = deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE)
    deadlines_cancel(now=NOW, kinds=[testing.RECORD])  # the service's transaction commits first
    result = deadlines_process(worker="w", ids=ids, now=NOW)
    assert result.skipped == [d.pk]
    d.refresh_from_db()
    assert d.outcome == Outcome.CANCELLED
    assert effects() == {}
    assert runs() == {}


def test_a_handler_can_report_the_deadline_obsolete() -> None:
    d = schedule(testing.OBSOLETE)
    result = deadlines_process(
        worker="w", ids=deadlines_claim(worker="w", now=NOW, limit=10, lease=LEASE), now=NOW
    )
    assert result.obsolete == [d.pk]
    d.refresh_from_db()
    assert (d.outcome, d.done_at) == (Outcome.OBSOLETE, NOW)
    assert runs() == {d.pk: 1}  # it ran, once; it just had nothing left to do


def test_retry_reopens_failed_and_hurries_pending_deadlines_but_leaves_done_ones() -> None:
    failed = schedule("test.nobody-handles-this")
    deadlines_run_once(worker="w", now=NOW, limit=10, lease=LEASE)
    backing_off = schedule(testing.FAIL)
    deadlines_run_once(worker="w", now=NOW, limit=10, lease=LEASE)
    fired = schedule(testing.RECORD)
    deadlines_run_once(worker="w", now=NOW, limit=10, lease=LEASE)
    future = schedule(due=timedelta(days=3))

    later = NOW + timedelta(seconds=1)
    assert deadlines_retry(ids=[failed.pk, backing_off.pk, fired.pk, future.pk], now=later) == 3
    assert sorted(deadlines_claim(worker="w", now=later, limit=10, lease=LEASE)) == sorted(
        [failed.pk, backing_off.pk, future.pk]
    )
    failed.refresh_from_db()
    assert (failed.outcome, failed.done_at, failed.attempts) == ("", None, 1)
    fired.refresh_from_db()
    assert fired.outcome == Outcome.FIRED
    assert runs() == {fired.pk: 1}
