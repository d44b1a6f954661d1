"""Announce changes to the marketplace, and let an admin send a delivery again.

`webhook_emit` is called by other services inside their own transaction: the change and its
announcement commit together or not at all (the outbox pattern). It writes the event and one
delivery per active endpoint subscribed to it; the worker sends them later (`delivery`). When no
endpoint subscribes, nothing is written and it returns None — an outbox nobody reads would only grow.

Payloads carry ids, references, codes, amounts and times: what the marketplace needs to act, and
never a buyer's personal data (the receiving systems may be the seller's too). Keys that look like
personal data (phone, mobile, address, email, real name) are refused, at any depth. Aware datetimes
become ISO-8601 UTC strings and Decimals strings, so callers may pass them as they are.

The payload of each event is its caller's (`cases.services.case_decided_announce`,
`sanctions.services`); receivers get it as `data` in the body (see `signing`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from reviewshield.accounts.models import Role
from reviewshield.errors import Conflict, NotFound, PermissionDenied
from reviewshield.rawsql import instances
from reviewshield.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint, WebhookEvent
from reviewshield.webhooks.signing import utc_iso

__all__ = [
    "EVENTS",
    "can_read_deliveries",
    "can_replay",
    "webhook_emit",
    "webhook_emit_many",
    "webhook_endpoints",
    "webhook_replay",
]

# Personal data has no business in a webhook: keys named like it are refused wherever they appear.
PERSONAL_KEY = re.compile(r"phone|mobile|address|e_?mail|real_?name|name_?real", re.IGNORECASE)


def can_read_deliveries(user: Any) -> bool:
    """Agents and admins read the delivery log."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(user.role in (Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN))


def can_replay(user: Any) -> bool:
    """Only admins send a delivery again."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return bool(user.role == Role.ADMIN)


def _clean(value: Any, path: str) -> Any:
    """A JSON-ready copy of `value`; ValueError for personal-data keys and what JSON cannot carry."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"webhook payload key {path}{key!r} is not a string")
            if PERSONAL_KEY.search(key):
                raise ValueError(
                    f"webhook payload key {path}{key} looks like personal data; send ids instead"
                )
            out[key] = _clean(item, f"{path}{key}.")
        return out
    if isinstance(value, (list, tuple)):
        return [_clean(item, path) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"webhook payload value at {path or 'top'} is not a finite number")
        return value
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, Decimal):
        return str(value)
    raise ValueError(f"webhook payload value at {path or 'top'} is a {type(value).__name__}, not JSON")


def webhook_endpoints() -> list[WebhookEndpoint]:
    """The active endpoints (one query: a change that announces several events reads them once and
    hands them to each `webhook_emit_many`)."""
    return instances(WebhookEndpoint, "t.active = %s", True, order_by="t.id")  # type: ignore[no-any-return]


def webhook_emit(*, event: str, payload: dict[str, Any], now: datetime) -> WebhookEvent | None:
    """Queue `event` for every active endpoint subscribed to it, in the caller's transaction.

    Returns the event, or None when no endpoint subscribes (nothing written). Raises RuntimeError
    outside a transaction, ValueError for an unknown event or a payload with personal-data keys.
    """
    return webhook_emit_many(events=[(event, payload)], now=now)[0]


Payload = dict[str, Any] | Callable[[], dict[str, Any]]


def webhook_emit_many(
    *, events: Sequence[tuple[str, Payload]], now: datetime, endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookEvent | None]:
    """`webhook_emit` for several events of one change, reading the endpoints once.

    A payload may be a function that builds it: it is called only for an event somebody subscribes
    to (building one may cost a query, and most events of a busy shop have no subscriber)."""
    if not connection.in_atomic_block:
        raise RuntimeError(
            "webhook_emit must run inside the transaction of the change it announces (transaction.atomic)"
        )
    for event, _payload in events:
        if event not in EVENTS:
            raise ValueError(f"unknown webhook event {event!r}; known: {', '.join(EVENTS)}")
    if not events:
        return []
    active = webhook_endpoints() if endpoints is None else endpoints
    out: list[WebhookEvent | None] = []
    for event, payload in events:
        # A payload given as it is is checked even when nobody subscribes (a caller's mistake shows
        # in every test, not only in those with an endpoint).
        data = None if callable(payload) else _clean(payload, "")
        subscribed = [e for e in active if e.subscribes_to(event)]
        if not subscribed:
            out.append(None)
            continue
        if data is None:
            data = _clean(payload(), "")  # type: ignore[operator]
        row = WebhookEvent.objects.create(event=event, payload=data, created_at=now)
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(event=row, endpoint=e, created_at=now, next_attempt_at=now) for e in subscribed]
        )
        out.append(row)
    return out


def webhook_replay(*, delivery_id: int, user: Any, now: datetime) -> WebhookDelivery:
    """Make a delivery due now again (admins), whether it was delivered, given up or still pending.

    Its attempts are kept (so a delivery given up gets one more try before it is given up again);
    `replayed_at`/`replayed_by` record who asked. Refused with `Conflict` while a worker is sending it.
    """
    if not can_replay(user):
        raise PermissionDenied(_("Only an administrator may send a webhook again."))
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFound()
        # A worker holds it until its lease ends: making it due now would let a second worker send
        # it at the same time.
        if delivery.claimed_by and delivery.next_attempt_at > now:
            raise Conflict(
                _("This delivery is being sent right now. Look again in a minute."), code="delivery_in_flight"
            )
        delivery.delivered_at = None
        delivery.dead_at = None
        delivery.claimed_by = ""
        delivery.next_attempt_at = now
        delivery.replayed_at = now
        delivery.replayed_by = user
        delivery.save(
            update_fields=[
                "delivered_at",
                "dead_at",
                "claimed_by",
                "next_attempt_at",
                "replayed_at",
                "replayed_by",
            ]
        )
    return delivery
