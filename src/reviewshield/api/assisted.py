"""Requests for assisted filing: a buyer past the window asks; agents list them and issue the link
(`cases.assisted`, the same service the pages use)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from reviewshield.api.bounds import Id
from reviewshield.api.cases import ERRORS, LinkOut
from reviewshield.api.core import require_roles
from reviewshield.cases import assisted
from reviewshield.cases.access import is_agent
from reviewshield.cases.models import AssistedRequest, AssistedRequestStatus
from reviewshield.localtime import iso_local

router = Router(tags=["cases"])


class AssistedRequestIn(Schema):
    order_id: Id
    description: str


class AssistedRequestOut(Schema):
    id: int
    reference: str
    order_id: int
    order_external_id: str
    buyer: str
    description: str
    status: str
    status_label: str
    created_at: str
    handled_at: str | None
    case_id: int | None  # the complaint filed with the link issued from it


class AssistedLinkFromRequestIn(Schema):
    reason: str


def _out(request: AssistedRequest, case_id: int | None = None) -> dict[str, Any]:
    return {
        "id": request.pk,
        "reference": request.reference,
        "order_id": request.order_id,
        "order_external_id": request.order.external_id,
        "buyer": request.buyer.username,
        "description": request.description,
        "status": request.status,
        "status_label": str(AssistedRequestStatus(request.status).label),
        "created_at": iso_local(request.created_at),
        "handled_at": iso_local(request.handled_at) if request.handled_at else None,
        "case_id": case_id,
    }


@router.post(
    "/assisted-requests",
    response={201: AssistedRequestOut, **ERRORS},
    summary="Buyer: ask an agent for an assisted complaint (the order's filing window has passed)",
)
def assisted_request_file(request: HttpRequest, payload: AssistedRequestIn) -> Any:
    buyer = require_roles(request, "buyer")
    made = assisted.assisted_request_file(
        buyer=buyer, order_id=payload.order_id, description=payload.description, now=timezone.now()
    )
    return Status(201, _out(made))


@router.get(
    "/assisted-requests",
    response={200: list[AssistedRequestOut], **ERRORS},
    summary="A buyer's own requests for assisted filing; for agents, those waiting (oldest first)",
)
def assisted_request_list(request: HttpRequest) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if is_agent(user):
        return [_out(r) for r in assisted.assisted_requests_open()[:200]]
    buyer = require_roles(request, "buyer")
    return [_out(row["request"], row["case_id"]) for row in assisted.assisted_requests_for_buyer(buyer)]


@router.post(
    "/assisted-requests/{request_id}/link",
    response={201: LinkOut, **ERRORS},
    summary="Agent: issue the single-use filing link a buyer's request asked for",
)
def assisted_request_link(request: HttpRequest, request_id: Id, payload: AssistedLinkFromRequestIn) -> Any:
    agent = request.auth  # type: ignore[attr-defined]
    _made, link, raw = assisted.assisted_request_link(
        agent=agent, request_id=request_id, reason=payload.reason, now=timezone.now()
    )
    return Status(
        201,
        {
            "token": raw,
            "url": f"/file/{raw}/",
            "order_id": link.order_id,
            "expires_at": iso_local(link.expires_at),
        },
    )
