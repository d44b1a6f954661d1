"""Emitting: only inside the caller's transaction, fanned out by subscription, no personal data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from reviewshield.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from reviewshield.webhooks.services import EVENTS, webhook_emit
from tests.webhooks.conftest import NOW, emit, endpoint

pytestmark = pytest.mark.django_db(transaction=True)


def test_emit_refuses_to_run_outside_a_transaction() -> None:
    endpoint()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        webhook_emit(event="case.decided", payload={"case_reference": "RS1"}, now=NOW)
    assert not WebhookEvent.objects.exists()


def test_emit_rolls_back_with_the_callers_transaction() -> None:
    endpoint()

    class Refused(Exception):
        pass

    # given a service that emits and then fails
    with pytest.raises(Refused), transaction.atomic():
        webhook_emit(event="sanction.applied", payload={"shop_id": 7}, now=NOW)
        raise Refused
    # then nothing of the announcement is left
    assert not WebhookEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_one_delivery_per_active_subscribed_endpoint() -> None:
    everything = endpoint(name="all")
    sanctions = endpoint(name="sanctions", events=["sanction.applied", "sanction.lifted"])
    cases = endpoint(name="cases", events=["case.decided"])
    endpoint(name="paused", active=False)

    applied = emit("sanction.applied", {"shop_id": 7})
    decided = emit("case.decided", {"case_reference": "RS1"})
    appeal = emit("appeal.decided", {"appeal_id": 3})

    def receivers(event: WebhookEvent) -> set[str]:
        return set(WebhookDelivery.objects.filter(event=event).values_list("endpoint__name", flat=True))

    assert receivers(applied) == {everything.name, sanctions.name}
    assert receivers(decided) == {everything.name, cases.name}
    assert receivers(appeal) == {everything.name}
    first = WebhookDelivery.objects.filter(event=applied).first()
    assert (first.attempts, first.next_attempt_at, first.created_at, first.status) == (0, NOW, NOW, "pending")


def test_without_a_subscriber_nothing_is_written_and_none_is_returned() -> None:
    endpoint(events=["sanction.applied"])
    with transaction.atomic():
        assert webhook_emit(event="case.decided", payload={"case_reference": "RS1"}, now=NOW) is None
    assert not WebhookEvent.objects.exists()


def test_unknown_events_are_refused() -> None:
    endpoint()
    with pytest.raises(ValueError, match="unknown webhook event"), transaction.atomic():
        webhook_emit(event="case.filed", payload={}, now=NOW)
    assert set(EVENTS) == {
        "sanction.applied",
        "sanction.lifted",
        "case.decided",
        "appeal.decided",
        "compensation.due",
        "review.extortion_marked",
    }


@pytest.mark.parametrize(
    "payload",
    [
        {"phone": "13800138000"},
        {"buyer_phone_number": "x"},
        {"Mobile": "x"},
        {"address": "x"},
        {"shipping_address": "x"},
        {"real_name": "x"},
        {"realName": "x"},
        {"name_real": "x"},
        {"email": "x"},
        {"case": {"buyer": {"phone": "x"}}},
        {"items": [{"ok": 1}, {"address": "x"}]},
    ],
)
def test_payload_keys_named_like_personal_data_are_refused(payload: dict) -> None:
    endpoint()
    with pytest.raises(ValueError, match="personal data"), transaction.atomic():
        webhook_emit(event="case.decided", payload=payload, now=NOW)
    assert not WebhookEvent.objects.exists()


def test_times_and_amounts_become_json() -> None:
    endpoint()
    decided_at = datetime(2026, 11, 12, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    row = emit("compensation.due", {"amount": Decimal("59.00"), "due_at": decided_at, "tiers": ("a", "b")})
    row.refresh_from_db()
    assert row.payload == {"amount": "59.00", "due_at": "2026-11-12T01:30:00Z", "tiers": ["a", "b"]}


@pytest.mark.parametrize("value", [object(), float("nan"), datetime(2026, 1, 1)])  # noqa: DTZ001
def test_what_json_cannot_carry_is_refused(value: object) -> None:
    endpoint()
    with pytest.raises(ValueError), transaction.atomic():
        webhook_emit(event="case.decided", payload={"v": value}, now=NOW)


def test_endpoint_secret_is_generated_and_events_are_checked() -> None:
    a, b = (
        WebhookEndpoint(name="a", url="https://m.example/hook"),
        WebhookEndpoint(name="b", url="https://m.example/h"),
    )
    assert len(a.secret) >= 40 and a.secret != b.secret
    a.secret = ""
    a.full_clean()
    assert len(a.secret) >= 40
    a.events = ["case.decided", "case.filed"]
    with pytest.raises(ValidationError, match=r"case\.filed"):
        a.full_clean()
