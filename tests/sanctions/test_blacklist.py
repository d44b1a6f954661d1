"""The seller credit blacklist and the public warnings, through the services that decide and appeal."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils.html import escape

from reviewshield.marketplace.models import Shop
from reviewshield.sanctions import appeals, blacklist
from reviewshield.sanctions.models import BlacklistEntry, ShopEvent
from tests.sanctions.conftest import START, decide

WINDOW = timedelta(days=15)  # taobao-2021's appeal window, calendar days


def public(now):
    return blacklist.blacklist_public(now)


def shop_view(cast, now):
    return blacklist.shop_listing_out(Shop.objects.get(pk=cast.shop.pk), now, references=True)


def test_a_serious_decision_lists_the_shop_once_the_appeal_window_has_passed(cast):
    case = decide(cast, "serious", START)
    # not final yet: the public list is empty, the shop already sees what is coming
    assert public(START + timedelta(days=1)) == []
    mine = shop_view(cast, START + timedelta(days=1))
    assert not mine["listed"] and mine["upcoming"][0]["reason"] == "serious"
    assert mine["upcoming"][0]["decisions"][0]["case"] == case.reference
    # final: listed for the ruleset's 365 days
    after = START + WINDOW + timedelta(minutes=1)
    (entry,) = public(after)
    assert (entry["name"], entry["since"], entry["until"]) == (
        cast.shop.name,
        START + WINDOW,
        START + WINDOW + timedelta(days=365),
    )
    (ground,) = entry["grounds"]
    assert ground["reason"] == "serious" and ground["decisions"][0]["tier"] == "serious"
    assert ground["decisions"][0]["harassment_types"] == ["threats_insults"]
    mine = shop_view(cast, after)
    assert mine["listed"] and mine["until"] == "2027-03-17T10:00:00+08:00"
    # expired by rule
    assert public(START + WINDOW + timedelta(days=365)) == []


def test_the_public_list_names_no_buyer_order_or_case(cast):
    case = decide(cast, "serious", START)
    text = json.dumps(public(START + WINDOW + timedelta(days=1)), default=str)
    for secret in (case.reference, case.order.external_id, cast.bob.username, "138"):
        assert secret not in text


def test_an_appeal_holds_the_listing_back_and_its_decision_makes_it_final(cast):
    case = decide(cast, "serious", START)
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.alice, reasons="It was the courier.", now=START + timedelta(days=2)
    )
    (row,) = BlacklistEntry.objects.filter(shop=cast.shop)
    assert row.withdrawn_at == START + timedelta(days=2)
    assert shop_view(cast, START + timedelta(days=3))["upcoming"] == []
    assert public(START + WINDOW + timedelta(days=1)) == []  # still pending after the window
    decided = START + WINDOW + timedelta(days=3)
    appeals.appeal_decide(
        appeal_id=appeal.pk, senior=cast.frank, outcome="stands", reasons="Call log is ours.", now=decided
    )
    (entry,) = public(decided + timedelta(seconds=1))
    assert entry["since"] == decided and entry["until"] == decided + timedelta(days=365)
    kinds = list(
        ShopEvent.objects.filter(shop=cast.shop, kind__startswith="blacklist")
        .values_list("kind", flat=True)
        .order_by("at", "id")
    )
    assert kinds == ["blacklist_listed", "blacklist_withdrawn", "blacklist_listed"]


def test_an_overturned_decision_never_lists_the_shop(cast):
    case = decide(cast, "serious", START)
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.alice, reasons="Wrong shop.", now=START + timedelta(days=1)
    )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="overturned",
        reasons="Wrong shop indeed.",
        now=START + timedelta(days=2),
    )
    assert public(START + timedelta(days=400)) == []
    assert not shop_view(cast, START + timedelta(days=20))["listed"]


def test_two_ordinary_decisions_within_twelve_months_list_the_shop(cast):
    decide(cast, "ordinary", START)
    assert public(START + WINDOW + timedelta(days=1)) == []  # one is not enough
    second = START + timedelta(days=200)
    decide(cast, "ordinary", second, buyer=cast.carol)
    (entry,) = public(second + WINDOW + timedelta(minutes=1))
    (ground,) = entry["grounds"]
    assert ground["reason"] == "repeated" and len(ground["decisions"]) == 2
    assert entry["since"] == second + WINDOW


def test_two_ordinary_decisions_more_than_twelve_months_apart_do_not(cast):
    decide(cast, "ordinary", START)
    later = START + timedelta(days=370)
    decide(cast, "ordinary", later, buyer=cast.carol)
    assert public(later + WINDOW + timedelta(days=1)) == []


def test_public_warnings_list_shops_while_a_warning_penalty_runs(cast):
    decide(cast, "serious", START)  # taobao-2021 serious: 12 A points, the A node: 7 days with a warning
    (entry,) = blacklist.warnings_public(START + timedelta(days=1))
    (p,) = entry["penalties"]
    assert entry["name"] == cast.shop.name and "public_warning" in p["measures"]
    assert p["ends_at"] == START + timedelta(days=7)
    assert blacklist.warnings_public(START + timedelta(days=7)) == []


def test_the_public_api_needs_no_login_and_carries_no_buyer_data(cast, time_machine):
    from django.test import Client

    case = decide(cast, "serious", START)
    time_machine.move_to(START + WINDOW + timedelta(days=1), tick=False)
    res = Client().get("/api/public/blacklist")
    assert res.status_code == 200
    (entry,) = res.json()
    assert entry["name"] == cast.shop.name and entry["platform"] == "taobao"
    assert entry["since"] == "2026-03-17T10:00:00+08:00" and entry["until"] == "2027-03-17T10:00:00+08:00"
    assert entry["grounds"][0]["reason"] == "serious"
    assert Client().get("/api/public/blacklist?platform=jd").json() == []
    for secret in (case.reference, case.order.external_id, cast.bob.username):
        assert secret not in res.content.decode()
    # the warning of the A node (7 days) is over by now
    assert Client().get("/api/public/warnings").json() == []
    time_machine.move_to(START + timedelta(days=1), tick=False)
    (warned,) = Client().get("/api/public/warnings").json()
    assert (
        warned["name"] == cast.shop.name and warned["penalties"][0]["ends_at"] == "2026-03-09T10:00:00+08:00"
    )


def test_the_shop_sees_why_it_is_listed_and_when_it_leaves(cast, time_machine):
    from tests.conftest import as_user

    case = decide(cast, "serious", START)
    time_machine.move_to(START + timedelta(days=1), tick=False)
    page = as_user(cast.alice).get(f"/seller/shops/{cast.shop.pk}/sanctions/").content.decode()
    assert "This shop is not on the blacklist." in page and "Decisions that will list this shop" in page
    time_machine.move_to(START + WINDOW + timedelta(days=1), tick=False)
    page = as_user(cast.alice).get(f"/seller/shops/{cast.shop.pk}/sanctions/").content.decode()
    assert "since 2026-03-17 10:00. It leaves the list on 2027-03-17 10:00." in page
    assert case.reference in page  # the shop's own people see which complaint
    api = as_user(cast.alice).get(f"/api/shops/{cast.shop.pk}/blacklist").json()
    assert api["listed"] and api["grounds"][0]["decisions"][0]["case"] == case.reference
    status = as_user(cast.alice).get(f"/api/shops/{cast.shop.pk}/status").json()
    assert status["blacklisted"] is True and status["blacklisted_until"] == "2027-03-17T10:00:00+08:00"
    assert as_user(cast.dave).get(f"/api/shops/{cast.shop.pk}/blacklist").status_code == 404
    # the public page in Chinese names the shop, not the buyer or the case
    public_page = as_user(cast.dave, "zh-hans").get("/blacklist/").content.decode()
    assert escape(cast.shop.name) in public_page and "一起严重骚扰投诉成立" in public_page
    assert case.reference not in public_page and cast.bob.username not in public_page
