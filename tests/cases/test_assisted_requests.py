"""Requests for assisted filing: a buyer past the window asks; an agent issues the link from the
request with the existing assisted-filing flow; the buyer files with it and follows the status."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from reviewshield.cases import services
from reviewshield.cases.assisted import (
    assisted_request_file,
    assisted_request_link,
    assisted_requests_for_buyer,
    assisted_requests_open,
)
from reviewshield.cases.models import AssistedRequestStatus
from reviewshield.errors import (
    Conflict,
    InvalidTransition,
    NotEligible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.models import LogQueue
from tests.conftest import local

TS = local(2026, 10, 1, 10, 0)
LATE = local(2026, 11, 2, 10, 0)  # a month after trade success: the 15-day window is over


def test_a_buyer_past_the_window_asks_and_the_agent_opens_the_assisted_complaint(cast):
    order = cast.order(trade_success_at=TS)
    made = assisted_request_file(
        buyer=cast.bob, order_id=order.pk, description="Hell money arrived in the mail last week.", now=LATE
    )
    assert made.status == AssistedRequestStatus.OPEN
    assert list(assisted_requests_open()) == [made]
    requested = made.events.get()
    assert (
        requested.kind == "requested" and requested.actor == cast.bob and requested.data["order"] == order.pk
    )
    assert LogQueue.objects.filter(ref=f"assisted_request_event:{requested.pk}").exists()  # in the log
    # the agent answers with the existing flow: a single-use link, the buyer notified
    made, link, token = assisted_request_link(
        agent=cast.erin, request_id=made.pk, reason="Buyer's request checked: funeral items.", now=LATE
    )
    assert (
        made.status == AssistedRequestStatus.LINK_ISSUED
        and made.link == link
        and made.handled_by == cast.erin
    )
    assert [e.kind for e in made.events.all()] == ["requested", "link_issued"]
    assert not assisted_requests_open().exists()
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["items_mailed"],
        occurred_at=LATE - timedelta(days=3),
        narrative="Hell money and a curse letter.",
        link_token=token,
        now=LATE + timedelta(hours=1),
    )
    assert case.assisted_link == link
    [row] = assisted_requests_for_buyer(cast.bob)
    assert row["request"] == made and row["case_id"] == case.pk


def test_a_request_needs_a_description_and_a_closed_window(cast):
    order = cast.order(trade_success_at=TS)
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as err:
        assisted_request_file(buyer=cast.bob, order_id=order.pk, description="  ", now=LATE)
    with translation.override("zh-hans"):
        assert "请用几句话说明" in err.value.details["description"]
    with pytest.raises(InvalidTransition):  # still inside the window: file alone
        assisted_request_file(
            buyer=cast.bob, order_id=order.pk, description="Threats.", now=TS + timedelta(days=2)
        )
    with pytest.raises(NotEligible):  # rules that exclude the order are not bent by an agent's link
        tmall = cast.order(channel="tmall", trade_success_at=TS)
        assisted_request_file(buyer=cast.bob, order_id=tmall.pk, description="Threats.", now=LATE)
    with pytest.raises(NotFound):  # another buyer's order
        assisted_request_file(buyer=cast.carol, order_id=order.pk, description="Threats.", now=LATE)
    assert not assisted_requests_open().exists()


def test_one_waiting_request_per_order_and_only_agents_issue_links(cast):
    order = cast.order(trade_success_at=TS)
    made = assisted_request_file(buyer=cast.bob, order_id=order.pk, description="Threats by phone.", now=LATE)
    with pytest.raises(Conflict):
        assisted_request_file(buyer=cast.bob, order_id=order.pk, description="Again.", now=LATE)
    with pytest.raises(PermissionDenied):
        assisted_request_link(agent=cast.alice, request_id=made.pk, reason="I am the seller.", now=LATE)
    with pytest.raises(ValidationFailed):
        assisted_request_link(agent=cast.erin, request_id=made.pk, reason=" ", now=LATE)
    made.refresh_from_db()
    assert made.status == AssistedRequestStatus.OPEN and made.events.count() == 1  # nothing half-written
    assisted_request_link(agent=cast.erin, request_id=made.pk, reason="Checked.", now=LATE)
    with pytest.raises(InvalidTransition):
        assisted_request_link(agent=cast.frank, request_id=made.pk, reason="Twice.", now=LATE)


def _client(user, lang="en"):
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


def _post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("lang", "words"), [("en", "Waiting for an agent"), ("zh-hans", "等待小二处理")])
def test_the_api_asks_lists_and_answers_with_the_same_service(cast, time_machine, lang, words):
    time_machine.move_to(LATE, tick=False)
    order = cast.order(trade_success_at=TS)
    bob = _client(cast.bob, lang)
    res = _post(bob, "/api/assisted-requests", {"order_id": order.pk, "description": "Threats by SMS."})
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["status"] == "open" and body["status_label"] == words
    assert _post(bob, "/api/assisted-requests", {"order_id": order.pk, "description": ""}).status_code == 422
    erin = _client(cast.erin)
    [waiting] = erin.get("/api/assisted-requests").json()
    assert waiting["reference"] == body["reference"] and waiting["description"] == "Threats by SMS."
    assert _client(cast.carol).get("/api/assisted-requests").json() == []  # not carol's
    assert _post(bob, f"/api/assisted-requests/{body['id']}/link", {"reason": "Me."}).status_code == 403
    link = _post(erin, f"/api/assisted-requests/{body['id']}/link", {"reason": "Checked the order."})
    assert link.status_code == 201 and link.json()["url"].startswith("/file/")
    [mine] = bob.get("/api/assisted-requests").json()
    assert mine["status"] == "link_issued"
