"""Decided cases on demand, and a webhook endpoint that records what the marketplace would get."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from reviewshield.cases import services
from tests.conftest import local


def decide(
    cast: Any,
    tier: str | None,
    at: datetime,
    *,
    shop: Any = None,
    buyer: Any = None,
    outcome="uphold",
    agent: Any = None,
):
    """File a complaint the day before `at`, let the seller defend, and decide it at `at` (erin unless
    another `agent` is named)."""
    buyer = buyer or cast.bob
    shop = shop or cast.shop
    filed = at - timedelta(days=1)
    order = cast.order(buyer=buyer, shop=shop, trade_success_at=filed - timedelta(days=2))
    case = services.case_file(
        buyer=buyer,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=filed - timedelta(hours=3),
        narrative="After my one-star review the seller threatened me by SMS at night.",
        now=filed,
    )
    seller = shop.sellers.first()
    services.case_answer(
        case_id=case.pk, seller=seller, kind="defence", text="We deny it.", now=filed + timedelta(hours=1)
    )
    return services.case_decide(
        case_id=case.pk,
        agent=agent or cast.erin,
        outcome=outcome,
        tier=tier if outcome == "uphold" else None,
        reasons="Screenshots and call records agree with the buyer.",
        now=at,
    )


@pytest.fixture
def endpoint(db: Any) -> Any:
    from reviewshield.webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(name="marketplace", url="http://127.0.0.1:9/hooks", events=[])


def hooks(kind: str | None = None) -> list[dict[str, Any]]:
    from reviewshield.webhooks.models import WebhookEvent

    rows = WebhookEvent.objects.order_by("created_at", "pk")
    return [e.payload for e in rows if kind is None or e.event == kind]


START = local(2026, 3, 2, 10, 0)
