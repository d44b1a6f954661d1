"""Reading alerts: the agents' queue and counters, one alert with its messages, a buyer's own alerts."""

from __future__ import annotations

from typing import Any

from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from reviewshield.cases.access import is_agent
from reviewshield.detection.models import OPEN_ALERT_STATUSES, Alert, AlertStatus, ChatMute
from reviewshield.errors import NotFound, PermissionDenied

QUEUE_STATUSES = {"open": OPEN_ALERT_STATUSES, "closed": (AlertStatus.COMPLAINT_FILED, AlertStatus.CLOSED)}


def alert_queue(
    *, status: str = "open", source: str | None = None, action: str | None = None
) -> QuerySet[Alert]:
    """Open alerts first by how bad (blocked before held), then the most recent message."""
    qs = Alert.objects.select_related("shop", "buyer", "order", "platform", "case").filter(
        status__in=QUEUE_STATUSES.get(status, OPEN_ALERT_STATUSES)
    )
    if source:
        qs = qs.filter(source=source)
    if action:
        qs = qs.filter(action=action)
    rank = CaseWhen(When(action="block", then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.annotate(rank=rank).order_by("rank", "-last_at", "-id")


def alert_counts() -> dict[str, int]:
    open_qs = Alert.objects.filter(status__in=OPEN_ALERT_STATUSES)
    return {
        "open": open_qs.filter(status=AlertStatus.OPEN).count(),
        "awaiting_buyer": open_qs.filter(status=AlertStatus.AWAITING_BUYER).count(),
        "blocked": open_qs.filter(action="block").count(),
    }


def alert_get(user: Any, alert_id: int) -> Alert:
    """An agent reads any alert; a buyer only their own once they have been asked about it."""
    alert = (
        Alert.objects.select_related("shop", "buyer", "order", "review", "platform", "case", "assigned_agent")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None:
        raise NotFound(_("There is no such alert."))
    if is_agent(user):
        return alert
    if alert.buyer_id != getattr(user, "pk", None):
        raise PermissionDenied(_("This alert is not yours."))
    if alert.consent_requested_at is None:  # the buyer has not been asked: nothing to show them yet
        raise NotFound(_("There is no such alert."))
    return alert


def buyer_alerts(user: Any) -> QuerySet[Alert]:
    """The alerts a buyer has been asked about, newest first."""
    return (
        Alert.objects.select_related("shop", "order", "case")
        .filter(buyer=user, consent_requested_at__isnull=False)
        .order_by("-consent_requested_at")
    )


def pending_consents(user: Any) -> QuerySet[Alert]:
    return buyer_alerts(user).filter(status=AlertStatus.AWAITING_BUYER)


def standing_mute(alert: Alert) -> ChatMute | None:
    return ChatMute.objects.filter(
        shop_id=alert.shop_id, buyer_id=alert.buyer_id, lifted_at__isnull=True
    ).first()


def alerts_for_case(case: Any) -> QuerySet[Alert]:
    return Alert.objects.filter(case=case).order_by("raised_at")
