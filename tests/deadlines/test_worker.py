"""The worker loop in-process: draining, stopping, surviving database errors; the command; the admin."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from reviewshield.deadlines import testing, worker
from reviewshield.deadlines.models import Deadline, DeadlineRun, Outcome
from reviewshield.deadlines.scheduling import deadline_schedule


def due_now(n: int, kind: str = testing.RECORD) -> list[Deadline]:
    # The worker takes `now` from the clock (it is the edge), so these are due in real time.
    past = timezone.now() - timedelta(minutes=1)
    return [deadline_schedule(kind=kind, due_at=past - timedelta(seconds=i)) for i in range(n)]


@pytest.mark.django_db
def test_run_worker_drains_what_is_due_in_batches_then_stops_when_idle() -> None:
    deadlines = due_now(7)
    settled = worker.run_worker(name="w", batch=3, idle_sleep=0, max_idle_loops=1)
    assert settled == 7
    assert set(Deadline.objects.values_list("outcome", flat=True)) == {Outcome.FIRED}
    assert Counter(DeadlineRun.objects.values_list("deadline_id", flat=True)) == {d.pk: 1 for d in deadlines}
    assert set(DeadlineRun.objects.values_list("worker", flat=True)) == {"w"}


@pytest.mark.django_db
def test_worker_command_once_fires_due_deadlines(capsys: pytest.CaptureFixture[str]) -> None:
    due_now(3)
    call_command("worker", "--once", "--batch", "2", "--name", "cmd", "--idle-sleep", "0")
    assert "3 deadlines settled" in capsys.readouterr().out
    assert DeadlineRun.objects.filter(worker="cmd").count() == 3


def test_default_worker_names_are_unique_per_start() -> None:
    a, b = worker.default_worker_name(), worker.default_worker_name()
    assert a != b
    assert len(a) <= 100


def test_worker_survives_a_lost_database_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def flaky(**kwargs: Any) -> int:
        calls.append(kwargs["worker"])
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return 5 if len(calls) == 3 else 0

    monkeypatch.setattr(worker, "deadlines_run_once", flaky)
    monkeypatch.setattr(worker, "_drop_connection", lambda: None)
    assert worker.run_worker(name="w", idle_sleep=0.01, max_idle_loops=1) == 5
    assert len(calls) == 4


def test_worker_survives_an_unexpected_error(monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = iter([RuntimeError("bug"), 2, 0])

    def buggy(**kwargs: Any) -> int:
        result = next(outcomes)
        if isinstance(result, Exception):
            raise result
        return result

    monkeypatch.setattr(worker, "deadlines_run_once", buggy)
    assert worker.run_worker(name="w", idle_sleep=0.01, max_idle_loops=1) == 2


def test_setting_the_stop_event_ends_an_idle_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    polled = threading.Event()

    def nothing_due(**kwargs: Any) -> int:
        polled.set()
        return 0

    monkeypatch.setattr(worker, "deadlines_run_once", nothing_due)
    monkeypatch.setattr(worker.connection, "close", lambda: None)
    # A long idle sleep: stopping must not wait for it to run out.
    thread, stop = worker.start_worker_thread(name="t", idle_sleep=3600)
    assert polled.wait(10)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


@pytest.mark.django_db(transaction=True)
def test_worker_thread_fires_committed_deadlines() -> None:
    d = due_now(1)[0]
    thread, stop = worker.start_worker_thread(name="thread", idle_sleep=0.05)
    try:
        for _ in range(200):
            if DeadlineRun.objects.filter(deadline=d).exists():
                break
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert list(DeadlineRun.objects.values_list("deadline_id", "worker")) == [(d.pk, "thread")]


@pytest.mark.django_db
def test_admin_lists_deadlines_and_retries_failed_ones(cast: Any, client: Any) -> None:
    failed = deadline_schedule(kind="test.nobody-handles-this", due_at=timezone.now() - timedelta(hours=1))
    worker.run_worker(name="w", idle_sleep=0, max_idle_loops=1)
    failed.refresh_from_db()
    assert failed.outcome == Outcome.FAILED

    client.force_login(cast.admin)
    url = reverse("admin:deadlines_deadline_changelist")
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:deadlines_deadline_change", args=[failed.pk])).status_code == 200
    response = client.post(url, {"action": "retry_now", "_selected_action": [failed.pk]}, follow=True)
    assert response.status_code == 200
    failed.refresh_from_db()
    assert (failed.outcome, failed.done_at, failed.attempts) == ("", None, 0)
    assert failed.available_at <= timezone.now()
