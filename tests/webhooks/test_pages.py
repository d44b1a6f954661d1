"""The delivery log: the agent page, the API, the admin — who may read, who may send again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reviewshield.webhooks.models import WebhookDelivery
from reviewshield.webhooks.services import webhook_emit
from tests.conftest import as_user
from tests.webhooks.conftest import endpoint

pytestmark = pytest.mark.django_db


def emit_now(event: str = "case.decided", **payload: object):
    # The page tests run inside the test's transaction, as a service's emit would run in its own.
    with transaction.atomic():
        return webhook_emit(event=event, payload=payload or {"case_reference": "RS1"}, now=timezone.now())


@pytest.fixture
def log(cast):
    """One pending, one delivered and one given-up delivery, to two endpoints."""
    market = endpoint(name="Market-A")
    endpoint(name="Market-B", events=["sanction.applied"])
    emit_now("case.decided")
    emit_now("sanction.applied", shop_id=1)
    now = timezone.now()
    pending, delivered, dead = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=delivered.pk).update(delivered_at=now, attempts=2, last_status=204)
    WebhookDelivery.objects.filter(pk=dead.pk).update(
        dead_at=now, attempts=12, last_status=500, last_error="HTTP 500"
    )
    WebhookDelivery.objects.filter(pk=pending.pk).update(
        attempts=1,
        last_error="timeout: no answer within 10 s (ReadTimeout)",
        next_attempt_at=now + timedelta(minutes=1),
    )
    return {"pending": pending.pk, "delivered": delivered.pk, "dead": dead.pk, "endpoint": market}


def rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="delivery-(\d+)"', html)]


def test_agents_read_the_log_newest_first_with_filters(cast, log) -> None:
    erin = as_user(cast.erin)
    page = erin.get("/agent/webhooks/")
    assert page.status_code == 200
    html = page.content.decode()
    assert rows(html) == [log["dead"], log["delivered"], log["pending"]]
    assert "Market-A" in html and "Market-B" in html
    assert "No answer in time" in html and "Answered 500" in html and "Answered 204" in html
    assert "Case decided" in html and "Sanction applied" in html
    assert "Send again" not in html  # agents read; admins replay
    assert rows(erin.get("/agent/webhooks/?status=pending").content.decode()) == [log["pending"]]
    assert rows(erin.get("/agent/webhooks/?status=dead").content.decode()) == [log["dead"]]
    assert rows(erin.get("/agent/webhooks/?event=sanction.applied").content.decode()) == [
        log["dead"],
        log["delivered"],
    ]
    assert rows(erin.get("/agent/webhooks/?event=sanction.applied&status=delivered").content.decode()) == [
        log["delivered"]
    ]
    # next attempt in Beijing time, only for the pending one
    pending = WebhookDelivery.objects.get(pk=log["pending"])
    assert (
        timezone.localtime(pending.next_attempt_at, timezone.get_fixed_timezone(480)).strftime(
            "%Y-%m-%d %H:%M"
        )
        in html
    )


def test_the_page_is_paginated_with_a_fixed_number_of_queries(cast, log) -> None:
    for _ in range(30):
        emit_now()
    client = as_user(cast.erin)
    client.get("/agent/webhooks/")  # warm the session
    with CaptureQueriesContext(connection) as small:
        client.get("/agent/webhooks/?per=25")
    html = client.get("/agent/webhooks/?per=25&page=2").content.decode()
    assert len(rows(html)) == 33 - 25
    with CaptureQueriesContext(connection) as large:
        client.get("/agent/webhooks/?per=50")
    assert len(small) == len(large)


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_sellers_and_buyers_may_not_open_the_log_or_replay(cast, log, who) -> None:
    person = as_user(getattr(cast, who))
    assert person.get("/agent/webhooks/").status_code == 403
    assert person.post(f"/agent/webhooks/{log['dead']}/replay/").status_code == 403
    assert Client().get("/agent/webhooks/").status_code == 302
    assert WebhookDelivery.objects.get(pk=log["dead"]).dead_at is not None


def test_an_agent_may_not_replay(cast, log) -> None:
    assert as_user(cast.erin).post(f"/agent/webhooks/{log['dead']}/replay/").status_code == 403
    assert WebhookDelivery.objects.get(pk=log["dead"]).dead_at is not None


def test_an_admin_replays_from_the_page_and_is_told_what_happened(cast, log) -> None:
    admin = as_user(cast.admin)
    page = admin.get("/agent/webhooks/?status=dead").content.decode()
    assert "Send again" in page and "csrfmiddlewaretoken" in page
    res = admin.post(
        f"/agent/webhooks/{log['dead']}/replay/", {"next": "/agent/webhooks/?status=dead"}, follow=True
    )
    assert res.redirect_chain[-1][0] == "/agent/webhooks/?status=dead"
    html = res.content.decode()
    assert f"Delivery {log['dead']} (Sanction applied to Market-B) is due again now" in html
    d = WebhookDelivery.objects.get(pk=log["dead"])
    assert (d.status, d.attempts, d.replayed_by) == ("pending", 12, cast.admin)
    assert rows(html) == []  # no longer among the given up
    # somewhere else than our own pages is not followed
    res = admin.post(f"/agent/webhooks/{log['delivered']}/replay/", {"next": "https://evil.example/"})
    assert res.url == "/agent/webhooks/"
    assert admin.post("/agent/webhooks/999999/replay/").status_code == 404
    assert admin.get(f"/agent/webhooks/{log['dead']}/replay/").status_code == 405


def test_csrf_is_required_to_replay(cast, log) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin)
    assert client.post(f"/agent/webhooks/{log['dead']}/replay/").status_code == 403
    assert WebhookDelivery.objects.get(pk=log["dead"]).dead_at is not None


def test_api_lists_deliveries_for_agents_and_replays_for_admins(cast, log) -> None:
    erin = as_user(cast.erin)
    body = erin.get("/api/webhooks/deliveries?page_size=2").json()
    assert (body["count"], body["page"], body["page_size"]) == (3, 1, 2)
    first = body["items"][0]
    assert first["id"] == log["dead"] and first["status"] == "dead" and first["endpoint"] == "Market-B"
    assert (
        first["event"] == "sanction.applied"
        and first["last_status"] == 500
        and first["next_attempt_at"] is None
    )
    assert first["created_at"].endswith("+08:00")
    only = erin.get("/api/webhooks/deliveries?status=pending").json()["items"]
    assert [d["id"] for d in only] == [log["pending"]] and only[0]["next_attempt_at"].endswith("+08:00")
    assert erin.get("/api/webhooks/deliveries?status=lost").status_code == 422
    assert erin.get("/api/webhooks/deliveries?page_size=500").json()["code"] == "invalid"

    refused = erin.post(f"/api/webhooks/deliveries/{log['dead']}/replay")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    for who in (cast.alice, cast.bob):
        res = as_user(who).get("/api/webhooks/deliveries")
        assert res.status_code == 403 and set(res.json()) == {"code", "message", "details"}

    admin = as_user(cast.admin)
    replayed = admin.post(f"/api/webhooks/deliveries/{log['dead']}/replay")
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending" and replayed.json()["replayed_at"].endswith("+08:00")
    missing = admin.post("/api/webhooks/deliveries/999999/replay")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_api_replay_needs_the_csrf_token_from_a_browser(cast, log) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.admin)
    assert client.post(f"/api/webhooks/deliveries/{log['dead']}/replay").status_code in (401, 403)


def test_admin_lists_and_replays_deliveries(cast, log) -> None:
    client = as_user(cast.admin)
    for name in ("webhookendpoint", "webhookevent", "webhookdelivery"):
        assert client.get(reverse(f"admin:webhooks_{name}_changelist")).status_code == 200
    assert client.get(reverse("admin:webhooks_webhookdelivery_change", args=[log["dead"]])).status_code == 200
    assert client.get(reverse("admin:webhooks_webhookendpoint_add")).status_code == 200
    res = client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "replay", "_selected_action": [log["dead"], log["delivered"]]},
        follow=True,
    )
    assert "2 deliveries are due again now." in res.content.decode()
    assert set(WebhookDelivery.objects.values_list("delivered_at", "dead_at").distinct()) == {(None, None)}
