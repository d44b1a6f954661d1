"""The demo dataset `make run` loads: believable, complete, and loadable once."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from reviewshield.cases.models import Case, CaseStatus
from reviewshield.marketplace.models import Order, Review


@pytest.mark.django_db
def test_demo_has_every_case_state_and_loads_only_once(capsys, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", "--once")
    states = Counter(Case.objects.values_list("status", flat=True))
    assert set(states) == set(CaseStatus.values)
    assert 40 <= sum(states.values()) <= 80
    assert Order.objects.count() == 501  # 500 recent ones, and the one behind the blacklisted shop
    assert {c.ruleset_id for c in Case.objects.all()} == {"taobao-2021", "tmall-2020", "jd-2023"}
    # nothing is dated in the future, and some open cases are close to a deadline
    assert not Review.objects.filter(posted_at__gt=timezone.now()).exists()
    soon = timezone.now() + timezone.timedelta(hours=6)
    assert Case.objects.filter(status=CaseStatus.AWAITING_RESPONSE, respond_by__lt=soon).exists()
    # the worker caught up: unanswered cases past their window are with the platform as "no answer"
    assert Case.objects.filter(response="no_answer").exists()
    # the public pages have something to show: a blacklisted shop and one under public warning
    from reviewshield.sanctions.blacklist import blacklist_public, warnings_public

    assert [e["name"] for e in blacklist_public(timezone.now())] == ["Blue Harbor Outdoor"]
    assert warnings_public(timezone.now())
    call_command("demo", "--once")
    assert "already loaded" in capsys.readouterr().out
    assert Order.objects.count() == 501
