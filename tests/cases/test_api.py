"""The complaint API as a buyer, a seller, an agent and an outsider would use it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client

from reviewshield.accounts.models import ApiToken
from tests.conftest import local

TS = local(2026, 11, 10, 10, 0)


def client_for(user, lang="en"):
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def file_via_api(cast, order, lang="en", **overrides):
    body = {
        "order_id": order.pk,
        "harassment_types": ["phone_sms_bombing"],
        "occurred_at": "2026-11-11T02:00:00Z",
        "narrative": f"Got 200 SMS codes. Call me back at {cast.bob.phone}, I live at {cast.bob.address}. — {cast.bob.real_name}",
    }
    body.update(overrides)
    return post(client_for(cast.bob, lang), "/api/cases", body)


@pytest.fixture
def now_in_window(time_machine):
    time_machine.move_to(local(2026, 11, 12, 9, 0), tick=False)


def test_buyer_files_and_follows_the_case(cast, now_in_window):
    res = file_via_api(cast, cast.order(trade_success_at=TS))
    assert res.status_code == 201, res.content
    case = res.json()
    assert case["status"] == "awaiting_response" and case["viewer_side"] == "buyer"
    assert case["deadlines"]["respond_by"]["at"] == "2026-11-15T09:00:00+08:00"
    assert case["deadlines"]["handle_by"] == {"at": "2026-11-18T00:00:00+08:00", "provisional": False}
    listed = client_for(cast.bob).get("/api/cases").json()
    assert listed["count"] == 1 and listed["items"][0]["reference"] == case["reference"]
    events = client_for(cast.bob).get(f"/api/cases/{case['id']}/events").json()
    assert [e["kind"] for e in events] == ["filed"]


def test_the_seller_never_sees_the_buyers_name_phone_or_address(cast, now_in_window):
    case = file_via_api(cast, cast.order(trade_success_at=TS)).json()
    seller = client_for(cast.alice)
    bodies = [
        seller.get(f"/api/cases/{case['id']}").content,
        seller.get("/api/cases").content,
        seller.get(f"/api/cases/{case['id']}/events").content,
        post(
            seller, f"/api/cases/{case['id']}/answer", {"kind": "defence", "text": "We called once."}
        ).content,
    ]
    for body in bodies:
        text = body.decode()
        for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, '"bob"'):
            assert private not in text
    shown = json.loads(bodies[0])
    assert shown["buyer_alias"] == "b***b" and shown["viewer_side"] == "seller"
    assert "Got 200 SMS codes" in shown["narrative"] and "***" in shown["narrative"]


def test_outsiders_get_404_and_anonymous_callers_401(cast, now_in_window):
    case = file_via_api(cast, cast.order(trade_success_at=TS)).json()
    for outsider in (cast.carol, cast.dave):
        assert client_for(outsider).get(f"/api/cases/{case['id']}").status_code == 404
    anonymous = Client().get(f"/api/cases/{case['id']}")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert client_for(cast.erin).get(f"/api/cases/{case['id']}").json()["viewer_side"] == "agent"


@pytest.mark.parametrize(("lang", "word"), [("en", "window"), ("zh-hans", "投诉期")])
def test_refusal_is_a_422_with_code_and_message_in_the_callers_language(cast, time_machine, lang, word):
    time_machine.move_to(TS + timedelta(days=16), tick=False)
    res = file_via_api(cast, cast.order(trade_success_at=TS), lang=lang)
    assert res.status_code == 422
    body = res.json()
    assert body["code"] == "not_eligible" and body["details"]["reason"] == "window_passed"
    assert word in body["message"] and "2026-11-25 10:00" in body["message"]


@pytest.mark.parametrize(("lang", "word"), [("en", "not valid"), ("zh-hans", "无效")])
def test_malformed_input_is_a_422_never_a_500(cast, now_in_window, lang, word):
    res = file_via_api(
        cast,
        cast.order(trade_success_at=TS),
        lang=lang,
        harassment_types=["sorcery"],
        occurred_at="yesterday",
    )
    assert res.status_code == 422
    body = res.json()
    assert body["code"] == "invalid" and word in body["message"]
    assert {e["field"] for e in body["details"]["errors"]} >= {"harassment_types.0", "occurred_at"}
    assert client_for(cast.bob).get("/api/cases?page_size=5000").status_code == 422


def test_full_lifecycle_over_the_api_with_a_version_conflict(cast, now_in_window):
    case = file_via_api(cast, cast.order(trade_success_at=TS)).json()
    seller, agent, senior = client_for(cast.alice), client_for(cast.erin), client_for(cast.frank)
    answered = post(seller, f"/api/cases/{case['id']}/answer", {"kind": "defence", "text": "Not us."}).json()
    assert answered["status"] == "awaiting_decision"
    preview = agent.get(f"/api/cases/{case['id']}/decision-preview").json()
    assert [(p["tier"], p["points"]) for p in preview] == [
        ("ordinary", 2),
        ("serious", 12),
        ("especially_serious", 48),
    ]
    v = answered["version"]
    won = post(
        agent,
        f"/api/cases/{case['id']}/decide",
        {"outcome": "uphold", "tier": "ordinary", "reasons": "SMS bill.", "version": v},
    )
    lost = post(
        senior, f"/api/cases/{case['id']}/decide", {"outcome": "reject", "reasons": "No.", "version": v}
    )
    assert won.status_code == 200 and won.json()["decision"]["points"] == 2
    assert lost.status_code == 409 and lost.json()["code"] == "conflict"
    assert client_for(cast.bob).get(f"/api/cases/{case['id']}").json()["decision"]["outcome"] == "uphold"


def test_agent_queue_orders_by_nearest_deadline_and_marks_risk(cast, time_machine):
    time_machine.move_to(local(2026, 11, 12, 9, 0), tick=False)
    early = file_via_api(cast, cast.order(trade_success_at=TS)).json()
    time_machine.move_to(local(2026, 11, 13, 9, 0), tick=False)
    late = file_via_api(cast, cast.order(trade_success_at=TS)).json()
    time_machine.move_to(local(2026, 11, 15, 8, 0), tick=False)  # one hour before the first answer is due
    queue = client_for(cast.erin).get("/api/queue").json()
    assert [i["reference"] for i in queue["items"]] == [early["reference"], late["reference"]]
    assert [i["sla"] for i in queue["items"]] == ["at_risk", "ok"]
    assert client_for(cast.erin).get("/api/queue?risk=at_risk").json()["count"] == 1
    assert client_for(cast.bob).get("/api/queue").status_code == 403
    counters = client_for(cast.erin).get("/api/queue/counters").json()
    assert counters["open"] == 2


def test_marketplace_token_and_assisted_link_over_the_api(cast, time_machine):
    time_machine.move_to(TS + timedelta(days=20), tick=False)
    order = cast.order(trade_success_at=TS)
    link = post(
        client_for(cast.erin),
        "/api/assisted-links",
        {"order_id": order.pk, "reason": "Phoned in; threats continue."},
    )
    assert link.status_code == 201
    token = link.json()["token"]
    assert client_for(cast.bob).get(f"/api/assisted-links/{token}").json()["order_id"] == order.pk
    assert client_for(cast.carol).get(f"/api/assisted-links/{token}").status_code == 410
    res = file_via_api(cast, order, link_token=token)
    assert res.status_code == 201 and res.json()["assisted"] is True
    _row, raw = ApiToken.issue(user=cast.erin, name="ops")
    via_token = Client().get("/api/queue", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert via_token.status_code == 200 and via_token.json()["count"] == 1


def test_openapi_describes_every_step(client):
    spec = client.get("/api/openapi.json").json()
    for path in (
        "/api/cases",
        "/api/cases/{case_id}/answer",
        "/api/cases/{case_id}/decide",
        "/api/cases/{case_id}/withdraw",
        "/api/cases/{case_id}/settlement",
        "/api/queue",
        "/api/assisted-links",
        "/api/policy/deadlines",
    ):
        assert path in spec["paths"], path
    assert client.get("/api/docs").status_code == 200
