"""The extortion API as the seller, the buyer, an agent and outsiders use it — and what a seller never gets."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reviewshield.cases import services as case_services
from tests.conftest import as_user
from tests.extortion.conftest import FILED, TS, reviewed_order
from tests.samples import png


@pytest.fixture(autouse=True)
def _at_filing_time(time_machine):
    time_machine.move_to(FILED, tick=False)


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def file_via_api(cast, order=None, lang="en", who=None, **overrides):
    order = order or reviewed_order(cast)
    body = {
        "order_id": order.pk,
        "threat": "bad_review",
        "demand": "200 yuan",
        "demand_amount": "200",
        "occurred_at": "2026-11-12T01:00:00Z",
        # the seller knows the buyer from the shipping label: even their own words come back masked
        "narrative": f"Buyer {cast.bob.real_name} ({cast.bob.phone}) wants 200 yuan or a one-star review.",
        "evidence_kind": "chat_screenshot",
        "files": [SimpleUploadedFile("demand.png", png())],
    }
    body.update(overrides)
    return as_user(who or cast.alice, lang).post("/api/extortion", body)


def answer_via_api(cast, report_id, **overrides):
    body = {
        "text": f"I am {cast.bob.real_name}, call {cast.bob.phone} or visit {cast.bob.address}. I asked for nothing.",
        "evidence_kind": "statement",
        "files": [
            SimpleUploadedFile(
                "my-side.txt", f"My number is {cast.bob.phone}. I only asked for a refund.".encode()
            )
        ],
    }
    body.update(overrides)
    return as_user(cast.bob).post(f"/api/extortion/{report_id}/answer", body)


def test_the_seller_files_the_buyer_answers_and_an_agent_upholds(cast):
    res = file_via_api(cast)
    assert res.status_code == 201, res.content
    report = res.json()
    assert (report["status"], report["viewer_side"], report["buyer_alias"]) == (
        "awaiting_buyer",
        "seller",
        "b***b",
    )
    assert report["deadlines"]["answer_by"] == {"at": "2026-11-15T09:30:00+08:00", "provisional": False}
    assert report["demand_amount"] == "200.00" and report["evidence"][0]["file"] == "original"

    mine = as_user(cast.bob).get(f"/api/extortion/{report['id']}").json()
    assert mine["viewer_side"] == "buyer" and mine["evidence"][0]["file"] == "clean_copy"
    assert as_user(cast.bob).get("/api/extortion").json()["count"] == 1

    res = answer_via_api(cast, report["id"])
    assert res.status_code == 200, res.content
    assert res.json()["status"] == "awaiting_decision" and res.json()["answered_at"]

    agent = as_user(cast.erin)
    assert agent.get("/api/extortion").json()["items"][0]["buyer_alias"] == "bob"
    assigned = post_json(agent, f"/api/extortion/{report['id']}/assign", {})
    assert assigned.json()["assigned_agent"] == "erin"
    decided = post_json(
        agent,
        f"/api/extortion/{report['id']}/decision",
        {"outcome": "uphold", "reasons": "The chat shows the demand.", "version": assigned.json()["version"]},
    )
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert body["status"] == "upheld" and body["decision"]["outcome"] == "uphold"
    assert body["review"]["marked_as_extortion"] is True
    strikes = agent.get(f"/api/buyers/{cast.bob.pk}/strikes").json()
    assert strikes["count"] == 1 and strikes["strikes"][0]["report"] == report["reference"]


def test_a_seller_never_receives_the_buyers_phone_address_or_real_name(cast):
    report = file_via_api(cast).json()
    answer_via_api(cast, report["id"])
    seller = as_user(cast.alice)
    evidence = seller.post(
        f"/api/extortion/{report['id']}/evidence",
        {"kind": "chat_screenshot", "files": [SimpleUploadedFile("b.png", png())]},
    )
    detail = seller.get(f"/api/extortion/{report['id']}")
    buyer_statement = next(e for e in detail.json()["evidence"] if e["side"] == "buyer")
    assert buyer_statement["file"] == "clean_copy"
    statement = seller.get(f"/api/extortion/{report['id']}/evidence/{buyer_statement['id']}/file")
    assert statement.status_code == 200
    bodies = [
        json.dumps(file_via_api(cast).json()),
        evidence.content.decode(),
        detail.content.decode(),
        seller.get("/api/extortion").content.decode(),
        b"".join(statement.streaming_content).decode(),
        post_json(seller, f"/api/extortion/{report['id']}/withdraw", {"reason": "x"}).content.decode(),
    ]
    assert "I asked for nothing." in detail.json()["answer_text"]
    assert "wants 200 yuan" in detail.json()["narrative"]
    for body in bodies:
        for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, '"bob"'):
            assert private not in body, (private, body[:300])


def test_who_may_do_what(cast):
    order = reviewed_order(cast)
    refused = file_via_api(cast, order, who=cast.bob)  # a buyer reporting their own order
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    res = file_via_api(cast, order)
    rid = res.json()["id"]
    assert as_user(cast.dave).get(f"/api/extortion/{rid}").status_code == 404
    assert as_user(cast.dave).get("/api/extortion").json()["count"] == 0
    assert as_user(cast.carol).get(f"/api/extortion/{rid}").status_code == 404
    assert Client().get(f"/api/extortion/{rid}").status_code == 401
    assert (
        post_json(
            as_user(cast.alice), f"/api/extortion/{rid}/decision", {"outcome": "uphold", "reasons": "r"}
        ).status_code
        == 403
    )
    assert post_json(as_user(cast.bob), f"/api/extortion/{rid}/withdraw", {}).status_code == 403
    assert answer_via_api(cast, rid, files=[]).status_code == 200
    for person in (cast.alice, cast.bob):
        assert as_user(person).get(f"/api/buyers/{cast.bob.pk}/strikes").status_code == 403
    assert as_user(cast.erin).get("/api/buyers/987654/strikes").status_code == 404
    # a seller filing for another shop's order learns nothing about it
    res = file_via_api(cast, cast.order(shop=cast.other_shop, trade_success_at=TS))
    assert res.status_code == 404 and res.json()["code"] == "not_found"


def test_errors_come_in_the_common_envelope_in_the_callers_language(cast):
    res = file_via_api(cast, lang="zh-hans", files=[], narrative="", threat="curse")
    assert res.status_code == 422
    body = res.json()
    assert body["code"] == "invalid" and set(body["details"]) == {"files", "narrative", "threat"}
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    order = reviewed_order(cast)
    assert file_via_api(cast, order).status_code == 201
    again = file_via_api(cast, order)
    assert again.status_code == 422 and again.json()["details"]["reason"] == "already_open"


def test_an_answer_after_the_window_is_refused_with_its_end(cast, time_machine):
    rid = file_via_api(cast).json()["id"]
    time_machine.move_to(FILED + timedelta(hours=72, minutes=1), tick=False)
    res = answer_via_api(cast, rid, files=[])
    assert res.status_code == 409 and res.json()["code"] == "deadline_passed"
    assert "2026-11-15 09:30" in res.json()["message"]


def test_agents_see_the_buyers_strikes_on_a_later_complaint_and_sellers_never(cast):
    rid = file_via_api(cast).json()["id"]
    answer_via_api(cast, rid, files=[])
    post_json(
        as_user(cast.erin), f"/api/extortion/{rid}/decision", {"outcome": "uphold", "reasons": "Shown."}
    )
    case = case_services.case_file(
        buyer=cast.bob,
        order_id=cast.order(trade_success_at=TS).pk,
        harassment_types=["threats_insults"],
        occurred_at=FILED - timedelta(hours=1),
        narrative="The seller threatened me.",
        now=FILED,
    )
    seen = as_user(cast.erin).get(f"/api/cases/{case.pk}").json()["buyer_strikes"]
    assert seen["count"] == 1 and seen["strikes"][0]["report_id"] == rid
    for person in (cast.alice, cast.bob):
        assert as_user(person).get(f"/api/cases/{case.pk}").json()["buyer_strikes"] is None


def test_the_shop_rating_leaves_out_the_review_found_to_be_extortion(cast):
    reviewed_order(cast, rating="good")
    rid = file_via_api(cast).json()["id"]
    before = as_user(cast.carol).get(f"/api/shops/{cast.shop.pk}/rating").json()
    assert before == {
        "shop": cast.shop.pk,
        "good": 1,
        "neutral": 0,
        "bad": 1,
        "counted": 2,
        "good_share": "0.5000",
        "left_out_as_extortion": 0,
    }
    answer_via_api(cast, rid, files=[])
    post_json(
        as_user(cast.erin), f"/api/extortion/{rid}/decision", {"outcome": "uphold", "reasons": "Shown."}
    )
    after = as_user(cast.alice).get(f"/api/shops/{cast.shop.pk}/rating").json()
    assert (after["bad"], after["counted"], after["good_share"], after["left_out_as_extortion"]) == (
        0,
        1,
        "1.0000",
        1,
    )
    assert as_user(cast.alice).get("/api/shops/987654/rating").status_code == 404
