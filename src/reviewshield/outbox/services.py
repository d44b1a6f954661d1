"""Tell people about a change, in the same transaction as the change.

In-app notifications are rows the portals show; email and SMS go to the outbox, from which a
delivery adapter sends them later. Payloads carry ids and codes, never a buyer's personal data,
because the outbox is read by integrations that sellers' systems may sit behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction

from reviewshield.outbox.models import Channel, Notification, OutboxMessage
from reviewshield.rawsql import insert_values


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    now: datetime,
    case: Any = None,
    params: dict[str, Any] | None = None,
    channels: Iterable[str] = (Channel.IN_APP, Channel.EMAIL, Channel.SMS),
) -> None:
    params = params or {}
    channels = tuple(channels)
    if case is not None and not isinstance(case, Notification._meta.get_field("case").related_model):
        raise TypeError(f"a notification's case is a complaint, not {type(case).__name__}")
    if case is not None and case.pk is None:
        raise ValueError("notify() needs a saved case: this one has no id yet")
    case_id = None if case is None else case.pk
    reference = getattr(case, "reference", None)
    notes, messages = [], []
    for user in recipients:
        user_id = getattr(user, "pk", user)  # a user or a user id
        if Channel.IN_APP in channels:
            notes.append((user_id, case_id, kind, params, now))
        for channel in channels:
            if channel == Channel.IN_APP:
                continue
            messages.append((channel, user_id, kind, {"kind": kind, "case": reference, **params}, now))
    # Plain INSERTs of values: `bulk_create` prepares each value through the ORM's layers, and
    # every step of a complaint notifies two or three people (nobody needs the new rows' ids).
    insert_values(Notification, ("recipient_id", "case_id", "kind", "params", "created_at"), notes)
    insert_values(OutboxMessage, ("channel", "recipient_id", "topic", "payload", "created_at"), messages)


def notifications_mark_read(*, user: Any, now: datetime, ids: Iterable[int] | None = None) -> int:
    """Mark the user's own unread notifications read (those of `ids`, or all); returns how many.

    One UPDATE: a notification is the reader's own state, not the case's, so it has no audit event;
    another person's ids match nothing."""
    with transaction.atomic():
        unread = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True)
        if ids is not None:
            unread = unread.filter(pk__in=list(ids))
        return unread.update(read_at=now)
