"""Reads of marketplace data, always through who may see what.

A buyer sees their own orders; a seller the orders of their shops (with the buyer masked — that is
the API's job: it only ever renders `User.public_alias` to them); agents and the marketplace's
systems see everything. Anything a caller may not see is "not found", never "forbidden", so ids
cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from reviewshield.accounts.models import Role, User
from reviewshield.errors import NotFound, PermissionDenied
from reviewshield.marketplace.models import Order, Platform, Rating, Review, Shop
from reviewshield.policy import UnknownRuleset, window_end
from reviewshield.policystore.services import ruleset_registry, work_calendar


def sees_all_marketplace_data(user: User) -> bool:
    """Agents, admins and the marketplace's own systems see every order and shop."""
    return user.is_agent or user.role == Role.SYSTEM or user.is_superuser


def orders_for_user(user: User) -> QuerySet[Order]:
    """The orders `user` may see."""
    orders = Order.objects.all()
    if sees_all_marketplace_data(user):
        return orders
    if user.role == Role.SELLER:
        # A seller may also shop; distinct because the join through shop sellers can repeat rows.
        return orders.filter(Q(buyer=user) | Q(shop__sellers=user)).distinct()
    return orders.filter(buyer=user)


def shops_for_user(user: User) -> QuerySet[Shop]:
    """The shops `user` may list: a seller's own, or all of them for agents and systems."""
    if sees_all_marketplace_data(user):
        return Shop.objects.all()
    if user.role == Role.SELLER:
        return Shop.objects.filter(sellers=user)
    raise PermissionDenied(_("Only sellers and agents can list shops."))


def order_list(
    *, user: User, platform: str | None = None, shop_id: int | None = None, buyer_username: str | None = None
) -> QuerySet[Order]:
    """Orders `user` may see, newest payment first, optionally filtered."""
    orders = orders_for_user(user)
    if platform:
        orders = orders.filter(platform_id=platform)
    if shop_id is not None:
        orders = orders.filter(shop_id=shop_id)
    if buyer_username:
        # Linking a username to orders is only for staff: a seller must not learn who is behind an alias.
        if not sees_all_marketplace_data(user):
            raise PermissionDenied(_("Only agents can filter orders by buyer."))
        orders = orders.filter(buyer__username=buyer_username)
    return orders.select_related("shop", "buyer", "review__extortion_mark").order_by("-paid_at", "-id")


def order_find(*, user: User, query: str, limit: int = 20) -> list[Order]:
    """Staff search for assisted filing: an order number, or a buyer's username or member id."""
    if not sees_all_marketplace_data(user):
        raise PermissionDenied(_("Only agents can search for a buyer's orders."))
    query = query.strip()
    if not query:
        return []
    # Member ids are stored as "platform:id"; an agent may type either form.
    member_ids = [query, *(f"{p}:{query}" for p in Platform.objects.values_list("pk", flat=True))]
    member = Q(buyer__external_id__in=member_ids)
    matches = Order.objects.filter(Q(external_id=query) | Q(buyer__username=query) | member)
    return list(matches.select_related("shop", "buyer", "platform").order_by("-paid_at", "-id")[:limit])


def order_get(*, user: User, order_id: int) -> Order:
    """The order with that id, if `user` may see it; NotFound otherwise."""
    order = order_list(user=user).filter(pk=order_id).first()
    if order is None:
        raise NotFound(_("No such order."))
    return order


def shop_list(*, user: User, platform: str | None = None) -> QuerySet[Shop]:
    """Shops `user` may list, by platform then name."""
    shops = shops_for_user(user)
    if platform:
        shops = shops.filter(platform_id=platform)
    return shops.order_by("platform_id", "name", "id")


def complaint_windows_end(orders: list[Order]) -> dict[int, datetime | None]:
    """When the buyer's own filing window of each order closes, per its ruleset; None if not known.

    Side effect: one query for the holiday calendar, whatever the number of orders.
    """
    ends: dict[int, datetime | None] = {order.pk: None for order in orders}
    pending = [order for order in orders if order.trade_success_at is not None]
    if not pending:
        return ends
    registry = ruleset_registry()
    calendar = work_calendar()
    for order in pending:
        assert order.trade_success_at is not None
        try:
            ruleset = registry.in_force(
                platform=order.platform_id, filed_at=order.trade_success_at, paid_at=order.paid_at
            )
            window = ruleset.windows["filing"]
        except UnknownRuleset:  # an order older than every ruleset of its platform
            continue
        if order.channel in ruleset.excluded_channels:
            continue  # this order cannot be complained about under that ruleset at all
        ends[order.pk] = window_end(window, order.trade_success_at, calendar).at
    return ends


@dataclass(frozen=True)
class ShopRating:
    shop_id: int
    good: int
    neutral: int
    bad: int
    counted: int
    good_share: Decimal | None  # good / counted, 4 places (0.9850 is 98.50 %); None with no review
    left_out_as_extortion: int  # reviews marked as extortion: kept and shown folded, never counted


def shop_rating(shop_id: int) -> ShopRating:
    """A shop's good, neutral and bad reviews and its good share (好评率), leaving out the reviews an
    upheld extortion report marked (`extortion.ReviewMark`). One query."""
    counts = Review.objects.filter(order__shop_id=shop_id).aggregate(
        **{
            rating: Count("pk", filter=Q(rating=rating, extortion_mark__isnull=True))
            for rating in (Rating.GOOD, Rating.NEUTRAL, Rating.BAD)
        },
        marked=Count("pk", filter=Q(extortion_mark__isnull=False)),
    )
    counted = counts[Rating.GOOD] + counts[Rating.NEUTRAL] + counts[Rating.BAD]
    share = (Decimal(counts[Rating.GOOD]) / counted).quantize(Decimal("0.0001")) if counted else None
    return ShopRating(
        shop_id=shop_id,
        good=counts[Rating.GOOD],
        neutral=counts[Rating.NEUTRAL],
        bad=counts[Rating.BAD],
        counted=counted,
        good_share=share,
        left_out_as_extortion=counts["marked"],
    )
