"""Delivering to a real receiver on 127.0.0.1: retries with growing pauses, timeouts, giving up, replay,
claims that never overlap, logs without payloads."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
from django.db import connection, transaction

from reviewshield.deadlines.worker import PERIODIC
from reviewshield.webhooks import delivery as delivery_module
from reviewshield.webhooks.delivery import (
    BACKOFF_CAP,
    deliveries_claim,
    retry_delay,
    webhooks_deliver_once,
    webhooks_tick,
)
from reviewshield.webhooks.models import WebhookAttempt, WebhookDelivery
from reviewshield.webhooks.services import webhook_replay
from tests.webhooks.conftest import NOW, SECRET, Receiver, emit, endpoint

pytestmark = pytest.mark.django_db(transaction=True)

PAYLOAD = {"case_reference": "RS2026SECRETREF", "outcome": "upheld", "tier": "serious"}


def full(**kwargs: object) -> int:
    """One round with no jitter: every pause is the whole backoff."""
    return webhooks_deliver_once(jitter=lambda: 1.0, **kwargs)  # type: ignore[arg-type]


class Clock:
    """The simulated time shared by the test and the receiver's signature check."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def fast(settings):
    settings.REVIEWSHIELD_WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.REVIEWSHIELD_WEBHOOK_BACKOFF_SECONDS = 30
    settings.REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS = 12
    return settings


def test_receiver_failing_twice_then_accepting_gets_it_once_signed(fast, receiver_factory) -> None:
    clock = Clock()
    receiver: Receiver = receiver_factory([500, 500, 204], clock=clock)
    endpoint(receiver.url)
    event = emit("case.decided", PAYLOAD)
    delivery = WebhookDelivery.objects.get()

    pauses = []
    for _ in range(10):  # the worker keeps coming back; only due deliveries are sent
        assert full(now=clock.now, worker="w") == 1
        assert full(now=clock.now, worker="w") == 0  # not due again at once
        delivery.refresh_from_db()
        if delivery.delivered_at:
            break
        pauses.append(delivery.next_attempt_at - WebhookAttempt.objects.latest("n").at)
        clock.now = delivery.next_attempt_at

    # three attempts, exactly one delivered, each one signed for its own moment
    assert [r.answered for r in receiver.requests] == [500, 500, 204]
    assert all(r.verified for r in receiver.requests)
    attempts = list(WebhookAttempt.objects.order_by("n"))
    assert [(a.n, a.status_code) for a in attempts] == [(1, 500), (2, 500), (3, 204)]
    assert attempts[0].error == "HTTP 500" and attempts[2].error == ""
    assert (delivery.attempts, delivery.last_status, delivery.claimed_by) == (3, 204, "")
    assert delivery.delivered_at == attempts[2].at and delivery.dead_at is None
    # the pauses grow: 30 s, then 60 s after each failed attempt
    assert pauses == [timedelta(seconds=30), timedelta(seconds=60)]
    # and nothing more is sent
    clock.now += timedelta(days=1)
    assert full(now=clock.now) == 0
    assert len(receiver.requests) == 3

    # the receiver got the canonical body and the headers it needs
    first = receiver.requests[0]
    assert json.loads(first.body) == {
        "id": str(event.id),
        "event": "case.decided",
        "created_at": "2026-11-12T01:00:00Z",
        "data": PAYLOAD,
    }
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-ReviewShield-Event"] == "case.decided"
    assert first.headers["X-ReviewShield-Delivery"] == str(event.id)
    assert first.headers["X-ReviewShield-Timestamp"] == str(int(NOW.timestamp()))
    assert {r.body for r in receiver.requests} == {first.body}  # the same bytes every time


def test_a_wrong_secret_is_noticed_by_the_receiver(fast, receiver_factory) -> None:
    receiver = receiver_factory([204], secret="the receiver's idea of the secret")
    endpoint(receiver.url, secret=SECRET)
    emit()
    assert full(now=NOW) == 1
    assert receiver.requests[0].verified is False


def test_a_receiver_that_never_answers_in_time_is_retried(fast, receiver_factory) -> None:
    receiver = receiver_factory(["hang", 204])
    endpoint(receiver.url)
    emit()

    assert full(now=NOW) == 1
    d = WebhookDelivery.objects.get()
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None and attempt.error.startswith("timeout: no answer within 0.5 s")
    assert 400 <= attempt.duration_ms < 5000
    assert (d.attempts, d.last_status, d.delivered_at) == (1, None, None)
    assert d.next_attempt_at == attempt.at + timedelta(seconds=30)
    assert d.last_problem == "timeout"

    assert full(now=d.next_attempt_at) == 1
    d.refresh_from_db()
    assert d.delivered_at is not None and d.attempts == 2


def test_a_refused_connection_is_a_failed_attempt(fast) -> None:
    endpoint("http://127.0.0.1:9/nobody-listens")  # the discard port: nothing answers on 127.0.0.1
    emit()
    assert full(now=NOW) == 1
    d = WebhookDelivery.objects.get()
    assert d.last_error.startswith("unreachable: ConnectError") and d.last_problem == "unreachable"
    assert d.delivered_at is None
    assert d.next_attempt_at == WebhookAttempt.objects.get().at + timedelta(seconds=30)


def test_one_round_tries_an_unreachable_endpoint_once_and_skips_its_other_deliveries(
    fast, receiver_factory
) -> None:
    good = receiver_factory([204])
    endpoint(good.url, name="good")
    endpoint("http://127.0.0.1:9/down", name="down")
    for _ in range(20):
        emit()
    assert full(now=NOW) == 40
    assert len(good.requests) == 20
    down = WebhookAttempt.objects.filter(delivery__endpoint__name="down")
    assert down.filter(error__startswith="unreachable").count() <= delivery_module.CONCURRENCY
    assert down.filter(error__startswith="skipped").count() >= 20 - delivery_module.CONCURRENCY
    assert WebhookDelivery.objects.filter(endpoint__name="down", delivered_at__isnull=True).count() == 20


def test_after_max_attempts_a_delivery_is_given_up(fast, receiver_factory, caplog) -> None:
    fast.REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS = 3
    receiver = receiver_factory([503])
    endpoint(receiver.url)
    emit()
    now = NOW
    for _ in range(3):
        assert full(now=now) == 1
        d = WebhookDelivery.objects.get()
        now = d.next_attempt_at
    assert d.dead_at is not None and d.delivered_at is None and d.status == "dead"
    assert (d.attempts, d.last_status, d.last_error) == (3, 503, "HTTP 503")
    assert full(now=now + timedelta(days=30)) == 0
    assert len(receiver.requests) == 3
    assert "given up after 3 attempts" in caplog.text


def test_replay_makes_a_dead_delivery_due_and_it_is_delivered(fast, receiver_factory, cast) -> None:
    fast.REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS = 1
    receiver = receiver_factory([500, 204])
    endpoint(receiver.url)
    emit()
    assert full(now=NOW) == 1
    d = WebhookDelivery.objects.get()
    assert d.status == "dead"

    later = NOW + timedelta(hours=2)
    replayed = webhook_replay(delivery_id=d.pk, user=cast.admin, now=later)
    assert (replayed.status, replayed.next_attempt_at, replayed.attempts) == ("pending", later, 1)
    assert (replayed.replayed_at, replayed.replayed_by) == (later, cast.admin)
    assert full(now=later) == 1
    d.refresh_from_db()
    assert d.status == "delivered" and d.attempts == 2
    assert [r.answered for r in receiver.requests] == [500, 204]

    # a delivered one can be sent again too (the receiver drops it by its id)
    webhook_replay(delivery_id=d.pk, user=cast.admin, now=later + timedelta(minutes=1))
    assert full(now=later + timedelta(minutes=1)) == 1
    assert len({r.headers["X-ReviewShield-Delivery"] for r in receiver.requests}) == 1


def test_replay_is_for_admins_and_not_while_a_worker_sends(cast) -> None:
    from reviewshield.errors import Conflict, NotFound, PermissionDenied

    endpoint()
    emit()
    d = WebhookDelivery.objects.get()
    for person in (cast.erin, cast.frank, cast.alice, cast.bob):
        with pytest.raises(PermissionDenied):
            webhook_replay(delivery_id=d.pk, user=person, now=NOW)
    with pytest.raises(NotFound):
        webhook_replay(delivery_id=d.pk + 1000, user=cast.admin, now=NOW)
    assert deliveries_claim(worker="w", now=NOW, limit=10, lease=timedelta(minutes=5)) == [d.pk]
    with pytest.raises(Conflict):
        webhook_replay(delivery_id=d.pk, user=cast.admin, now=NOW)
    # once the lease has run out, the worker is presumed dead and replay may take it
    webhook_replay(delivery_id=d.pk, user=cast.admin, now=NOW + timedelta(minutes=5))


def test_a_crashed_workers_claim_falls_due_when_its_lease_ends(fast, receiver_factory) -> None:
    receiver = receiver_factory([204])
    endpoint(receiver.url)
    emit()
    lease = timedelta(minutes=2)
    assert len(deliveries_claim(worker="crashed", now=NOW, limit=10, lease=lease)) == 1
    assert full(now=NOW + lease - timedelta(seconds=1)) == 0
    assert full(now=NOW + lease, worker="w2") == 1
    d = WebhookDelivery.objects.get()
    assert d.delivered_at is not None and d.attempts == 2


def test_a_paused_endpoint_keeps_its_deliveries_waiting(fast, receiver_factory) -> None:
    receiver = receiver_factory([204])
    e = endpoint(receiver.url)
    emit()
    e.active = False
    e.save()
    assert full(now=NOW) == 0
    e.active = True
    e.save()
    assert full(now=NOW) == 1 and len(receiver.requests) == 1


@pytest.mark.postgres_only
def test_two_claimers_at_once_never_take_the_same_delivery() -> None:
    # Threads need real row locks: the SQLite test database lives in shared-cache memory, where a
    # second writer gets "table is locked" at once instead of waiting (see the processes test below).
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims in threads need PostgreSQL")
    endpoint()
    for _ in range(60):
        emit()
    barrier = threading.Barrier(2)
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        try:
            barrier.wait()
            while ids := deliveries_claim(worker=name, now=NOW, limit=7, lease=timedelta(minutes=5)):
                claimed[name].extend(ids)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert_disjoint_and_complete(claimed, 60)
    owners = dict(WebhookDelivery.objects.values_list("pk", "claimed_by"))
    assert all(owners[pk] == name for name, ids in claimed.items() for pk in ids)


def assert_disjoint_and_complete(claimed: dict[str, list[int]], total: int) -> None:
    everything = [pk for ids in claimed.values() for pk in ids]
    assert len(everything) == len(set(everything)) == total
    assert all(claimed.values()), "both claimers should have taken some"


CLAIMER = """
import json, os, sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
import django
django.setup()
from reviewshield.webhooks.delivery import deliveries_claim
go = Path(sys.argv[1])
(go.parent / f"ready-{sys.argv[2]}").touch()
while not go.exists():
    time.sleep(0.005)
now = datetime(2026, 11, 12, 1, 0, tzinfo=UTC)
taken = []
while ids := deliveries_claim(worker=sys.argv[2], now=now, limit=3, lease=timedelta(minutes=5)):
    taken.extend(ids)
print(json.dumps(taken))
"""

SEED = """
import django
django.setup()
from django.db import transaction
from datetime import UTC, datetime
from reviewshield.webhooks.models import WebhookEndpoint
from reviewshield.webhooks.services import webhook_emit
WebhookEndpoint.objects.create(name="m", url="http://127.0.0.1:9/")
with transaction.atomic():
    for i in range({n}):
        webhook_emit(event="case.decided", payload={{"i": i}}, now=datetime(2026, 11, 12, 1, 0, tzinfo=UTC))
"""


def test_two_sqlite_processes_claiming_at_once_never_take_the_same_delivery(sqlite_db, tmp_path) -> None:
    _, env = sqlite_db
    env = {**env, "DJANGO_SETTINGS_MODULE": "reviewshield.settings"}
    total = 300
    subprocess.run([sys.executable, "-c", SEED.format(n=total)], env=env, check=True, timeout=120)
    go = tmp_path / "go"
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(go), name], env=env, stdout=subprocess.PIPE, text=True
        )
        for name in ("a", "b")
    }
    # Both import Django first (slow on a busy machine); the file lets them start claiming together.
    deadline = time.monotonic() + 90
    while not all((tmp_path / f"ready-{name}").exists() for name in procs):
        assert time.monotonic() < deadline, "the claimers did not start"
        time.sleep(0.05)
    go.touch()
    claimed = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        claimed[name] = json.loads(out.strip().splitlines()[-1])
    assert_disjoint_and_complete(claimed, total)


def test_logs_never_carry_the_payload(fast, receiver_factory, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    fast.REVIEWSHIELD_WEBHOOK_MAX_ATTEMPTS = 2
    receiver = receiver_factory([500])
    endpoint(receiver.url, name="Marketplace hooks")
    emit("case.decided", PAYLOAD)
    full(now=NOW)
    full(now=WebhookDelivery.objects.get().next_attempt_at)
    assert "given up" in caplog.text and "attempt 1 failed" in caplog.text
    for value in ("RS2026SECRETREF", "serious", SECRET, receiver.url):
        assert value not in caplog.text


def test_delivering_inside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks_deliver_once(now=NOW)


def test_retry_delays_double_up_to_six_hours_with_jitter_between_half_and_all() -> None:
    delays = [retry_delay(n, base_seconds=30) for n in range(1, 14)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == BACKOFF_CAP == delays[-1]
    assert all(a <= b for a, b in pairwise(delays))
    assert retry_delay(3, base_seconds=30, jitter=0.0) == timedelta(seconds=60)
    assert retry_delay(10_000, base_seconds=30) == BACKOFF_CAP


def test_the_worker_duty_is_registered_and_sends(fast, receiver_factory) -> None:
    assert "webhooks.deliver" in PERIODIC
    receiver = receiver_factory([204])
    endpoint(receiver.url)
    emit(now=datetime.now(tz=NOW.tzinfo) - timedelta(seconds=1))
    assert webhooks_tick() == 1
    assert len(receiver.requests) == 1
