"""Buyer-extortion report endpoints: file (seller, multipart with evidence), list, read, answer (buyer),
evidence, withdraw, assign and decide (agents); a buyer's strikes (agents); a shop's rating.

Thin: parse, call one service or selector, render. What a seller receives is built by `_report_out`
from `extortion.selectors.report_texts_for`, which never includes the buyer's name, phone or address.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from reviewshield.accounts.models import User
from reviewshield.api.bounds import Id, Instant, PageNumber, PageSize
from reviewshield.api.cases import (
    ERRORS,
    AssignIn,
    DeadlineOut,
    EvidenceOut,
    OrderRef,
    ShopRef,
    StrikesOut,
    WithdrawIn,
    assignee_of,
    evidence_out,
    strikes_out,
)
from reviewshield.api.core import Page, paginate, require_roles
from reviewshield.cases.access import AGENT_ROLES, is_agent
from reviewshield.cases.models import Side
from reviewshield.errors import NotFound
from reviewshield.evidence.downloads import blob_response
from reviewshield.evidence.intake import Upload
from reviewshield.extortion import selectors, services
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from reviewshield.limits.edges import limit_request
from reviewshield.localtime import iso_local
from reviewshield.marketplace.models import Shop
from reviewshield.marketplace.selectors import shop_rating
from reviewshield.privacy.selectors import mask_for_seller

router = Router(tags=["extortion"])


class ReportSummaryOut(Schema):
    id: int
    reference: str
    status: str
    status_label: str
    platform: str
    shop: ShopRef
    order_external_id: str
    buyer_alias: str  # a masked alias for the seller, the username for the buyer and agents
    threat: str
    filed_at: str
    next_deadline_at: str | None
    escalated: bool


class ReviewOut(Schema):
    external_id: str
    rating: str
    text: str
    posted_at: str
    # Found to be extortion: kept (the law forbids deleting it), folded, not counted in the rating.
    marked_as_extortion: bool


class ReportDecisionOut(Schema):
    outcome: Literal["uphold", "reject"]
    reasons: str
    decided_at: str | None


class ReportOut(ReportSummaryOut):
    version: int
    order: OrderRef
    ruleset_id: str
    ruleset_hash: str
    demand: str
    demand_amount: Decimal | None
    occurred_at: str
    narrative: str
    deadlines: dict[str, DeadlineOut]
    answer_text: str
    answered_at: str | None
    no_answer: bool
    assigned_agent: str | None
    decision: ReportDecisionOut | None
    withdrawn_at: str | None
    review: ReviewOut | None
    evidence: list[EvidenceOut]
    viewer_side: str


def _iso(at: datetime | None) -> str | None:
    return iso_local(at) if at else None


def _summary(report: ExtortionReport, side: str) -> dict[str, Any]:
    return {
        "id": report.pk,
        "reference": report.reference,
        "status": report.status,
        "status_label": str(ReportStatus(report.status).label),
        "platform": report.platform_id,
        "shop": {"id": report.shop_id, "name": report.shop.name},
        "order_external_id": report.order.external_id,
        "buyer_alias": report.buyer.public_alias if side == Side.SELLER else report.buyer.username,
        "threat": report.threat,
        "filed_at": iso_local(report.filed_at),
        "next_deadline_at": _iso(report.next_deadline_at),
        "escalated": report.escalated,
    }


def _report_out(report: ExtortionReport, side: str) -> dict[str, Any]:
    texts = selectors.report_texts_for(report, side)

    def shown(text: str) -> str:
        return mask_for_seller(text, report.buyer) if side == Side.SELLER else text

    provisional = set(report.provisional_deadlines)
    review = selectors.report_review(report, side)
    return {
        **_summary(report, side),
        "version": report.version,
        "order": {
            "id": report.order_id,
            "external_id": report.order.external_id,
            "title": report.order.title,
            "amount": report.order.amount,
            "trade_success_at": _iso(report.order.trade_success_at),
        },
        "ruleset_id": report.ruleset_id,
        "ruleset_hash": report.ruleset_hash,
        "demand": texts["demand"],
        "demand_amount": report.demand_amount,
        "occurred_at": iso_local(report.occurred_at),
        "narrative": texts["narrative"],
        "deadlines": {
            name: {"at": _iso(getattr(report, name)), "provisional": name in provisional}
            for name in ("answer_by", "decide_by")
        },
        "answer_text": texts["answer_text"],
        "answered_at": _iso(report.answered_at),
        "no_answer": report.no_answer,
        "assigned_agent": report.assigned_agent.username if report.assigned_agent else None,
        "decision": {
            "outcome": "uphold" if report.status == ReportStatus.UPHELD else "reject",
            "reasons": shown(report.decision_reasons),
            "decided_at": _iso(report.decided_at),
        }
        if report.decided_at
        else None,
        "withdrawn_at": _iso(report.withdrawn_at),
        "review": {
            "external_id": review.external_id,
            "rating": review.rating,
            "text": review.text,  # masked for a seller by `report_review`
            "posted_at": iso_local(review.posted_at),
            "marked_as_extortion": hasattr(review, "extortion_mark"),
        }
        if review
        else None,
        "evidence": [evidence_out(e, side, shown) for e in report.evidence.order_by("created_at", "id")],
        "viewer_side": side,
    }


def _get(request: HttpRequest, report_id: int) -> tuple[ExtortionReport, str]:
    return selectors.report_get_for_user(request.auth, report_id)  # type: ignore[attr-defined]


def _out(request: HttpRequest, report: ExtortionReport) -> dict[str, Any]:
    return _report_out(*_get(request, report.pk))


def _uploads(files: list[UploadedFile] | None, kind: str, reference: str, description: str) -> list[Upload]:
    return [
        Upload(file=f, name=f.name or "file", kind=kind, reference=reference, description=description)
        for f in files or []
    ]


@router.post(
    "/extortion",
    response={201: ReportOut, **ERRORS},
    summary="Seller: report a buyer for extortion (multipart: fields, files and their evidence_kind)",
)
def report_file(
    request: HttpRequest,
    order_id: Form[Id],
    threat: Form[str],
    demand: Form[str],
    occurred_at: Form[Instant],
    narrative: Form[str],
    evidence_kind: Form[str] = "",
    demand_amount: Form[str] = "",
    reference: Form[str] = "",
    description: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    limit_request(request, "extortion_report")
    report = services.report_file(
        seller=request.auth,  # type: ignore[attr-defined]
        order_id=order_id,
        threat=threat,
        demand=demand,
        demand_amount=demand_amount,
        occurred_at=occurred_at,
        narrative=narrative,
        files=_uploads(files, evidence_kind, reference, description),
        now=timezone.now(),
    )
    return Status(201, _out(request, report))


@router.get(
    "/extortion",
    response={200: Page[ReportSummaryOut], **ERRORS},
    summary="The extortion reports you may see: your shops', the ones about you, or all (agents)",
)
def report_list(
    request: HttpRequest,
    status: ReportStatus | None = None,
    shop_id: Id | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    qs = selectors.report_list_for_user(user, status=status.value if status else None, shop_id=shop_id)
    items, count, page, page_size = paginate(qs, page=page, page_size=page_size)

    # The list holds only reports the caller is a party to: the side needs no query per row.
    def side_of(report: ExtortionReport) -> str:
        if is_agent(user):
            return Side.AGENT
        return Side.BUYER if report.buyer_id == user.pk else Side.SELLER

    return {
        "items": [_summary(r, side_of(r)) for r in items],
        "count": count,
        "page": page,
        "page_size": page_size,
    }


@router.get(
    "/extortion/{report_id}",
    response={200: ReportOut, **ERRORS},
    summary="One extortion report, as your side may see it",
)
def report_detail(request: HttpRequest, report_id: Id) -> Any:
    return _report_out(*_get(request, report_id))


@router.post(
    "/extortion/{report_id}/answer",
    response={200: ReportOut, **ERRORS},
    summary="Buyer: answer the report within the window (multipart: text, version, optional files)",
)
def report_answer(
    request: HttpRequest,
    report_id: Id,
    text: Form[str],
    version: Form[int | None] = None,
    evidence_kind: Form[str] = "",
    reference: Form[str] = "",
    description: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    report = services.report_answer(
        report_id=report_id,
        buyer=request.auth,  # type: ignore[attr-defined]
        text=text,
        expected_version=version,
        files=_uploads(files, evidence_kind, reference, description),
        now=timezone.now(),
    )
    return _out(request, report)


@router.post(
    "/extortion/{report_id}/evidence",
    response={201: list[EvidenceOut], **ERRORS},
    summary="Seller or buyer: add evidence files of one kind (multipart: files, kind, reference, description)",
)
def report_evidence_add(
    request: HttpRequest,
    report_id: Id,
    kind: Form[str],
    reference: Form[str] = "",
    description: Form[str] = "",
    files: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    limit_request(request, "evidence_upload")
    added = services.report_evidence_add(
        report_id=report_id,
        user=request.auth,  # type: ignore[attr-defined]
        files=_uploads(files, kind, reference, description),
        now=timezone.now(),
    )
    report, side = _get(request, report_id)
    shown = {e["id"]: e for e in _report_out(report, side)["evidence"]}
    return Status(201, [shown[e.pk] for e in added])


@router.get(
    "/extortion/{report_id}/evidence/{evidence_id}/file",
    response={200: None, **ERRORS},
    summary="Download one evidence file (the other side gets the clean copy, or nothing for agents-only kinds)",
)
def report_evidence_file(request: HttpRequest, report_id: Id, evidence_id: Id, view: bool = False) -> Any:
    item, blob = selectors.evidence_for_user(request.auth, report_id, evidence_id)  # type: ignore[attr-defined]
    return blob_response(blob, filename_stem=f"extortion-evidence-{item.pk}", inline=view)


@router.post(
    "/extortion/{report_id}/withdraw",
    response={200: ReportOut, **ERRORS},
    summary="Seller: withdraw the report before a decision",
)
def report_withdraw(request: HttpRequest, report_id: Id, payload: WithdrawIn) -> Any:
    report = services.report_withdraw(
        report_id=report_id,
        seller=request.auth,  # type: ignore[attr-defined]
        reason=payload.reason,
        expected_version=payload.version,
        now=timezone.now(),
    )
    return _out(request, report)


@router.post(
    "/extortion/{report_id}/assign",
    response={200: ReportOut, **ERRORS},
    summary="Agent: take a report or hand it to another agent",
)
def report_assign(request: HttpRequest, report_id: Id, payload: AssignIn) -> Any:
    report = services.report_assign(
        report_id=report_id,
        agent=request.auth,  # type: ignore[attr-defined]
        assignee=assignee_of(payload),
        expected_version=payload.version,
        now=timezone.now(),
    )
    return _out(request, report)


class DecisionIn(Schema):
    outcome: Literal["uphold", "reject"]
    reasons: str
    version: int | None = None


@router.post(
    "/extortion/{report_id}/decision",
    response={200: ReportOut, **ERRORS},
    summary="Agent: uphold (review marked, buyer struck) or reject the report",
)
def report_decide(request: HttpRequest, report_id: Id, payload: DecisionIn) -> Any:
    report = services.report_decide(
        report_id=report_id,
        agent=request.auth,  # type: ignore[attr-defined]
        outcome=payload.outcome,
        reasons=payload.reasons,
        expected_version=payload.version,
        now=timezone.now(),
    )
    return _out(request, report)


@router.get(
    "/buyers/{buyer_id}/strikes",
    response={200: StrikesOut, **ERRORS},
    summary="Agents: a buyer's strikes from upheld extortion reports",
)
def buyer_strikes(request: HttpRequest, buyer_id: Id) -> Any:
    require_roles(request, *AGENT_ROLES)
    if not User.objects.filter(pk=buyer_id).exists():
        raise NotFound()
    return strikes_out(buyer_id)


class ShopRatingOut(Schema):
    shop: int
    good: int
    neutral: int
    bad: int
    counted: int
    good_share: Decimal | None  # 0.9850 is 98.50 %; null while no review counts
    left_out_as_extortion: int


@router.get(
    "/shops/{shop_id}/rating",
    response={200: ShopRatingOut, **ERRORS},
    summary="A shop's reviews and good share, leaving out reviews found to be extortion",
)
def rating(request: HttpRequest, shop_id: Id) -> Any:
    # A shop's rating is public on the marketplace: any signed-in caller may read it.
    if not Shop.objects.filter(pk=shop_id).exists():
        raise NotFound()
    figures = shop_rating(shop_id)
    return {
        "shop": figures.shop_id,
        "good": figures.good,
        "neutral": figures.neutral,
        "bad": figures.bad,
        "counted": figures.counted,
        "good_share": figures.good_share,
        "left_out_as_extortion": figures.left_out_as_extortion,
    }
