"""Marketplace data over HTTP: the marketplace's systems push orders and reviews in batches; people
list the orders and shops they may see.

A seller never gets a buyer's personal data from here: buyers appear to them only as `buyer_alias`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from reviewshield.accounts.models import Role, User
from reviewshield.api.bounds import BatchInstant, Id, PageNumber, PageSize
from reviewshield.api.core import ErrorOut, Page, paginate, require_roles
from reviewshield.errors import ValidationFailed
from reviewshield.localtime import to_local
from reviewshield.marketplace import selectors, services
from reviewshield.marketplace.models import Order, Shop

router = Router(tags=["marketplace"])

MAX_BATCH = 1000
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas -----------------------------------------------------------------------------------


class OrderIn(Schema):
    platform: str
    order_id: str
    shop_id: str
    shop_name: str = ""
    buyer_id: str
    buyer_nickname: str = ""
    channel: str = ""
    title: str = ""
    amount: Decimal
    status: str
    paid_at: BatchInstant
    trade_success_at: BatchInstant | None = None


class OrderBatchIn(Schema):
    items: list[OrderIn]


class ReviewIn(Schema):
    platform: str
    order_id: str
    review_id: str = ""
    rating: str
    text: str = ""
    anonymous: bool = False
    posted_at: BatchInstant


class ReviewBatchIn(Schema):
    items: list[ReviewIn]


class ItemError(Schema):
    field: str
    reason: str


class ItemResult(Schema):
    external_id: str  # the order number the item is keyed by (for reviews too: one review per order)
    status: Literal["created", "updated", "unchanged", "rejected"]
    errors: list[ItemError] = []


class BatchOut(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int
    items: list[ItemResult]


class ReviewSummaryOut(Schema):
    rating: str
    anonymous: bool
    automatic: bool
    posted_at: datetime


class OrderOut(Schema):
    id: int
    platform: str
    channel: str
    external_id: str
    shop_id: int
    shop_name: str
    title: str
    amount: Decimal
    currency: str
    status: str
    paid_at: datetime
    trade_success_at: datetime | None
    buyer_alias: str
    buyer_username: str | None = None  # agents and the buyer themself only
    review: ReviewSummaryOut | None
    complaint_window_ends: datetime | None = None  # the buyer only


class ShopOut(Schema):
    id: int
    platform: str
    external_id: str
    name: str


# --- writes ------------------------------------------------------------------------------------


def _check_batch(items: list[Any]) -> None:
    if len(items) > MAX_BATCH:
        raise ValidationFailed(
            _("A batch holds at most %(max)d items; this one has %(count)d.")
            % {"max": MAX_BATCH, "count": len(items)},
            details={"field": "items", "max": MAX_BATCH, "count": len(items)},
        )


def _run_batch(items: list[Any], upsert: Any) -> dict[str, Any]:
    results = []
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for item in items:
        try:
            outcome = str(upsert(item))
            results.append({"external_id": item.order_id, "status": outcome, "errors": []})
        except ValidationFailed as exc:
            outcome = "rejected"
            errors = exc.details.get("errors") or [
                {"field": exc.details.get("field", ""), "reason": str(exc.message)}
            ]
            results.append(
                {
                    "external_id": item.order_id,
                    "status": outcome,
                    "errors": [{"field": str(e["field"]), "reason": str(e["reason"])} for e in errors],
                }
            )
        counts[outcome] += 1
    return {**counts, "items": results}


@router.post("/marketplace/orders", response={200: BatchOut, **ERRORS}, summary="Push a batch of orders")
def orders_push(request: HttpRequest, payload: OrderBatchIn) -> dict[str, Any]:
    """Create or update up to 1000 orders; each item is accepted or rejected on its own."""
    require_roles(request, Role.SYSTEM, Role.ADMIN)
    _check_batch(payload.items)
    now = timezone.now()

    def upsert(item: OrderIn) -> str:
        _order, outcome = services.order_upsert(
            platform=item.platform,
            external_id=item.order_id,
            shop_external_id=item.shop_id,
            shop_name=item.shop_name,
            buyer_external_id=item.buyer_id,
            buyer_nickname=item.buyer_nickname,
            channel=item.channel,
            title=item.title,
            amount=item.amount,
            status=item.status,
            paid_at=item.paid_at,
            trade_success_at=item.trade_success_at,
            now=now,
        )
        return outcome

    return _run_batch(payload.items, upsert)


@router.post("/marketplace/reviews", response={200: BatchOut, **ERRORS}, summary="Push a batch of reviews")
def reviews_push(request: HttpRequest, payload: ReviewBatchIn) -> dict[str, Any]:
    """Create or update up to 1000 reviews (keyed by order); each item is accepted or rejected on its own."""
    require_roles(request, Role.SYSTEM, Role.ADMIN)
    _check_batch(payload.items)
    now = timezone.now()

    def upsert(item: ReviewIn) -> str:
        _review, outcome = services.review_upsert(
            platform=item.platform,
            order_external_id=item.order_id,
            external_id=item.review_id,
            rating=item.rating,
            text=item.text,
            anonymous=item.anonymous,
            posted_at=item.posted_at,
            now=now,
        )
        return outcome

    return _run_batch(payload.items, upsert)


# --- reads -------------------------------------------------------------------------------------


def _orders_out(orders: list[Order], viewer: User) -> list[dict[str, Any]]:
    # Only the buyer is shown their complaint window; computed for the page at once.
    window_ends = selectors.complaint_windows_end([o for o in orders if o.buyer_id == viewer.pk])
    return [_order_out(o, viewer, window_ends.get(o.pk)) for o in orders]


def _order_out(order: Order, viewer: User, complaint_window_ends: datetime | None) -> dict[str, Any]:
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    review = getattr(order, "review", None)
    is_own = order.buyer_id == viewer.pk
    return {
        "id": order.pk,
        "platform": order.platform_id,
        "channel": order.channel,
        "external_id": order.external_id,
        "shop_id": order.shop_id,
        "shop_name": order.shop.name,
        "title": order.title,
        "amount": order.amount,
        "currency": order.currency,
        "status": order.status,
        # Instants are stored in UTC and shown in business time (+08:00), like every deadline.
        "paid_at": to_local(order.paid_at),
        "trade_success_at": to_local(order.trade_success_at) if order.trade_success_at else None,
        "buyer_alias": order.buyer.public_alias,
        "buyer_username": order.buyer.username
        if is_own or selectors.sees_all_marketplace_data(viewer)
        else None,
        "review": {
            "rating": review.rating,
            "anonymous": review.anonymous,
            "automatic": review.automatic,
            "posted_at": to_local(review.posted_at),
        }
        if review
        else None,
        "complaint_window_ends": to_local(complaint_window_ends)
        if is_own and complaint_window_ends
        else None,
    }


@router.get("/orders", response={200: Page[OrderOut], **ERRORS}, summary="List the orders you may see")
def orders_list(
    request: HttpRequest,
    page: PageNumber = 1,
    page_size: PageSize = 20,
    platform: str | None = None,
    shop: Id | None = None,
    buyer: str | None = None,
) -> dict[str, Any]:
    """Buyers see their orders, sellers their shops' orders, agents all (filter by platform, shop id, buyer username)."""
    user = request.auth  # type: ignore[attr-defined]
    orders = selectors.order_list(user=user, platform=platform, shop_id=shop, buyer_username=buyer)
    items, count, page, page_size = paginate(orders, page=page, page_size=page_size)
    return {
        "items": _orders_out(items, user),
        "count": count,
        "page": page,
        "page_size": page_size,
    }


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="One order you may see")
def orders_get(request: HttpRequest, order_id: Id) -> dict[str, Any]:
    """The order, if you may see it; 404 otherwise."""
    user = request.auth  # type: ignore[attr-defined]
    return _orders_out([selectors.order_get(user=user, order_id=order_id)], user)[0]


@router.get("/shops", response={200: Page[ShopOut], **ERRORS}, summary="List shops")
def shops_list(
    request: HttpRequest, page: PageNumber = 1, page_size: PageSize = 50, platform: str | None = None
) -> dict[str, Any]:
    """Sellers see their own shops; agents and systems all of them."""
    shops = selectors.shop_list(user=request.auth, platform=platform)  # type: ignore[attr-defined]
    items, count, page, page_size = paginate(shops, page=page, page_size=page_size)
    return {"items": [_shop_out(s) for s in items], "count": count, "page": page, "page_size": page_size}


def _shop_out(shop: Shop) -> dict[str, Any]:
    return {"id": shop.pk, "platform": shop.platform_id, "external_id": shop.external_id, "name": shop.name}
