"""The marketplace API: batch pushes by the marketplace's systems, and who sees which orders."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reviewshield.accounts.models import ApiToken, Role, User
from reviewshield.marketplace.models import Order, Review
from tests.conftest import local

ORDERS_URL = "/api/marketplace/orders"
REVIEWS_URL = "/api/marketplace/reviews"


def order_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "platform": "taobao",
        "order_id": "T1001",
        "shop_id": "S1",
        "buyer_id": "tb_bob",
        "buyer_nickname": "bobby",
        "channel": "taobao",
        "title": "Oolong tea",
        "amount": "59.00",
        "status": "trade_success",
        "paid_at": "2026-09-20T10:00:00+08:00",
        "trade_success_at": "2026-09-25T10:00:00+08:00",
    }
    item.update(overrides)
    return item


@pytest.fixture
def system(db: Any) -> Client:
    user = User.objects.create_user(username="taobao-sync", role=Role.SYSTEM)
    _token, raw = ApiToken.issue(user=user, name="sync")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


def as_user(user: Any, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def post(client: Client, url: str, items: list[dict[str, Any]]) -> Any:
    return client.post(url, {"items": items}, content_type="application/json")


# --- pushes -----------------------------------------------------------------------------------


def test_pushing_orders_needs_authentication(cast: Any) -> None:
    response = post(Client(), ORDERS_URL, [order_item()])

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_tokens_last_use_is_kept_to_the_minute_without_a_write_per_request(cast: Any) -> None:
    user = User.objects.create_user(username="taobao-sync", role=Role.SYSTEM)
    token, raw = ApiToken.issue(user=user, name="sync")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
    assert token.last_used_at is None

    assert post(client, ORDERS_URL, [order_item()]).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None

    with CaptureQueriesContext(connection) as queries:
        assert post(client, ORDERS_URL, [order_item()]).status_code == 200
    assert not any("accounts_apitoken" in q["sql"] and "UPDATE" in q["sql"] for q in queries)
    token.refresh_from_db()
    assert token.last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    assert post(client, ORDERS_URL, [order_item()]).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None and token.last_used_at > first - timedelta(minutes=1)


def test_a_revoked_token_or_a_deactivated_account_is_refused(cast: Any) -> None:
    user = User.objects.create_user(username="jd-sync", role=Role.SYSTEM)
    token, raw = ApiToken.issue(user=user, name="sync")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
    assert post(client, ORDERS_URL, [order_item()]).status_code == 200
    assert post(Client(HTTP_AUTHORIZATION=f"Bearer {raw}x"), ORDERS_URL, [order_item()]).status_code == 401

    User.objects.filter(pk=user.pk).update(is_active=False)
    assert post(client, ORDERS_URL, [order_item()]).status_code == 401
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert post(client, ORDERS_URL, [order_item()]).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = post(client, ORDERS_URL, [order_item()])
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_only_the_marketplace_system_and_admins_push_orders(cast: Any) -> None:
    response = post(as_user(cast.alice), ORDERS_URL, [order_item()])

    assert response.status_code == 403
    assert Order.objects.count() == 0


def test_a_batch_reports_each_item(cast: Any, system: Client) -> None:
    items = [
        order_item(),
        order_item(order_id="T1002", amount="-3", status="lost"),
        order_item(order_id="T1003", status="paid", trade_success_at=None),
    ]

    first = post(system, ORDERS_URL, items).json()
    second = post(
        system,
        ORDERS_URL,
        [*items[:2], order_item(order_id="T1003", status="shipped", trade_success_at=None)],
    ).json()

    assert [(i["external_id"], i["status"]) for i in first["items"]] == [
        ("T1001", "created"),
        ("T1002", "rejected"),
        ("T1003", "created"),
    ]
    assert first["items"][1]["errors"] == [
        {"field": "amount", "reason": "The amount cannot be negative."},
        {
            "field": "status",
            "reason": "Unknown status “lost”; use one of: paid, shipped, trade_success, refunded, closed.",
        },
    ]
    assert (first["created"], first["rejected"]) == (2, 1)
    assert [i["status"] for i in second["items"]] == ["unchanged", "rejected", "updated"]
    assert Order.objects.count() == 2


def test_a_naive_time_in_the_api_is_refused_per_item(cast: Any, system: Client) -> None:
    body = post(system, ORDERS_URL, [order_item(paid_at="2026-09-20T10:00:00")]).json()

    assert body["items"][0]["status"] == "rejected"
    assert body["items"][0]["errors"][0]["field"] == "paid_at"


def test_a_batch_is_at_most_1000_items(cast: Any, system: Client) -> None:
    response = post(system, ORDERS_URL, [order_item(order_id=f"T{i}") for i in range(1001)])

    assert response.status_code == 422
    assert response.json()["details"]["max"] == 1000
    assert Order.objects.count() == 0


def test_a_malformed_item_is_a_422_with_the_standard_shape(cast: Any, system: Client) -> None:
    response = post(system, ORDERS_URL, [order_item(amount="lots")])

    body = response.json()
    assert response.status_code == 422
    assert set(body) == {"code", "message", "details"}
    assert body["details"]["errors"][0]["field"].endswith("amount")


def test_reviews_are_pushed_and_anonymity_cannot_be_undone(cast: Any, system: Client) -> None:
    post(system, ORDERS_URL, [order_item()])
    review = {
        "platform": "taobao",
        "order_id": "T1001",
        "review_id": "R1",
        "rating": "bad",
        "text": "stale",
        "anonymous": True,
        "posted_at": "2026-09-26T08:00:00+08:00",
    }

    first = post(system, REVIEWS_URL, [review]).json()
    undo = post(system, REVIEWS_URL, [{**review, "anonymous": False}]).json()

    assert first["items"][0] == {"external_id": "T1001", "status": "created", "errors": []}
    assert undo["items"][0]["status"] == "rejected"
    assert undo["items"][0]["errors"] == [
        {"field": "anonymous", "reason": "This review was made anonymous, which cannot be undone."}
    ]
    assert Review.objects.get().anonymous is True


# --- reads ------------------------------------------------------------------------------------


def test_listing_orders_needs_authentication(cast: Any) -> None:
    assert Client().get("/api/orders").status_code == 401


def test_a_buyer_sees_only_their_own_orders(cast: Any) -> None:
    own = cast.order(buyer=cast.bob)
    cast.order(buyer=cast.carol)

    body = as_user(cast.bob).get("/api/orders").json()

    assert [o["id"] for o in body["items"]] == [own.pk]
    assert body["items"][0]["buyer_username"] == "bob"
    assert body["count"] == 1


def test_a_seller_sees_their_shops_orders_and_never_the_buyers_personal_data(cast: Any) -> None:
    own_shop = cast.order(buyer=cast.bob, shop=cast.shop)
    own_jd = cast.order(buyer=cast.bob, shop=cast.jd_shop)
    cast.order(buyer=cast.bob, shop=cast.other_shop)  # Dave's
    Review.objects.create(
        order=own_shop, rating="bad", text="", anonymous=True, posted_at=local(2026, 9, 26, 8, 0)
    )
    client = as_user(cast.alice)

    listing = client.get("/api/orders")
    detail = client.get(f"/api/orders/{own_shop.pk}")

    assert {o["id"] for o in listing.json()["items"]} == {own_shop.pk, own_jd.pk}
    assert detail.json()["buyer_alias"] == "b***b"
    assert detail.json()["buyer_username"] is None
    assert detail.json()["review"]["rating"] == "bad" and detail.json()["review"]["anonymous"] is True
    for response in (listing, detail):
        text = response.content.decode()
        for secret in (cast.bob.real_name, cast.bob.phone, cast.bob.address, '"bob"'):
            assert secret not in text
        # Also as JSON escapes would write them.
        for secret in (cast.bob.real_name, cast.bob.address):
            assert json.dumps(secret)[1:-1] not in text


def test_someone_elses_order_is_not_found(cast: Any) -> None:
    bobs = cast.order(buyer=cast.bob, shop=cast.shop)

    for outsider in (cast.carol, cast.dave):
        response = as_user(outsider).get(f"/api/orders/{bobs.pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert as_user(cast.bob).get(f"/api/orders/{bobs.pk}").status_code == 200


def test_agents_see_all_orders_and_filter_them(cast: Any) -> None:
    a = cast.order(buyer=cast.bob, shop=cast.shop)
    b = cast.order(buyer=cast.carol, shop=cast.other_shop)
    c = cast.order(buyer=cast.bob, shop=cast.jd_shop)
    client = as_user(cast.erin)

    def ids(query: str) -> set[int]:
        return {o["id"] for o in client.get(f"/api/orders?{query}").json()["items"]}

    assert ids("") == {a.pk, b.pk, c.pk}
    assert ids("platform=jd") == {c.pk}
    assert ids(f"shop={cast.other_shop.pk}") == {b.pk}
    assert ids("buyer=bob") == {a.pk, c.pk}


def test_a_seller_cannot_find_out_who_is_behind_an_alias(cast: Any) -> None:
    cast.order(buyer=cast.bob, shop=cast.shop)

    response = as_user(cast.alice).get("/api/orders?buyer=bob")

    assert response.status_code == 403


def test_orders_are_paginated_newest_first(cast: Any) -> None:
    orders = [cast.order(trade_success_at=local(2026, 9, day, 10, 0)) for day in (10, 11, 12, 13, 14)]
    client = as_user(cast.bob)

    page1 = client.get("/api/orders?page=1&page_size=2").json()
    page3 = client.get("/api/orders?page=3&page_size=2").json()

    assert [o["id"] for o in page1["items"]] == [orders[4].pk, orders[3].pk]
    assert [o["id"] for o in page3["items"]] == [orders[0].pk]
    assert (page1["count"], page1["page"], page1["page_size"]) == (5, 1, 2)


def test_a_bad_page_size_is_a_422_in_the_callers_language(cast: Any) -> None:
    english = as_user(cast.bob, "en").get("/api/orders?page_size=100000")
    chinese = as_user(cast.bob, "zh-hans").get("/api/orders?page_size=100000")

    assert english.status_code == 422
    assert set(english.json()) == {"code", "message", "details"}
    assert english.json()["code"] == "invalid"
    assert english.json()["message"] == "page must be 1 or more and page_size between 1 and 200."
    assert chinese.status_code == 422
    assert chinese.json()["message"] != english.json()["message"]
    assert "page_size" in chinese.json()["message"]


def test_a_marketplace_error_is_in_chinese_for_a_chinese_caller(cast: Any, system: Client) -> None:
    system.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"

    body = post(system, ORDERS_URL, [order_item(amount="-3")]).json()

    reason = body["items"][0]["errors"][0]["reason"]
    assert reason == "金额不能为负数。"


def test_the_buyer_sees_when_their_complaint_window_ends(cast: Any) -> None:
    order = cast.order(buyer=cast.bob, trade_success_at=local(2026, 9, 25, 10, 0))

    mine = as_user(cast.bob).get(f"/api/orders/{order.pk}").json()
    sellers = as_user(cast.alice).get(f"/api/orders/{order.pk}").json()

    assert mine["complaint_window_ends"] == "2026-10-10T10:00:00+08:00"  # 15 days after trade success
    assert sellers["complaint_window_ends"] is None


def test_shops_seller_sees_own_agent_sees_all_buyer_is_refused(cast: Any) -> None:
    def names(user: Any) -> list[str]:
        return [s["name"] for s in as_user(user).get("/api/shops").json()["items"]]

    assert names(cast.alice) == ["Alice JD", "Alice's Tea"]  # by platform (jd first), then name
    assert len(names(cast.erin)) == 3
    assert as_user(cast.bob).get("/api/shops").status_code == 403


def test_openapi_documents_every_response(cast: Any) -> None:
    schema = Client().get("/api/openapi.json").json()

    for path in ("/api/orders", "/api/orders/{order_id}", "/api/shops", ORDERS_URL, REVIEWS_URL):
        for operation in schema["paths"][path].values():
            assert {"200", "403", "404", "422"} <= set(operation["responses"])


def test_listing_orders_costs_the_same_queries_for_2_or_6_orders(cast: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(user: Any) -> int:
        client = as_user(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/orders").status_code == 200
        return len(captured)

    for _ in range(2):
        Review.objects.create(
            order=cast.order(buyer=cast.bob), rating="good", text="", posted_at=local(2026, 9, 26, 8, 0)
        )
    few = (queries(cast.bob), queries(cast.alice))
    for _ in range(4):
        cast.order(buyer=cast.bob)
    many = (queries(cast.bob), queries(cast.alice))

    assert few == many
