"""Reports on demand: a bad review posted, a seller who reports the buyer, the buyer's answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reviewshield.extortion import services
from reviewshield.marketplace import services as market
from tests.conftest import local
from tests.samples import screenshot

TS = local(2026, 11, 10, 10, 0)  # trade success
FILED = local(2026, 11, 12, 9, 30)  # a Thursday


def reviewed_order(cast: Any, *, buyer: Any = None, shop: Any = None, rating: str = "bad") -> Any:
    """An order in trade success whose buyer posted a review the day after."""
    order = cast.order(buyer=buyer or cast.bob, shop=shop, trade_success_at=TS)
    posted = TS + timedelta(days=1)
    market.review_upsert(
        platform=order.platform_id,
        order_external_id=order.external_id,
        external_id=f"R-{order.external_id}",
        rating=rating,
        text="Terrible tea. Pay me 200 yuan and I will change this review.",
        anonymous=False,
        posted_at=posted,
        now=posted,
    )
    return order


def file(cast: Any, order: Any = None, *, now: datetime = FILED, **kw: Any) -> Any:
    order = order or reviewed_order(cast)
    args: dict[str, Any] = dict(
        seller=cast.alice,
        order_id=order.pk,
        threat="bad_review",
        demand="200 yuan, or the one-star review stays",
        demand_amount="200",
        occurred_at=now - timedelta(hours=5),
        narrative="The buyer wrote in chat: pay 200 yuan or I post a one-star review and complain.",
        files=[screenshot(name="demand.png")],
        now=now,
    )
    args.update(kw)
    return services.report_file(**args)


def answered(cast: Any, report: Any, **kw: Any) -> Any:
    """The buyer's answer, two hours after the filing unless `now` says otherwise."""
    args: dict[str, Any] = dict(
        report_id=report.pk,
        buyer=cast.bob,
        text="I never asked for money; the tea was mouldy and I said so in my review.",
        now=report.filed_at + timedelta(hours=2),
    )
    args.update(kw)
    return services.report_answer(**args)
