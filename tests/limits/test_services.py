"""The counting under the limits: fixed windows, Retry-After, old windows swept, a limit of 0 off,
the settings' format, and exact counts when many requests arrive at once (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from reviewshield.errors import RateLimited
from reviewshield.limits.models import LimitCounter, LimitHit
from reviewshield.limits.services import limit_spend
from reviewshield.settings import LIMIT_DEFAULTS, _limits
from tests.conftest import local

NOW = local(2026, 11, 12, 9, 0)  # 01:00 UTC, a whole hour: windows of 3600 s start here


def spend(now, actor="user:1", scope="appeal_file"):
    limit_spend(scope=scope, actor=actor, now=now)


def test_the_window_is_fixed_and_retry_after_counts_to_its_end(db, settings):
    settings.REVIEWSHIELD_LIMITS = {**settings.REVIEWSHIELD_LIMITS, "appeal_file": (2, 3600)}
    spend(NOW + timedelta(minutes=20))
    spend(NOW + timedelta(minutes=30))
    with pytest.raises(RateLimited) as refused:
        spend(NOW + timedelta(minutes=45))
    assert refused.value.retry_after == 15 * 60 and refused.value.status == 429
    assert refused.value.details == {"limit": "appeal_file", "retry_after": 900}
    spend(NOW + timedelta(hours=1))  # the next window
    hit = LimitHit.objects.get()
    assert (hit.refused, hit.window_seconds, hit.first_at) == (1, 3600, NOW + timedelta(minutes=45))


def test_counters_of_ended_windows_are_swept_when_a_new_window_opens(db):
    spend(NOW, actor="user:1")
    spend(NOW, actor="user:2")
    assert LimitCounter.objects.count() == 2
    spend(NOW + timedelta(hours=1, minutes=1), actor="user:3")
    assert list(LimitCounter.objects.values_list("actor", flat=True)) == ["user:3"]


def test_a_limit_of_zero_is_off(db, settings):
    settings.REVIEWSHIELD_LIMITS = {**settings.REVIEWSHIELD_LIMITS, "appeal_file": (0, 60)}
    for _ in range(50):
        spend(NOW)
    assert not LimitCounter.objects.exists() and not LimitHit.objects.exists()


def test_the_settings_format():
    assert _limits("") == LIMIT_DEFAULTS
    assert _limits(" complaint_file=3/60 , bearer_failure=0/1")["complaint_file"] == (3, 60)
    assert _limits("bearer_failure=0/1")["bearer_failure"] == (0, 1)
    for wrong in ("complaint=3/60", "complaint_file=3", "complaint_file=x/60", "complaint_file=-1/60"):
        with pytest.raises(ValueError, match="REVIEWSHIELD_LIMITS"):
            _limits(wrong)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_many_requests_at_once_pass_exactly_the_limit(settings):
    settings.REVIEWSHIELD_LIMITS = {**settings.REVIEWSHIELD_LIMITS, "complaint_file": (5, 3600)}
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait()
            limit_spend(scope="complaint_file", actor="user:7", now=NOW)
            outcomes.append("passed")
        except RateLimited:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes) == ["passed"] * 5 + ["refused"] * 7
    assert LimitCounter.objects.get().count == 12
    assert LimitHit.objects.get().refused == 7
