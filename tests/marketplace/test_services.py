"""Marketplace writes: idempotent upserts, clear validation errors, the automatic-review deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from reviewshield.accounts.models import Role, User
from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.deadlines.models import Deadline, Outcome
from reviewshield.errors import ValidationFailed
from reviewshield.marketplace import services
from reviewshield.marketplace.models import Order, Platform, Review, Shop
from reviewshield.marketplace.services import AUTOMATIC_REVIEW
from tests.conftest import local

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
SUCCESS = local(2026, 9, 25, 10, 0)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def push_order(**overrides: Any) -> tuple[Order, services.Outcome]:
    values: dict[str, Any] = {
        "platform": "taobao",
        "external_id": "T1001",
        "shop_external_id": "S1",
        "buyer_external_id": "tb_bob",
        "buyer_nickname": "bobby",
        "channel": "taobao",
        "amount": Decimal("59.00"),
        "status": "trade_success",
        "paid_at": SUCCESS - timedelta(days=5),
        "trade_success_at": SUCCESS,
        "title": "Oolong tea 250 g",
        "now": NOW,
    }
    values.update(overrides)
    return services.order_upsert(**values)


def push_review(**overrides: Any) -> tuple[Review, services.Outcome]:
    values: dict[str, Any] = {
        "platform": "taobao",
        "order_external_id": "T1001",
        "external_id": "R1",
        "rating": "bad",
        "text": "Tea was stale.",
        "anonymous": False,
        "posted_at": SUCCESS + timedelta(days=2),
        "now": NOW,
    }
    values.update(overrides)
    return services.review_upsert(**values)


def open_automatic(order: Order) -> list[Deadline]:
    return list(Deadline.objects.filter(order=order, kind=AUTOMATIC_REVIEW, done_at__isnull=True))


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {e["field"] for e in exc.value.details["errors"]}


# --- platforms, shops, members --------------------------------------------------------------------


def test_platforms_ensure_creates_the_three_platforms_once(db: Any) -> None:
    services.platforms_ensure()
    services.platforms_ensure()

    assert {(p.code, p.name_zh, p.name_en) for p in Platform.objects.all()} == {
        ("taobao", "淘宝", "Taobao"),
        ("tmall", "天猫", "Tmall"),
        ("jd", "京东", "JD"),
    }


def test_shop_upsert_creates_renames_and_adds_sellers(cast: Any) -> None:
    shop, created = services.shop_upsert(platform="taobao", external_id="S9", name="Tea House")
    _same, unchanged = services.shop_upsert(platform="taobao", external_id="S9", name="Tea House")
    _renamed, renamed = services.shop_upsert(
        platform="taobao", external_id="S9", name="Tea House 2", sellers=[cast.alice]
    )

    shop.refresh_from_db()
    assert (created, unchanged, renamed) == ("created", "unchanged", "updated")
    assert shop.name == "Tea House 2"
    assert list(shop.sellers.all()) == [cast.alice]


def test_same_member_id_on_two_platforms_is_two_people(cast: Any) -> None:
    on_taobao, _ = services.buyer_upsert(platform="taobao", external_id="zhang123", nickname="zhang")
    on_jd, _ = services.buyer_upsert(platform="jd", external_id="zhang123", nickname="zhang")
    again, outcome = services.buyer_upsert(platform="taobao", external_id="zhang123", nickname="zhang")

    assert on_taobao != on_jd
    assert again == on_taobao and outcome == "unchanged"
    assert on_taobao.role == Role.BUYER and not on_taobao.has_usable_password()


def test_seller_upsert_gives_the_seller_role(cast: Any) -> None:
    seller, outcome = services.seller_upsert(
        platform="taobao", external_id="tb_shopkeeper", nickname="keeper"
    )

    assert outcome == "created"
    assert seller.role == Role.SELLER and seller.username == "keeper"


def test_unknown_platform_is_refused(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        push_order(platform="amazon")

    assert exc.value.details["field"] == "platform"
    assert "amazon" in str(exc.value.message)


# --- orders -----------------------------------------------------------------------------------


def test_order_upsert_creates_once_then_reports_unchanged_then_updated(cast: Any) -> None:
    order, first = push_order()
    _again, second = push_order()
    _changed, third = push_order(title="Oolong tea 500 g", amount=Decimal("99.00"))

    order.refresh_from_db()
    assert (first, second, third) == ("created", "unchanged", "updated")
    assert Order.objects.count() == 1
    assert order.shop == cast.shop  # S1 is Alice's Tea from the cast
    assert order.buyer.external_id == "taobao:tb_bob" and order.buyer.username == "bobby"
    assert order.amount == Decimal("99.00") and order.title == "Oolong tea 500 g"


def test_a_new_shop_needs_its_name(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        push_order(shop_external_id="S77")
    order, outcome = push_order(shop_external_id="S77", shop_name="New Tea")

    assert exc.value.details["field"] == "shop_name"
    assert outcome == "created" and order.shop.name == "New Tea"


def test_invalid_order_names_every_bad_field_and_writes_nothing(cast: Any) -> None:
    with pytest.raises(ValidationFailed) as exc:
        push_order(
            shop_external_id="S77",
            amount=Decimal("-1"),
            status="delivered",
            paid_at=datetime(2026, 9, 20, 10, 0),  # noqa: DTZ001 — naive on purpose
        )

    assert exc.value.details["field"] == "amount"
    assert fields_of(exc) == {"amount", "status", "paid_at"}
    assert Order.objects.count() == 0
    assert not Shop.objects.filter(external_id="S77").exists()
    assert not User.objects.filter(external_id="taobao:tb_bob").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"status": "trade_success", "trade_success_at": None}, "trade_success_at", "needs"),
        ({"status": "paid", "trade_success_at": SUCCESS}, "trade_success_at", "Only"),
        ({"paid_at": SUCCESS + timedelta(hours=1)}, "trade_success_at", "before the payment"),
        ({"amount": Decimal("1.234")}, "amount", "two decimal places"),
        ({"external_id": ""}, "order_id", "missing"),
        ({"channel": "淘宝"}, "channel", "short code"),
    ],
)
def test_order_validation_errors(cast: Any, overrides: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        push_order(**overrides)

    assert exc.value.details["field"] == field
    assert words in str(exc.value.message)


def test_an_orders_shop_or_buyer_cannot_change(cast: Any) -> None:
    push_order()

    with pytest.raises(ValidationFailed) as exc:
        push_order(shop_external_id="S2", buyer_external_id="tb_mallory")

    assert fields_of(exc) == {"shop_id", "buyer_id"}
    order = Order.objects.get(external_id="T1001")
    assert order.shop == cast.shop
    assert not User.objects.filter(external_id="taobao:tb_mallory").exists()  # rolled back with the order


def test_messages_are_translated(cast: Any) -> None:
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as exc:
        push_order(amount=Decimal("-1"))
    assert str(exc.value.message) == "金额不能为负数。"


# --- the automatic-review deadline ------------------------------------------------------------


def test_trade_success_schedules_one_automatic_review_at_the_end_of_the_review_window(cast: Any) -> None:
    order, _ = push_order()
    push_order()  # pushed again: still one deadline

    deadlines = open_automatic(order)
    assert len(deadlines) == 1
    assert deadlines[0].due_at == SUCCESS + timedelta(days=15)  # taobao-2013: 15 calendar days


def test_an_order_older_than_every_ruleset_still_gets_its_automatic_review_after_15_days(cast: Any) -> None:
    old = local(2010, 5, 1, 10, 0)

    order, _ = push_order(paid_at=old - timedelta(days=3), trade_success_at=old)

    assert [d.due_at for d in open_automatic(order)] == [old + timedelta(days=15)]


def test_an_order_not_yet_in_trade_success_has_no_automatic_review(cast: Any) -> None:
    order, _ = push_order(status="shipped", trade_success_at=None)

    assert open_automatic(order) == []


def test_a_new_trade_success_time_moves_the_automatic_review(cast: Any) -> None:
    order, _ = push_order()

    push_order(trade_success_at=SUCCESS + timedelta(days=1))

    deadlines = open_automatic(order)
    assert [d.due_at for d in deadlines] == [SUCCESS + timedelta(days=16)]
    assert Deadline.objects.filter(order=order, outcome=Outcome.CANCELLED).count() == 1


def test_leaving_trade_success_cancels_the_automatic_review(cast: Any) -> None:
    order, _ = push_order()

    push_order(status="refunded", trade_success_at=None)

    assert open_automatic(order) == []


def test_a_real_review_cancels_the_automatic_review(cast: Any) -> None:
    order, _ = push_order()

    review, outcome = push_review()
    push_order()  # a later push of the order does not schedule it again

    assert outcome == "created" and review.rating == "bad" and not review.automatic
    assert open_automatic(order) == []
    assert Deadline.objects.get(order=order).outcome == Outcome.CANCELLED


def test_the_automatic_review_is_posted_when_nobody_reviewed(cast: Any) -> None:
    order, _ = push_order()
    due = open_automatic(order)[0].due_at

    settled = deadlines_run_once(
        worker="w1", now=due + timedelta(minutes=1), limit=10, lease=timedelta(minutes=5)
    )

    review = Review.objects.get(order=order)
    assert settled == 1
    assert (review.rating, review.automatic, review.text, review.posted_at) == ("good", True, "", due)
    assert Deadline.objects.get(order=order).outcome == Outcome.FIRED


def test_the_automatic_review_handler_is_obsolete_once_the_buyer_reviewed(cast: Any) -> None:
    order, _ = push_order()
    deadline = open_automatic(order)[0]
    push_review()

    assert services.automatic_review_post(deadline=deadline, now=NOW) == "obsolete"
    assert Review.objects.get(order=order).automatic is False


def test_a_real_review_replaces_an_automatic_one(cast: Any) -> None:
    order, _ = push_order()
    services.automatic_review_post(deadline=open_automatic(order)[0], now=NOW)

    review, outcome = push_review(rating="neutral")

    assert outcome == "updated"
    assert (review.rating, review.automatic, review.external_id) == ("neutral", False, "R1")


# --- reviews ----------------------------------------------------------------------------------


def test_review_upsert_is_idempotent_and_follows_rating_changes(cast: Any) -> None:
    push_order()
    _r, first = push_review()
    _r, second = push_review()
    review, third = push_review(rating="good")  # a bad review changed to good: worth knowing

    assert (first, second, third) == ("created", "unchanged", "updated")
    assert review.rating == "good"
    assert Review.objects.count() == 1


def test_a_review_can_become_anonymous_but_never_public_again(cast: Any) -> None:
    push_order()
    push_review(anonymous=False)
    review, outcome = push_review(anonymous=True)

    with pytest.raises(ValidationFailed) as exc:
        push_review(anonymous=False)

    review.refresh_from_db()
    assert outcome == "updated"
    assert exc.value.details["field"] == "anonymous"
    assert "cannot be undone" in str(exc.value.message)
    assert review.anonymous is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rating": "excellent"}, "rating"),
        ({"order_external_id": "NOPE"}, "order_id"),
        ({"posted_at": SUCCESS - timedelta(days=30)}, "posted_at"),
        ({"posted_at": datetime(2026, 9, 27, 10, 0)}, "posted_at"),  # noqa: DTZ001 — naive on purpose
        ({"external_id": "R2"}, "review_id"),
    ],
)
def test_review_validation_errors(cast: Any, overrides: dict[str, Any], field: str) -> None:
    push_order()
    push_review()

    with pytest.raises(ValidationFailed) as exc:
        push_review(**overrides)

    assert exc.value.details["field"] == field
    assert Review.objects.get().external_id == "R1"
