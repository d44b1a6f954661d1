"""Reads of a person's in-app notifications, each with its sentence and the page it leads to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from reviewshield.outbox.models import Notification
from reviewshield.outbox.texts import notification_link, notification_text


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    text: str
    link: str | None
    case_reference: str | None
    created_at: datetime
    read: bool


def notifications_for(user: Any) -> QuerySet[Notification]:
    """The user's notifications, newest first."""
    return (
        Notification.objects.filter(recipient_id=user.pk)
        .select_related("case")
        .only("id", "kind", "params", "created_at", "read_at", "case_id", "case__reference")
        .order_by("-created_at", "-id")
    )


def notification_view(n: Notification, user: Any) -> NotificationView:
    reference = n.case.reference if n.case_id and n.case else None
    return NotificationView(
        id=n.pk,
        kind=n.kind,
        text=notification_text(n.kind, n.params, reference),
        link=notification_link(
            n.kind,
            n.params,
            case_id=n.case_id,
            role=user.role,
            is_agent=bool(getattr(user, "is_agent", False)),
        ),
        case_reference=reference,
        created_at=n.created_at,
        read=n.read_at is not None,
    )


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
