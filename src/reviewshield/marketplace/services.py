"""Writes of marketplace data as the marketplace's systems push it: platforms, shops, people, orders, reviews.

Every upsert is idempotent on the marketplace's own ids and runs in one transaction; it returns the
row and an `Outcome` (created / updated / unchanged) so importers and the batch API can report what
happened. Invalid input raises `ValidationFailed` whose `details` name the first bad field
(`details["field"]`) and list every problem (`details["errors"]`, each `{"field", "reason"}`).
Field names are the public ones of the CSV files and the API (order_id, shop_id, paid_at, …).

Side effects: an order in trade success (交易成功) without a review gets one "review.automatic"
deadline at the end of the ruleset's review window (自动评价); a real review cancels it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from reviewshield.accounts.models import Role, User
from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import deadline_schedule, deadlines_cancel
from reviewshield.errors import ValidationFailed
from reviewshield.localtime import BUSINESS_TZ, format_local
from reviewshield.marketplace.models import Order, OrderStatus, Platform, Rating, Review, Shop
from reviewshield.policy import UnknownRuleset, WorkCalendar, window_end
from reviewshield.policystore.services import ruleset_registry, work_calendar

logger = logging.getLogger(__name__)

AUTOMATIC_REVIEW = "review.automatic"
# Used only when no ruleset of the platform is in force yet (PRODUCT.md: 15 days after trade success).
FALLBACK_REVIEW_WINDOW = timedelta(days=15)
# The marketplace records its times as things happen: one before its platforms existed, or further
# ahead of our clock than clock drift explains, is a broken feed (a wrong year, a time zone lost)
# that would put deadlines in another century.
EARLIEST_MARKETPLACE_TIME = datetime(2000, 1, 1, tzinfo=BUSINESS_TZ)
MARKETPLACE_CLOCK_AHEAD = timedelta(days=1)

PLATFORMS = (
    ("taobao", "淘宝", "Taobao"),
    ("tmall", "天猫", "Tmall"),
    ("jd", "京东", "JD"),
)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass
class _Problems:
    """Collects every problem of one input before raising, so a person can fix them all at once."""

    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, reason: str) -> None:
        self.errors.append({"field": field_name, "reason": reason})

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        first = self.errors[0]
        message = first["reason"] if len(self.errors) == 1 else _("Some fields are not valid.")
        raise ValidationFailed(message, details={"field": first["field"], "errors": self.errors})


def _invalid(field_name: str, reason: str) -> ValidationFailed:
    return ValidationFailed(
        reason, details={"field": field_name, "errors": [{"field": field_name, "reason": reason}]}
    )


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def implausible_time(value: datetime, now: datetime) -> str | None:
    """Why the aware `value` cannot be a time the marketplace recorded by `now`, or None."""
    if value < EARLIEST_MARKETPLACE_TIME:
        return _("A marketplace time cannot be before the year 2000; check the date.")
    if value > now + MARKETPLACE_CLOCK_AHEAD:
        return _("This time is more than a day after now (%(now)s); check the date and the time zone.") % {
            "now": format_local(now)
        }
    return None


def _check_instant(problems: _Problems, field_name: str, value: datetime | None, now: datetime) -> bool:
    if value is None:
        return False
    if not _is_aware(value):
        problems.add(
            field_name, _("Give the time with its UTC offset, for example 2026-09-25T10:00:00+08:00.")
        )
        return False
    reason = implausible_time(value, now)
    if reason:
        problems.add(field_name, reason)
        return False
    return True


def _check_length(problems: _Problems, field_name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        problems.add(field_name, _("At most %(limit)d characters.") % {"limit": limit})


def _platform(code: Platform | str) -> Platform:
    if isinstance(code, Platform):
        return code
    platform = Platform.objects.filter(code=code).first()
    if platform is None:
        raise _invalid("platform", _("Unknown platform “%(code)s”.") % {"code": code})
    return platform


def _apply(obj: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ; return True when anything changed."""
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save()
    return bool(changed)


# --- platforms, shops, people -------------------------------------------------------------------


@transaction.atomic
def platforms_ensure() -> list[Platform]:
    """Create the known platforms (taobao, tmall, jd) that are missing; fix their names."""
    result = []
    for code, name_zh, name_en in PLATFORMS:
        platform, _created = Platform.objects.update_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en}
        )
        result.append(platform)
    return result


@transaction.atomic
def shop_upsert(
    *, platform: Platform | str, external_id: str, name: str = "", sellers: list[User] | None = None
) -> tuple[Shop, Outcome]:
    """Create or update a shop by its marketplace id; an empty name keeps the current one.

    `sellers` are added to the shop (never removed: losing access is an admin decision).
    """
    platform = _platform(platform)
    external_id = external_id.strip()
    name = name.strip()
    problems = _Problems()
    if not external_id:
        problems.add("shop_id", _("The shop id is missing."))
    _check_length(problems, "shop_id", external_id, 100)
    _check_length(problems, "shop_name", name, 200)
    problems.raise_if_any()

    shop = Shop.objects.select_for_update().filter(platform=platform, external_id=external_id).first()
    if shop is None:
        try:
            with transaction.atomic():
                shop = Shop.objects.create(
                    platform=platform, external_id=external_id, name=name or external_id
                )
            outcome = Outcome.CREATED
        except IntegrityError:  # created by someone else since we looked
            shop = Shop.objects.select_for_update().get(platform=platform, external_id=external_id)
            outcome = Outcome.UPDATED if _apply(shop, {"name": name} if name else {}) else Outcome.UNCHANGED
    else:
        outcome = Outcome.UPDATED if _apply(shop, {"name": name} if name else {}) else Outcome.UNCHANGED
    if sellers:
        missing = [s for s in sellers if not shop.sellers.filter(pk=s.pk).exists()]
        if missing:
            shop.sellers.add(*missing)
            if outcome is Outcome.UNCHANGED:
                outcome = Outcome.UPDATED
    return shop, outcome


def member_key(platform: Platform, member_id: str) -> str:
    """The `User.external_id` of a marketplace member.

    Member ids are only unique within a platform; two different people called "zhang123" on Taobao
    and on JD must never share an account (and each other's orders), so the id is namespaced.
    """
    return f"{platform.code}:{member_id}"


def _free_username(preferred: str) -> str:
    base = preferred[:140] or "member"
    candidate = base
    n = 1
    while User.objects.filter(username=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _member_upsert(
    *, platform: Platform | str, external_id: str, nickname: str, role: str, field_name: str
) -> tuple[User, Outcome]:
    platform = _platform(platform)
    external_id = external_id.strip()
    nickname = nickname.strip()
    problems = _Problems()
    if not external_id:
        problems.add(field_name, _("The member id is missing."))
    _check_length(problems, field_name, external_id, 80)
    problems.raise_if_any()

    key = member_key(platform, external_id)
    user = User.objects.select_for_update().filter(external_id=key).first()
    if user is not None:
        # The role is set once: a seller who also buys keeps their seller role.
        return user, Outcome.UNCHANGED
    # The username is what others see masked (User.public_alias); never the real name.
    user = User(
        username=_free_username(nickname or f"{platform.code}_{external_id}"),
        external_id=key,
        role=role,
    )
    user.set_unusable_password()  # members log in once their account is linked, not with a guessed password
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # the same member pushed twice at once: the other push created them
        existing = User.objects.select_for_update().filter(external_id=key).first()
        if existing is None:
            raise
        return existing, Outcome.UNCHANGED
    return user, Outcome.CREATED


@transaction.atomic
def buyer_upsert(*, platform: Platform | str, external_id: str, nickname: str = "") -> tuple[User, Outcome]:
    """Find or create the buyer with that platform member id (会员名); the nickname becomes the username."""
    return _member_upsert(
        platform=platform, external_id=external_id, nickname=nickname, role=Role.BUYER, field_name="buyer_id"
    )


@transaction.atomic
def seller_upsert(*, platform: Platform | str, external_id: str, nickname: str = "") -> tuple[User, Outcome]:
    """Find or create the seller with that platform member id; the nickname becomes the username."""
    return _member_upsert(
        platform=platform,
        external_id=external_id,
        nickname=nickname,
        role=Role.SELLER,
        field_name="seller_id",
    )


# --- orders ------------------------------------------------------------------------------------


@transaction.atomic
def order_upsert(
    *,
    platform: Platform | str,
    external_id: str,
    shop_external_id: str,
    buyer_external_id: str,
    channel: str,
    amount: Decimal,
    status: str,
    paid_at: datetime,
    trade_success_at: datetime | None,
    title: str,
    now: datetime,
    shop_name: str = "",
    buyer_nickname: str = "",
) -> tuple[Order, Outcome]:
    """Create or update an order by (platform, order number).

    Creates the shop and the buyer when they are new (a shop needs `shop_name` then). Schedules,
    moves or cancels the order's automatic-review deadline to match its trade-success time.
    """
    platform = _platform(platform)
    external_id = external_id.strip()
    shop_external_id = shop_external_id.strip()
    channel = (channel or "").strip() or platform.code
    title = (title or "").strip()

    problems = _Problems()
    if not external_id:
        problems.add("order_id", _("The order number is missing."))
    _check_length(problems, "order_id", external_id, 100)
    if not shop_external_id:
        problems.add("shop_id", _("The shop id is missing."))
    if not buyer_external_id.strip():
        problems.add("buyer_id", _("The member id is missing."))
    if len(channel) > 20 or not channel.replace("-", "").replace("_", "").isalnum() or not channel.isascii():
        problems.add("channel", _("A channel is a short code such as “taobao” or “tmall”."))
    _check_length(problems, "title", title, 300)
    if amount is None or not amount.is_finite():
        problems.add("amount", _("The amount must be a number."))
    elif amount < 0:
        problems.add("amount", _("The amount cannot be negative."))
    elif amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        problems.add(
            "amount", _("The amount must have at most two decimal places and ten digits before them.")
        )
    if status not in OrderStatus.values:
        problems.add(
            "status",
            _("Unknown status “%(status)s”; use one of: %(choices)s.")
            % {"status": status, "choices": ", ".join(OrderStatus.values)},
        )
    paid_ok = _check_instant(problems, "paid_at", paid_at, now)
    if paid_at is None:
        problems.add("paid_at", _("The payment time is missing."))
    success_ok = _check_instant(problems, "trade_success_at", trade_success_at, now)
    if status == OrderStatus.TRADE_SUCCESS and trade_success_at is None:
        problems.add("trade_success_at", _("An order in trade success needs its trade-success time."))
    if status != OrderStatus.TRADE_SUCCESS and status in OrderStatus.values and trade_success_at is not None:
        problems.add("trade_success_at", _("Only an order in trade success has a trade-success time."))
    if paid_ok and success_ok and trade_success_at is not None and trade_success_at < paid_at:
        problems.add("trade_success_at", _("The trade-success time cannot be before the payment time."))
    problems.raise_if_any()

    shop = Shop.objects.filter(platform=platform, external_id=shop_external_id).first()
    if shop is None:
        if not shop_name.strip():
            raise _invalid(
                "shop_name", _("The shop “%(shop)s” is new; give its name.") % {"shop": shop_external_id}
            )
        shop, _shop_outcome = shop_upsert(platform=platform, external_id=shop_external_id, name=shop_name)
    elif shop_name.strip() and shop.name != shop_name.strip():
        shop, _shop_outcome = shop_upsert(platform=platform, external_id=shop_external_id, name=shop_name)
    buyer, _buyer_outcome = buyer_upsert(
        platform=platform, external_id=buyer_external_id, nickname=buyer_nickname
    )

    values = {
        "channel": channel,
        "title": title,
        "amount": amount,
        "status": status,
        "paid_at": paid_at,
        "trade_success_at": trade_success_at,
    }
    order = Order.objects.select_for_update().filter(platform=platform, external_id=external_id).first()
    if order is None:
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    platform=platform, external_id=external_id, shop=shop, buyer=buyer, **values
                )
            outcome = Outcome.CREATED
        except IntegrityError:  # the same order pushed twice at once: the other push created it
            order = Order.objects.select_for_update().get(platform=platform, external_id=external_id)
            outcome = _order_update(order, shop=shop, buyer=buyer, values=values)
    else:
        outcome = _order_update(order, shop=shop, buyer=buyer, values=values)
    _automatic_review_sync(order=order, now=now)
    return order, outcome


def _order_update(order: Order, *, shop: Shop, buyer: User, values: dict[str, Any]) -> Outcome:
    # A complaint, points and the buyer's privacy hang on who sold and who bought; a push that
    # says otherwise is a data error on the marketplace's side, not a change to follow.
    problems = _Problems()
    if order.shop_id != shop.pk:
        problems.add("shop_id", _("This order belongs to another shop; an order's shop cannot change."))
    if order.buyer_id != buyer.pk:
        problems.add("buyer_id", _("This order belongs to another buyer; an order's buyer cannot change."))
    problems.raise_if_any()
    return Outcome.UPDATED if _apply(order, values) else Outcome.UNCHANGED


def review_window_end(order: Order) -> tuple[datetime, bool]:
    """Return when the order's automatic review falls due, and whether that is provisional."""
    assert order.trade_success_at is not None
    try:
        ruleset = ruleset_registry().in_force(
            platform=order.platform_id, filed_at=order.trade_success_at, paid_at=order.paid_at
        )
    except UnknownRuleset:  # an order older than every ruleset of its platform
        logger.warning(
            "No ruleset for %s at %s; automatic review after 15 days",
            order.platform_id,
            order.trade_success_at,
        )
        return order.trade_success_at + FALLBACK_REVIEW_WINDOW, False
    window = ruleset.windows["review"]
    # A calendar-day window needs no holiday data: spares imports the calendar query per row.
    calendar = work_calendar() if window.kind != "calendar" else WorkCalendar()
    result = window_end(window, order.trade_success_at, calendar)
    return result.at, result.provisional


def _automatic_review_sync(*, order: Order, now: datetime) -> None:
    """Keep exactly one open automatic-review deadline while the order awaits its review."""
    open_deadlines = Deadline.objects.filter(order=order, kind=AUTOMATIC_REVIEW, done_at__isnull=True)
    awaiting = (
        order.status == OrderStatus.TRADE_SUCCESS
        and order.trade_success_at is not None
        and not Review.objects.filter(order=order).exists()
    )
    if not awaiting:
        deadlines_cancel(now=now, order=order, kinds=[AUTOMATIC_REVIEW])
        return
    due_at, provisional = review_window_end(order)
    current = list(open_deadlines)
    if len(current) == 1 and current[0].due_at == due_at and current[0].provisional == provisional:
        return
    if current:
        deadlines_cancel(now=now, order=order, kinds=[AUTOMATIC_REVIEW])
    deadline_schedule(kind=AUTOMATIC_REVIEW, due_at=due_at, order=order, provisional=provisional)


# --- reviews -----------------------------------------------------------------------------------


@transaction.atomic
def review_upsert(
    *,
    platform: Platform | str,
    order_external_id: str,
    external_id: str,
    rating: str,
    text: str,
    anonymous: bool,
    posted_at: datetime,
    now: datetime,
) -> tuple[Review, Outcome]:
    """Create or update the buyer's review of an order.

    A real review replaces an automatic one and cancels the pending automatic-review deadline; one
    arriving after an extortion report on the order was upheld is marked as extortion at once.
    Making a review anonymous cannot be undone: a push that would reveal the buyer again is refused.
    """
    platform = _platform(platform)
    order_external_id = order_external_id.strip()
    external_id = (external_id or "").strip()
    text = text or ""
    problems = _Problems()
    if not order_external_id:
        problems.add("order_id", _("The order number is missing."))
    _check_length(problems, "review_id", external_id, 100)
    _check_length(problems, "text", text, 5000)
    if rating not in Rating.values:
        problems.add(
            "rating",
            _("Unknown rating “%(rating)s”; use one of: %(choices)s.")
            % {"rating": rating, "choices": ", ".join(Rating.values)},
        )
    if posted_at is None:
        problems.add("posted_at", _("The time the review was posted is missing."))
    posted_ok = _check_instant(problems, "posted_at", posted_at, now)
    problems.raise_if_any()

    # The order row lock serialises this with the automatic-review handler.
    order = Order.objects.select_for_update().filter(platform=platform, external_id=order_external_id).first()
    if order is None:
        raise _invalid(
            "order_id", _("Unknown order “%(order)s”; import the order first.") % {"order": order_external_id}
        )
    if posted_ok and posted_at < order.paid_at:
        raise _invalid("posted_at", _("A review cannot be posted before the order was paid."))

    values = {
        "external_id": external_id,
        "rating": rating,
        "text": text,
        "anonymous": anonymous,
        "automatic": False,
        "posted_at": posted_at,
    }
    review = Review.objects.filter(order=order).first()
    if review is None:
        review = Review.objects.create(order=order, **values)
        outcome = Outcome.CREATED
    else:
        if review.external_id and external_id and review.external_id != external_id:
            raise _invalid(
                "review_id",
                _("This order already has the review “%(review)s”; an order has one review.")
                % {"review": review.external_id},
            )
        if review.anonymous and not anonymous:
            raise _invalid("anonymous", _("This review was made anonymous, which cannot be undone."))
        if not external_id:
            values["external_id"] = review.external_id
        outcome = Outcome.UPDATED if _apply(review, values) else Outcome.UNCHANGED
    deadlines_cancel(now=now, order=order, kinds=[AUTOMATIC_REVIEW])
    # The review threatened in an upheld extortion report, arriving after the decision, is folded too.
    from reviewshield.extortion.services import review_mark_if_upheld  # extortion builds on marketplace

    review_mark_if_upheld(review=review, now=now)
    return review, outcome


@transaction.atomic
def automatic_review_post(*, deadline: Deadline, now: datetime) -> str:
    """Post the automatic good review (自动好评) of an order nobody reviewed in time.

    Returns "fired" when the review was written, "obsolete" when the order no longer needs one.
    """
    order = Order.objects.select_for_update().filter(pk=deadline.order_id).first()
    if order is None or order.status != OrderStatus.TRADE_SUCCESS:
        return "obsolete"
    if Review.objects.filter(order=order).exists():
        return "obsolete"
    Review.objects.create(
        order=order, rating=Rating.GOOD, text="", anonymous=False, automatic=True, posted_at=deadline.due_at
    )
    return "fired"
