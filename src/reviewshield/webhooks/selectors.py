"""Reads of the webhook delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from reviewshield.webhooks.models import DeliveryStatus, WebhookDelivery


def webhook_delivery_list(
    *, status: str | None = None, event: str | None = None
) -> QuerySet[WebhookDelivery]:
    """Deliveries newest first, with their event and endpoint; optionally of one status and event."""
    qs = WebhookDelivery.objects.select_related("event", "endpoint", "replayed_by").order_by(
        "-created_at", "-id"
    )
    if status == DeliveryStatus.PENDING:
        qs = qs.filter(delivered_at__isnull=True, dead_at__isnull=True)
    elif status == DeliveryStatus.DELIVERED:
        qs = qs.filter(delivered_at__isnull=False)
    elif status == DeliveryStatus.DEAD:
        qs = qs.filter(dead_at__isnull=False)
    if event:
        qs = qs.filter(event__event=event)
    return qs
