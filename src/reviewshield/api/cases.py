"""Complaint endpoints: file, read, answer, settle, withdraw, assign, decide, evidence, queue, links.

Thin: parse, call one service or selector, render. What a seller receives is built by
`_case_out(..., side="seller")`, which never includes the buyer's name, phone or address.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from reviewshield.api.bounds import Id, Instant, PageNumber, PageSize
from reviewshield.api.core import ErrorOut, Page, paginate, require_roles
from reviewshield.cases import selectors, services
from reviewshield.cases.access import is_agent
from reviewshield.cases.models import Case, CaseStatus, HarassmentType, Side
from reviewshield.errors import NotFound, PermissionDenied
from reviewshield.evidence.downloads import blob_response
from reviewshield.evidence.intake import Upload
from reviewshield.extortion.selectors import buyer_strikes
from reviewshield.forensics.models import FORENSIC_EVENTS
from reviewshield.limits.edges import limit_request
from reviewshield.localtime import iso_local
from reviewshield.privacy.selectors import mask_data_for_seller, mask_for_seller

router = Router(tags=["cases"])
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    410: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}


class DeadlineOut(Schema):
    at: str | None
    provisional: bool


class ShopRef(Schema):
    id: int
    name: str


class OrderRef(Schema):
    id: int
    external_id: str
    title: str
    amount: Decimal
    trade_success_at: str | None


class EvidenceOut(Schema):
    id: int
    side: str
    kind: str
    name: str
    content_type: str  # sniffed from the bytes, not what the uploader declared
    size: int
    sha256: str  # of the sealed original
    reference: str  # a waybill number; empty for the other side
    description: str
    created_at: str
    # What this caller gets from …/file: "original", "clean_copy" (re-encoded image or masked
    # text), or "none" (kept for agents only).
    file: Literal["original", "clean_copy", "none"]


class StrikeOut(Schema):
    report_id: int
    report: str
    shop: ShopRef
    at: str


class StrikesOut(Schema):
    buyer_id: int
    count: int
    strikes: list[StrikeOut]


class DecisionOut(Schema):
    outcome: Literal["uphold", "reject"]
    tier: str
    points: int | None
    points_class: str
    money_to_buyer: Decimal | None
    reasons: str
    decided_at: str | None


class CaseSummaryOut(Schema):
    id: int
    reference: str
    status: str
    status_label: str
    platform: str
    shop: ShopRef
    buyer_alias: str
    harassment_types: list[str]
    filed_at: str
    next_deadline_at: str | None
    escalated: bool


class CaseOut(CaseSummaryOut):
    version: int
    order: OrderRef
    ruleset_id: str
    ruleset_hash: str
    occurred_at: str
    narrative: str
    assisted: bool
    deadlines: dict[str, DeadlineOut]
    response: str
    response_text: str
    responded_at: str | None
    assigned_agent: str | None
    decision: DecisionOut | None
    withdrawn_at: str | None
    evidence: list[EvidenceOut]
    viewer_side: str
    buyer_strikes: StrikesOut | None = None  # agents only: the buyer's upheld extortion reports


class QueueItemOut(CaseSummaryOut):
    sla: Literal["ok", "at_risk", "breached"]
    assigned_agent: str | None
    provisional_deadlines: list[str]


class EventOut(Schema):
    kind: str
    at: str
    actor_role: str
    from_status: str
    to_status: str
    data: dict[str, Any]


def _iso(at: datetime | None) -> str | None:
    return iso_local(at) if at else None


def _alias(case: Case, side: str) -> str:
    return case.buyer.username if side in (Side.BUYER, Side.AGENT) else case.buyer.public_alias


def _summary(case: Case, side: str) -> dict[str, Any]:
    return {
        "id": case.pk,
        "reference": case.reference,
        "status": case.status,
        "status_label": str(CaseStatus(case.status).label),
        "platform": case.platform_id,
        "shop": {"id": case.shop_id, "name": case.shop.name},
        "buyer_alias": _alias(case, side),
        "harassment_types": case.harassment_types,
        "filed_at": iso_local(case.filed_at),
        "next_deadline_at": _iso(case.next_deadline_at),
        "escalated": case.escalated,
    }


def _case_out(case: Case, side: str) -> dict[str, Any]:
    def shown(text: str) -> str:
        return mask_for_seller(text, case.buyer) if side == Side.SELLER else text

    provisional = set(case.provisional_deadlines)
    deadlines = {
        name: {"at": _iso(getattr(case, name)), "provisional": name in provisional}
        for name in ("respond_by", "handle_by", "decide_by", "settlement_reply_by")
    }
    decision = None
    if case.decided_at:
        decision = {
            "outcome": "uphold" if case.status == CaseStatus.UPHELD else "reject",
            "tier": case.tier,
            "points": case.points,
            "points_class": case.points_class,
            "money_to_buyer": case.money_to_buyer,
            # An agent may quote the buyer: the seller reads the reasons masked.
            "reasons": shown(case.decision_reasons),
            "decided_at": _iso(case.decided_at),
        }
    return {
        **_summary(case, side),
        "version": case.version,
        "order": {
            "id": case.order_id,
            "external_id": case.order.external_id,
            "title": case.order.title,
            "amount": case.order.amount,
            "trade_success_at": _iso(case.order.trade_success_at),
        },
        "ruleset_id": case.ruleset_id,
        "ruleset_hash": case.ruleset_hash,
        "occurred_at": iso_local(case.occurred_at),
        "narrative": shown(case.narrative),
        "assisted": case.assisted_link_id is not None,
        "deadlines": deadlines,
        "response": case.response,
        "response_text": case.response_text,
        "responded_at": _iso(case.responded_at),
        "assigned_agent": case.assigned_agent.username if case.assigned_agent else None,
        "decision": decision,
        "withdrawn_at": _iso(case.withdrawn_at),
        "evidence": [
            evidence_out(e, side, shown)
            for e in case.evidence.order_by("created_at", "id")
            # The forensic report is built from the buyer's phone: the seller does not learn of it.
            if not (side == Side.SELLER and e.kind == "forensic_report")
        ],
        "viewer_side": side,
        # Agents see the buyer's upheld extortion reports on their complaints; nobody else does.
        "buyer_strikes": strikes_out(case.buyer_id) if side == Side.AGENT else None,
    }


def evidence_out(item: Any, side: str, shown: Callable[[str], str]) -> dict[str, Any]:
    """One evidence item (of a case or an extortion report) as `side` sees it; `shown` masks what a
    seller reads of the buyer's names and descriptions."""
    return {
        "id": item.pk,
        "side": item.side,
        "kind": item.kind,
        "name": shown(item.original_name),
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
        "reference": item.reference if side in (item.side, Side.AGENT) else "",
        "description": shown(item.description),
        "created_at": iso_local(item.created_at),
        "file": _file_shown(item, side),
    }


def _file_shown(item: Any, side: str) -> str:
    if side in (item.side, Side.AGENT):
        return "original"
    return "none" if item.clean_blob_id is None else "clean_copy"


def strikes_out(buyer_id: int) -> dict[str, Any]:
    """The buyer's strikes from upheld extortion reports (for agents only)."""
    strikes = buyer_strikes(buyer_id)
    return {
        "buyer_id": buyer_id,
        "count": len(strikes),
        "strikes": [
            {
                "report_id": s.report_id,
                "report": s.report.reference,
                "shop": {"id": s.report.shop_id, "name": s.report.shop.name},
                "at": iso_local(s.at),
            }
            for s in strikes
        ],
    }


def _get(request: HttpRequest, case_id: int) -> tuple[Case, str]:
    return selectors.case_get_for_user(request.auth, case_id)  # type: ignore[attr-defined]


def _out(request: HttpRequest, case: Case) -> dict[str, Any]:
    case, side = _get(request, case.pk)
    return _case_out(case, side)


@router.get(
    "/cases", response={200: Page[CaseSummaryOut], **ERRORS}, summary="List the complaints you may see"
)
def case_list(
    request: HttpRequest,
    status: str | None = None,
    shop_id: Id | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    items, count, page, page_size = paginate(
        selectors.case_list_for_user(user, status=status, shop_id=shop_id).select_related("buyer"),
        page=page,
        page_size=page_size,
    )
    side_of = (
        (lambda c: Side.AGENT)
        if is_agent(user)
        else (lambda c: Side.BUYER if c.buyer_id == user.pk else Side.SELLER)
    )
    return {
        "items": [_summary(c, side_of(c)) for c in items],
        "count": count,
        "page": page,
        "page_size": page_size,
    }


class FileIn(Schema):
    order_id: Id
    harassment_types: list[HarassmentType]
    occurred_at: Instant
    narrative: str
    link_token: str | None = None


@router.post("/cases", response={201: CaseOut, **ERRORS}, summary="File a harassment complaint (buyer)")
def case_file(request: HttpRequest, payload: FileIn) -> Any:
    buyer = require_roles(request, "buyer")
    limit_request(request, "complaint_file")
    case = services.case_file(
        buyer=buyer,
        order_id=payload.order_id,
        harassment_types=[str(h.value) for h in payload.harassment_types],
        occurred_at=payload.occurred_at,
        narrative=payload.narrative,
        link_token=payload.link_token,
        now=timezone.now(),
    )
    return Status(201, _out(request, case))


@router.get(
    "/cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="One complaint, as your side may see it"
)
def case_detail(request: HttpRequest, case_id: Id) -> Any:
    case, side = _get(request, case_id)
    return _case_out(case, side)


@router.get(
    "/cases/{case_id}/events",
    response={200: list[EventOut], **ERRORS},
    summary="The audit trail of a complaint",
)
def case_events(request: HttpRequest, case_id: Id) -> Any:
    case, side = _get(request, case_id)
    out = []
    for e in case.events.all():
        if side == Side.SELLER and e.kind in FORENSIC_EVENTS:
            continue  # built from the buyer's phone: the seller does not learn of it
        data = dict(e.data)
        if side == Side.SELLER:
            data = mask_data_for_seller(data, case.buyer)
        out.append(
            {
                "kind": e.kind,
                "at": iso_local(e.at),
                "actor_role": e.actor_role,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "data": data,
            }
        )
    return out


class AnswerIn(Schema):
    kind: Literal["settlement", "defence"]
    text: str
    version: int | None = None


@router.post(
    "/cases/{case_id}/answer",
    response={200: CaseOut, **ERRORS},
    summary="Seller: answer A (settlement) or B (defence)",
)
def case_answer(request: HttpRequest, case_id: Id, payload: AnswerIn) -> Any:
    case = services.case_answer(
        case_id=case_id,
        seller=request.auth,
        kind=payload.kind,
        text=payload.text,
        expected_version=payload.version,
        now=timezone.now(),  # type: ignore[attr-defined]
    )
    return _out(request, case)


class SettlementIn(Schema):
    accept: bool
    version: int | None = None


@router.post(
    "/cases/{case_id}/settlement",
    response={200: CaseOut, **ERRORS},
    summary="Buyer: accept or decline the seller's settlement",
)
def case_settlement(request: HttpRequest, case_id: Id, payload: SettlementIn) -> Any:
    case = services.case_settlement_reply(
        case_id=case_id,
        buyer=request.auth,
        accept=payload.accept,
        expected_version=payload.version,
        now=timezone.now(),
    )  # type: ignore[attr-defined]
    return _out(request, case)


class WithdrawIn(Schema):
    reason: str = ""
    version: int | None = None


@router.post(
    "/cases/{case_id}/withdraw",
    response={200: CaseOut, **ERRORS},
    summary="Buyer: withdraw before a decision",
)
def case_withdraw(request: HttpRequest, case_id: Id, payload: WithdrawIn) -> Any:
    case = services.case_withdraw(
        case_id=case_id,
        buyer=request.auth,
        reason=payload.reason,
        expected_version=payload.version,
        now=timezone.now(),
    )  # type: ignore[attr-defined]
    return _out(request, case)


class AssignIn(Schema):
    assignee_id: Id | None = None
    version: int | None = None


def assignee_of(payload: AssignIn) -> Any:
    """The user `assignee_id` names (None: the caller takes it); NotFound for an unknown id."""
    from reviewshield.accounts.models import User

    if payload.assignee_id is None:
        return None
    assignee = User.objects.filter(pk=payload.assignee_id).first()
    if assignee is None:
        raise NotFound()
    return assignee


@router.post(
    "/cases/{case_id}/assign",
    response={200: CaseOut, **ERRORS},
    summary="Agent: take a case or hand it to another agent",
)
def case_assign(request: HttpRequest, case_id: Id, payload: AssignIn) -> Any:
    case = services.case_assign(
        case_id=case_id,
        agent=request.auth,
        assignee=assignee_of(payload),
        expected_version=payload.version,
        now=timezone.now(),
    )  # type: ignore[attr-defined]
    return _out(request, case)


class DecideIn(Schema):
    outcome: Literal["uphold", "reject"]
    tier: str | None = None
    reasons: str
    version: int | None = None


@router.post(
    "/cases/{case_id}/decide", response={200: CaseOut, **ERRORS}, summary="Agent: reject, or uphold at a tier"
)
def case_decide(request: HttpRequest, case_id: Id, payload: DecideIn) -> Any:
    case = services.case_decide(
        case_id=case_id,
        agent=request.auth,  # type: ignore[attr-defined]
        outcome=payload.outcome,
        tier=payload.tier,
        reasons=payload.reasons,
        expected_version=payload.version,
        now=timezone.now(),
    )
    return _out(request, case)


class TierPreviewOut(Schema):
    tier: str
    points: int
    points_class: str
    money_to_buyer: Decimal


@router.get(
    "/cases/{case_id}/decision-preview",
    response={200: list[TierPreviewOut], **ERRORS},
    summary="Agent: what each tier would assign",
)
def case_decision_preview(request: HttpRequest, case_id: Id) -> Any:
    require_roles(request, "agent", "senior_agent", "admin")
    case, _side = _get(request, case_id)
    return [p.__dict__ for p in services.decision_preview(case)]


@router.post(
    "/cases/{case_id}/evidence",
    response={201: list[EvidenceOut], **ERRORS},
    summary="Either side: add evidence files of one kind (multipart: files, kind, reference, description)",
)
def case_evidence_add(
    request: HttpRequest,
    case_id: Id,
    files: File[list[UploadedFile]],
    kind: Form[str],
    reference: Form[str] = "",
    description: Form[str] = "",
) -> Any:
    limit_request(request, "evidence_upload")
    items = [
        Upload(file=f, name=f.name or "file", kind=kind, reference=reference, description=description)
        for f in files
    ]
    added = services.case_evidence_add(case_id=case_id, user=request.auth, files=items, now=timezone.now())  # type: ignore[attr-defined]
    case, side = _get(request, case_id)
    shown = {e["id"]: e for e in _case_out(case, side)["evidence"]}
    return Status(201, [shown[e.pk] for e in added])


@router.get(
    "/cases/{case_id}/bundle",
    response={200: None, **ERRORS},
    summary="The case's evidence bundle (ZIP) for the buyer or an agent: the files they may open, every record with its proof, checkpoint, signed contents, verifier",
)
def case_bundle(request: HttpRequest, case_id: Id) -> Any:
    from reviewshield.evidence.bundles import bundle_build

    case, side = _get(request, case_id)
    if side == Side.SELLER:
        raise PermissionDenied(_("Evidence bundles are for the buyer and the platform's agents."))
    return FileResponse(
        bundle_build(case=case, side=side, now=timezone.now()),
        content_type="application/zip",
        as_attachment=True,
        filename=f"{case.reference}-evidence.zip",
    )


@router.get(
    "/cases/{case_id}/evidence/{evidence_id}/file",
    response={200: None, **ERRORS},
    summary="Download one evidence file",
)
def case_evidence_file(request: HttpRequest, case_id: Id, evidence_id: Id, view: bool = False) -> Any:
    # Own side and agents get the sealed original; the other side the clean copy (a re-encoded
    # image without metadata, or the buyer's text with their personal data masked); kinds that
    # cannot be cleaned (bills, call records, audio, video) are for agents only: 404 for the other side.
    item, blob = selectors.evidence_for_user(request.auth, case_id, evidence_id)  # type: ignore[attr-defined]
    return blob_response(blob, filename_stem=f"evidence-{item.pk}", inline=view)


@router.get(
    "/queue",
    response={200: Page[QueueItemOut], **ERRORS},
    summary="Agent queue: open cases by nearest deadline",
)
def queue(
    request: HttpRequest,
    platform: str | None = None,
    harassment_type: HarassmentType | None = None,
    status: CaseStatus | None = None,
    risk: Literal["at_risk", "breached"] | None = None,
    mine: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    agent = require_roles(request, "agent", "senior_agent", "admin")
    now = timezone.now()
    filters = selectors.QueueFilters(
        platform=platform,
        harassment_type=harassment_type.value if harassment_type else None,
        status=status.value if status else None,
        risk=risk,
        assigned_to=agent.pk if mine else None,
    )
    items, count, page, page_size = paginate(
        selectors.agent_queue(now=now, filters=filters).select_related("buyer"),
        page=page,
        page_size=page_size,
    )
    out = []
    for c in items:
        row = _summary(c, Side.AGENT)
        row.update(
            sla=selectors.sla_state(c, now),
            assigned_agent=c.assigned_agent.username if c.assigned_agent else None,
            provisional_deadlines=c.provisional_deadlines,
        )
        out.append(row)
    return {"items": out, "count": count, "page": page, "page_size": page_size}


class CountersOut(Schema):
    open: int
    due_today: int
    breached: int
    decided_this_week: int


@router.get("/queue/counters", response={200: CountersOut, **ERRORS}, summary="Agent counters")
def queue_counters(request: HttpRequest) -> Any:
    require_roles(request, "agent", "senior_agent", "admin")
    return selectors.queue_counters(now=timezone.now()).__dict__


class LinkIn(Schema):
    order_id: Id
    reason: str


class LinkOut(Schema):
    token: str
    url: str
    order_id: int
    expires_at: str


@router.post(
    "/assisted-links", response={201: LinkOut, **ERRORS}, summary="Agent: issue a single-use filing link"
)
def assisted_link_issue(request: HttpRequest, payload: LinkIn) -> Any:
    link, raw = services.assisted_link_issue(
        agent=request.auth, order_id=payload.order_id, reason=payload.reason, now=timezone.now()
    )  # type: ignore[attr-defined]
    return Status(
        201,
        {
            "token": raw,
            "url": f"/file/{raw}/",
            "order_id": link.order_id,
            "expires_at": iso_local(link.expires_at),
        },
    )


class LinkInfoOut(Schema):
    order_id: int
    order_external_id: str
    expires_at: str


@router.get(
    "/assisted-links/{token}", response={200: LinkInfoOut, **ERRORS}, summary="Buyer: check a filing link"
)
def assisted_link_get(request: HttpRequest, token: str) -> Any:
    link = services.assisted_link_get(raw_token=token, buyer=request.auth, now=timezone.now())  # type: ignore[attr-defined]
    return {
        "order_id": link.order_id,
        "order_external_id": link.order.external_id,
        "expires_at": iso_local(link.expires_at),
    }


class NotificationOut(Schema):
    id: int
    kind: str
    text: str  # the notification as one sentence, in the language asked for (Accept-Language)
    link: str | None  # the portal page it leads to, if any
    case_reference: str | None
    created_at: str
    read: bool


@router.get(
    "/notifications", response={200: Page[NotificationOut], **ERRORS}, summary="Your in-app notifications"
)
def notifications(
    request: HttpRequest, page: PageNumber = 1, page_size: PageSize = 50, unread: bool = False
) -> Any:
    """Newest first; `unread=true` leaves out those already read."""
    from reviewshield.outbox.selectors import notification_view, notifications_for

    qs = notifications_for(request.auth)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    items, count, page, page_size = paginate(qs, page=page, page_size=page_size)
    views = [notification_view(n, request.auth) for n in items]
    return {
        "items": [
            {
                "id": v.id,
                "kind": v.kind,
                "text": v.text,
                "link": v.link,
                "case_reference": v.case_reference,
                "created_at": iso_local(v.created_at),
                "read": v.read,
            }
            for v in views
        ],
        "count": count,
        "page": page,
        "page_size": page_size,
    }


class NotificationsReadIn(Schema):
    ids: list[Id] | None = None  # leave out to mark every unread notification read


class NotificationsReadOut(Schema):
    marked: int


@router.post(
    "/notifications/read",
    response={200: NotificationsReadOut, **ERRORS},
    summary="Mark your notifications read",
)
def notifications_read(request: HttpRequest, payload: NotificationsReadIn) -> Any:
    """Marks the given ids (or, without `ids`, all) of your own unread notifications read; ids of
    notifications that are not yours, or already read, are left alone and not counted."""
    from reviewshield.outbox.services import notifications_mark_read

    return {"marked": notifications_mark_read(user=request.auth, now=timezone.now(), ids=payload.ids)}
