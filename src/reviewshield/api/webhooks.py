"""The webhook delivery log: read it (agents, admins) and send a delivery again (admins).

Thin: the list is `webhooks.selectors.webhook_delivery_list`, the replay `webhooks.services.webhook_replay`
(which checks the caller). Payloads are not returned here; the admin shows them.
"""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from reviewshield.accounts.models import Role
from reviewshield.api.bounds import Id, PageNumber, PageSize
from reviewshield.api.core import ErrorOut, Page, paginate, require_roles
from reviewshield.localtime import iso_local
from reviewshield.webhooks.models import WebhookDelivery
from reviewshield.webhooks.selectors import webhook_delivery_list
from reviewshield.webhooks.services import webhook_replay

router = Router(tags=["webhooks"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class DeliveryOut(Schema):
    id: int
    event_id: str  # the id receivers saw in X-ReviewShield-Delivery
    event: str
    endpoint_id: Id
    endpoint: str
    status: Literal["pending", "delivered", "dead"]
    attempts: int
    last_status: int | None
    last_error: str
    created_at: str
    next_attempt_at: str | None  # only while pending
    delivered_at: str | None
    dead_at: str | None
    replayed_at: str | None


def _iso(at: Any) -> str | None:
    return iso_local(at) if at is not None else None


def _out(d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.pk,
        "event_id": str(d.event_id),
        "event": d.event.event,
        "endpoint_id": d.endpoint_id,
        "endpoint": d.endpoint.name,
        "status": d.status,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": iso_local(d.created_at),
        "next_attempt_at": _iso(d.next_attempt_at) if d.status == "pending" else None,
        "delivered_at": _iso(d.delivered_at),
        "dead_at": _iso(d.dead_at),
        "replayed_at": _iso(d.replayed_at),
    }


@router.get(
    "/webhooks/deliveries",
    response={200: Page[DeliveryOut], **ERRORS},
    summary="Webhook deliveries, newest first (agents, admins)",
)
def delivery_list(
    request: HttpRequest,
    status: Literal["pending", "delivered", "dead"] | None = None,
    event: str | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    require_roles(request, Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)
    items, count, page, page_size = paginate(
        webhook_delivery_list(status=status, event=event), page=page, page_size=page_size
    )
    return {"items": [_out(d) for d in items], "count": count, "page": page, "page_size": page_size}


@router.post(
    "/webhooks/deliveries/{delivery_id}/replay",
    response={200: DeliveryOut, **ERRORS},
    summary="Make a delivered, given-up or pending delivery due again now (admins)",
)
def delivery_replay(request: HttpRequest, delivery_id: Id) -> Any:
    delivery = webhook_replay(delivery_id=delivery_id, user=request.auth, now=timezone.now())  # type: ignore[attr-defined]
    return _out(delivery)
