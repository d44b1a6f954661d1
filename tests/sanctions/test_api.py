"""The sanctions API as the marketplace, an agent, a seller and an outsider would use it."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from reviewshield.accounts.models import Role, User
from tests.sanctions.conftest import START, decide

NOW = START + timedelta(hours=2)


def client_for(user, lang="en"):
    from django.test import Client

    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(user)
    return c


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def marketplace():
    user, _created = User.objects.get_or_create(username="market", defaults={"role": Role.SYSTEM})
    return user


def test_shop_status_for_the_marketplace_and_the_seller_but_not_others(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    case = decide(cast, "serious", START)
    res = client_for(marketplace()).get(f"/api/shops/{cast.shop.pk}/status")
    assert res.status_code == 200
    body = res.json()
    assert body["hidden"] is True and body["may_list"] is False and body["may_message"] is True
    assert body["public_warning"] is True and body["closed"] is False and body["sealed"] is False
    assert body["until"] == "2026-03-09T10:00:00+08:00"
    assert body["points"] == {"A": 12, "B": 0}
    (penalty,) = body["penalties"]
    assert penalty["case"] == case.reference and penalty["node"] == "Aevery12"
    assert client_for(cast.alice).get(f"/api/shops/{cast.shop.pk}/status").status_code == 200
    assert client_for(cast.dave).get(f"/api/shops/{cast.shop.pk}/status").status_code == 404
    assert client_for(cast.bob).get(f"/api/shops/{cast.shop.pk}/status").status_code == 404
    ledger = client_for(cast.alice).get(f"/api/shops/{cast.shop.pk}/ledger").json()
    assert ledger["years"] == {"2026": {"A": 12, "B": 0}}
    assert ledger["lines"][0]["case"] == case.reference


def test_exam_over_the_api_lifts_an_ended_period(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    decide(cast, "serious", START)
    time_machine.move_to(START + timedelta(days=8), tick=False)
    body = client_for(marketplace()).get(f"/api/shops/{cast.shop.pk}/status").json()
    assert body["hidden"] and body["awaiting_exam"]
    denied = post(client_for(cast.alice), f"/api/shops/{cast.shop.pk}/exam", {})
    assert denied.status_code == 403
    res = post(client_for(marketplace()), f"/api/shops/{cast.shop.pk}/exam", {"reference": "EXAM-77"})
    assert res.status_code == 201 and res.json()["hidden"] is False and res.json()["penalties"] == []


def test_compensation_list_csv_and_paid(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    case = decide(cast, "serious", START)
    agent = client_for(cast.erin)
    page = agent.get("/api/compensations?status=due").json()
    assert page["count"] == 1 and page["items"][0]["amount"] == "300.00"
    assert page["items"][0]["order"] == case.order.external_id
    export = agent.get("/api/compensations.csv")
    assert export["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [(r["case"], r["amount"], r["status"]) for r in rows] == [(case.reference, "300.00", "due")]
    text = export.content.decode("utf-8-sig")
    for private in (cast.bob.real_name, cast.bob.phone, cast.bob.username):
        assert private not in text
    comp_id = page["items"][0]["id"]
    paid = post(client_for(marketplace()), f"/api/compensations/{comp_id}/paid", {"payment_reference": "P-1"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    again = post(client_for(marketplace()), f"/api/compensations/{comp_id}/paid", {})
    assert again.status_code == 422
    # the seller sees their own shop's orders, a buyer none
    assert client_for(cast.alice).get("/api/compensations").json()["count"] == 1
    assert client_for(cast.dave).get("/api/compensations").json()["count"] == 0
    assert client_for(cast.bob).get("/api/compensations").status_code == 403


def test_appeal_over_the_api_in_both_languages(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    case = decide(cast, "serious", START)
    empty = post(client_for(cast.alice, "zh-hans"), f"/api/cases/{case.pk}/appeals", {"reasons": " "})
    assert empty.status_code == 422 and "判定错在哪里" in json.dumps(empty.json(), ensure_ascii=False)
    res = post(client_for(cast.alice), f"/api/cases/{case.pk}/appeals", {"reasons": "It was the courier."})
    assert res.status_code == 201
    appeal = res.json()
    assert appeal["status"] == "pending" and appeal["side"] == "seller"
    queue = client_for(cast.frank).get("/api/appeals").json()
    assert [a["id"] for a in queue["items"]] == [appeal["id"]]
    assert client_for(cast.alice).get("/api/appeals").status_code == 403
    first = post(
        client_for(cast.erin),
        f"/api/appeals/{appeal['id']}/decision",
        {"outcome": "overturned", "reasons": "x"},
    )
    assert first.status_code == 403  # erin made the first decision and is not a senior agent
    done = post(
        client_for(cast.frank),
        f"/api/appeals/{appeal['id']}/decision",
        {"outcome": "overturned", "reasons": "The courier's log.", "version": appeal["version"]},
    )
    assert done.status_code == 200 and done.json()["outcome"] == "overturned"
    status = client_for(marketplace()).get(f"/api/shops/{cast.shop.pk}/status").json()
    assert status["hidden"] is False and status["points"] == {"A": 0, "B": 0}
    listed = client_for(cast.bob).get(f"/api/cases/{case.pk}/appeals").json()
    assert [a["outcome"] for a in listed] == ["overturned"]
