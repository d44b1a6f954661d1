"""Requests for assisted filing: a buyer past the filing window asks, an agent answers with a link.

    assisted_request_file      the buyer asks (their order, a short description); it waits for agents
    assisted_request_link      an agent issues the filing link from it (`services.assisted_link_issue`,
                               the existing flow); the buyer files with it as any assisted complaint
    assisted_requests_open     the agents' list, oldest first
    assisted_requests_for_buyer  the buyer's own requests with their status

Each change is one transaction with its audit event (`AssistedRequestEvent`, also queued for the
tamper-evident log as an `assisted_request_event` record).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import User
from reviewshield.cases import access
from reviewshield.cases.audit import event_record
from reviewshield.cases.models import (
    AssistedLink,
    AssistedRequest,
    AssistedRequestEvent,
    AssistedRequestStatus,
    Case,
    Side,
)
from reviewshield.cases.services import assisted_link_issue, filing_check
from reviewshield.errors import (
    Conflict,
    InvalidTransition,
    NotEligible,
    NotFound,
    PermissionDenied,
)
from reviewshield.evidence.log import log_enqueue
from reviewshield.freetext import LIMITS, text_checked
from reviewshield.marketplace.models import Order
from reviewshield.rawsql import untaken

MAX_DESCRIPTION = LIMITS["assisted_request"]


def _event(
    request: AssistedRequest, *, kind: str, actor: Any, actor_role: str, at: datetime, **data: Any
) -> None:
    event = AssistedRequestEvent.objects.create(
        request=request,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        at=at,
        to_status=request.status,
        data={"order": request.order_id, **data},
    )
    record = event_record(event, request.reference, record_type="assisted_request_event", subject="request")
    log_enqueue(ref=f"assisted_request_event:{event.pk}", record=record, now=at)


def assisted_request_file(*, buyer: User, order_id: int, description: str, now: datetime) -> AssistedRequest:
    """The buyer asks an agent to open an assisted complaint for an order whose window has passed."""
    text = text_checked(
        description,
        text="assisted_request",
        field="description",
        required=_("Say in a few words what happened, so the agent knows why you ask."),
    )
    order = Order.objects.filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise NotFound(_("There is no such order."))
    # Only a closed window calls for an agent: a buyer who may still file is sent to the form, and
    # one the rules exclude is told why (the same refusals the complaint form gives).
    try:
        filing_check(buyer=buyer, order_id=order.pk, now=now)
    except NotEligible as exc:
        if exc.details.get("reason") != "window_passed":
            raise
    else:
        raise InvalidTransition(_("You can still file this complaint yourself, from your orders."))
    try:
        with transaction.atomic():
            if AssistedRequest.objects.filter(order=order, status=AssistedRequestStatus.OPEN).exists():
                raise Conflict(_("You have already asked for help with this order; an agent will answer."))
            request = AssistedRequest.objects.create(
                reference=untaken(AssistedRequest, "reference", lambda: f"AR{secrets.token_hex(4).upper()}"),
                order=order,
                buyer=buyer,
                description=text,
                created_at=now,
            )
            _event(request, kind="requested", actor=buyer, actor_role=Side.BUYER, at=now)
            return request
    except IntegrityError as exc:  # two posts raced past the check; the partial unique index held
        raise Conflict(_("You have already asked for help with this order; an agent will answer.")) from exc


def assisted_request_link(
    *, agent: User, request_id: int, reason: str, now: datetime
) -> tuple[AssistedRequest, AssistedLink, str]:
    """An agent issues the filing link a request asked for; returns the request, the link and its token."""
    if not access.is_agent(agent):
        raise PermissionDenied(_("Only agents can issue assisted filing links."))
    with transaction.atomic():
        request = AssistedRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None:
            raise NotFound(_("There is no such request."))
        if request.status != AssistedRequestStatus.OPEN:
            raise InvalidTransition(_("A filing link was already issued for this request."))
        link, raw = assisted_link_issue(agent=agent, order_id=request.order_id, reason=reason, now=now)
        request.status = AssistedRequestStatus.LINK_ISSUED
        request.link = link
        request.handled_by = agent
        request.handled_at = now
        request.save(update_fields=["status", "link", "handled_by", "handled_at"])
        _event(request, kind="link_issued", actor=agent, actor_role=Side.AGENT, at=now, link=link.pk)
        return request, link, raw


def assisted_requests_open() -> QuerySet[AssistedRequest]:
    """The requests waiting for an agent, oldest first (with what the list shows)."""
    return (
        AssistedRequest.objects.filter(status=AssistedRequestStatus.OPEN)
        .select_related("order", "order__shop", "order__platform", "buyer")
        .order_by("created_at", "id")
    )


def assisted_requests_for_buyer(buyer: User, order_id: int | None = None) -> list[dict[str, Any]]:
    """The buyer's requests, newest first, each with its status and the complaint filed from it."""
    rows = AssistedRequest.objects.filter(buyer=buyer).select_related("order", "order__shop", "link")
    if order_id is not None:
        rows = rows.filter(order_id=order_id)
    requests = list(rows.order_by("-created_at", "-id"))
    filed = dict(
        Case.objects.filter(assisted_link__in=[r.link_id for r in requests if r.link_id]).values_list(
            "assisted_link_id", "id"
        )
    )
    return [{"request": r, "case_id": filed.get(r.link_id)} for r in requests]
