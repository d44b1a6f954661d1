"""Sanctions endpoints: a shop's status for the marketplace, its ledger, the rules exam, compensation
orders (with a CSV export), and appeals. Thin: parse, call one service or selector, render.
Nothing here carries a buyer's personal data: compensation rows name the order, not the person."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status

from reviewshield.accounts.models import Role
from reviewshield.api.bounds import Id, Instant, PageNumber, PageSize
from reviewshield.api.core import ErrorOut, Page, paginate, require_roles
from reviewshield.cases import selectors as case_selectors
from reviewshield.cases.access import is_agent, is_seller_of_shop
from reviewshield.cases.models import Side
from reviewshield.errors import NotFound, PermissionDenied
from reviewshield.limits.edges import limit_request
from reviewshield.marketplace.models import Shop
from reviewshield.privacy.selectors import mask_for_seller
from reviewshield.sanctions import appeals, blacklist, selectors, services
from reviewshield.sanctions.models import Appeal, Compensation

router = Router(tags=["sanctions"])
ERRORS: dict[int, Any] = {s: ErrorOut for s in (400, 401, 403, 404, 409, 410, 422, 429)}
MARKETPLACE_ROLES = (Role.SYSTEM, Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN)


def _shop_for(request: HttpRequest, shop_id: int) -> Shop:
    user = request.auth  # type: ignore[attr-defined]
    shop = Shop.objects.filter(pk=shop_id).first()
    if shop is None:
        raise NotFound()
    if user.role in MARKETPLACE_ROLES or user.is_superuser or is_seller_of_shop(user, shop.pk):
        return shop
    raise NotFound()


class PenaltyOut(Schema):
    key: str
    node: str
    points_class: str
    measures: list[str]
    started_at: str
    ends_at: str | None
    awaiting_exam: bool
    case: str | None


class ShopStatusOut(Schema):
    shop: int
    external_id: str
    platform: str
    at: str
    hidden: bool
    may_list: bool
    may_message: bool
    may_open_shop: bool
    closed: bool
    sealed: bool
    public_warning: bool
    until: str | None
    indefinite: bool
    awaiting_exam: bool
    blacklisted: bool
    blacklisted_until: str | None
    points: dict[str, int]
    penalties: list[PenaltyOut]
    flags: list[dict[str, Any]]
    ruleset: str


@router.get(
    "/shops/{shop_id}/status",
    response={200: ShopStatusOut, **ERRORS},
    summary="What a shop may do now: hidden? may list? may message? closed? sealed? until when and why",
)
def shop_status(request: HttpRequest, shop_id: Id) -> Any:
    shop = _shop_for(request, shop_id)
    return selectors.shop_status_out(shop, timezone.now())


class LedgerLineOut(Schema):
    id: int
    year: int
    points_class: str
    points: int
    kind: str
    reason: str
    case: str | None
    appeal: int | None
    effective_at: str
    recorded_at: str


class LedgerOut(Schema):
    shop: int
    years: dict[str, dict[str, int]]
    lines: list[LedgerLineOut]


@router.get("/shops/{shop_id}/ledger", response={200: LedgerOut, **ERRORS}, summary="A shop's points ledger")
def shop_ledger(request: HttpRequest, shop_id: Id) -> Any:
    shop = _shop_for(request, shop_id)
    return selectors.ledger_out(shop)


class ShopDecisionOut(Schema):
    decided_at: str | None
    tier: str
    harassment_types: list[str]
    case: str


class ShopGroundOut(Schema):
    reason: str
    listed_from: str
    until: str
    count: int  # the decisions it rests on; `decisions` shows the latest ten
    decisions: list[ShopDecisionOut]


class ShopBlacklistOut(Schema):
    listed: bool
    since: str | None
    until: str | None
    grounds: list[ShopGroundOut]
    upcoming: list[ShopGroundOut]


@router.get(
    "/shops/{shop_id}/blacklist",
    response={200: ShopBlacklistOut, **ERRORS},
    summary="Why a shop is on the seller credit blacklist, since and until when, and what will list it",
)
def shop_blacklist(request: HttpRequest, shop_id: Id) -> Any:
    shop = _shop_for(request, shop_id)
    return blacklist.shop_listing_out(shop, timezone.now(), references=True)


class ExamIn(Schema):
    passed_at: Instant | None = None
    reference: str = ""


@router.post(
    "/shops/{shop_id}/exam",
    response={201: ShopStatusOut, **ERRORS},
    summary="Record that the seller passed the rules exam (agents, the marketplace)",
)
def exam_record(request: HttpRequest, shop_id: Id, payload: ExamIn) -> Any:
    user = require_roles(request, *MARKETPLACE_ROLES)
    now = timezone.now()
    services.exam_record(
        shop_id=shop_id, user=user, passed_at=payload.passed_at or now, now=now, reference=payload.reference
    )
    return Status(201, selectors.shop_status_out(Shop.objects.get(pk=shop_id), timezone.now()))


class CompensationOut(Schema):
    id: int
    case: str
    order: str
    shop: int
    shop_name: str
    amount: str
    currency: str
    status: str
    created_at: str
    paid_at: str | None
    reversed_at: str | None
    payment_reference: str


class CompensationQuery(Schema):
    status: Literal["due", "paid", "reversed"] | None = None
    shop: Id | None = None
    page: PageNumber = 1
    page_size: PageSize = 50


def _compensations(request: HttpRequest, q: CompensationQuery) -> QuerySet[Compensation]:
    user = request.auth  # type: ignore[attr-defined]
    if user.role in MARKETPLACE_ROLES or user.is_superuser:
        qs = selectors.compensation_list(status=q.status, shop_id=q.shop)
    elif user.role == Role.SELLER:
        qs = selectors.compensation_list(status=q.status, shop_id=q.shop, seller=user)
    else:
        raise PermissionDenied()
    return qs


@router.get(
    "/compensations",
    response={200: Page[CompensationOut], **ERRORS},
    summary="Compensation orders (agents, the marketplace; sellers see their shops')",
)
def compensation_list(request: HttpRequest, q: Query[CompensationQuery]) -> Any:
    items, count, page, size = paginate(_compensations(request, q), page=q.page, page_size=q.page_size)
    return {
        "items": [selectors.compensation_out(c) for c in items],
        "count": count,
        "page": page,
        "page_size": size,
    }


@router.get(
    "/compensations.csv",
    response={200: None, **ERRORS},
    summary="Compensation orders as CSV (UTF-8 with BOM, opens in Excel)",
)
def compensation_csv(request: HttpRequest, q: Query[CompensationQuery]) -> Any:
    rows = _compensations(request, q)
    return csv_response(rows)


def csv_response(rows: QuerySet[Compensation]) -> HttpResponse:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    fields = list(CompensationOut.model_fields)
    writer.writerow(fields)
    for c in rows.iterator(chunk_size=500):
        data = selectors.compensation_out(c)
        writer.writerow([data[f] if data[f] is not None else "" for f in fields])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="compensations.csv"'
    return response


class PaidIn(Schema):
    payment_reference: str = ""


@router.post(
    "/compensations/{compensation_id}/paid",
    response={200: CompensationOut, **ERRORS},
    summary="Mark a compensation paid (the marketplace, agents)",
)
def compensation_paid(request: HttpRequest, compensation_id: Id, payload: PaidIn) -> Any:
    user = require_roles(request, *MARKETPLACE_ROLES)
    comp = services.compensation_mark_paid(
        compensation_id=compensation_id,
        user=user,
        now=timezone.now(),
        payment_reference=payload.payment_reference,
    )
    return selectors.compensation_out(comp)


class AppealOut(Schema):
    id: int
    case: str
    side: str
    reasons: str
    filed_at: str
    decide_by: str
    decide_by_provisional: bool
    status: str
    outcome: str
    new_tier: str
    decision_reasons: str
    decided_at: str | None
    overdue: bool
    version: int


class AppealIn(Schema):
    reasons: str


@router.post(
    "/cases/{case_id}/appeals",
    response={201: AppealOut, **ERRORS},
    summary="Appeal a decision (buyer or seller, within the ruleset's window); add files with the evidence endpoint",
)
def appeal_file(request: HttpRequest, case_id: Id, payload: AppealIn) -> Any:
    limit_request(request, "appeal_file")
    appeal = appeals.appeal_file(
        case_id=case_id, user=request.auth, reasons=payload.reasons, now=timezone.now()
    )  # type: ignore[attr-defined]
    return Status(201, selectors.appeal_out(appeal, timezone.now()))


@router.get(
    "/cases/{case_id}/appeals", response={200: list[AppealOut], **ERRORS}, summary="Appeals on a complaint"
)
def appeal_list_for_case(request: HttpRequest, case_id: Id) -> Any:
    case, side = case_selectors.case_get_for_user(request.auth, case_id)  # type: ignore[attr-defined]
    now = timezone.now()
    out = [selectors.appeal_out(a, now) for a in case.appeals.order_by("filed_at")]
    if side == Side.SELLER:
        # The buyer's reasons and the senior agent's may quote the buyer: a seller reads them masked.
        for row in out:
            row["reasons"] = mask_for_seller(row["reasons"], case.buyer)
            row["decision_reasons"] = mask_for_seller(row["decision_reasons"], case.buyer)
    return out


class AppealQueueQuery(Schema):
    status: Literal["pending", "decided"] = "pending"
    page: PageNumber = 1
    page_size: PageSize = 50


@router.get(
    "/appeals",
    response={200: Page[AppealOut], **ERRORS},
    summary="The appeals queue (senior agents), oldest SLA first",
)
def appeal_queue(request: HttpRequest, q: Query[AppealQueueQuery]) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if not is_agent(user):
        raise PermissionDenied()
    items, count, page, size = paginate(
        selectors.appeal_queue(status=q.status), page=q.page, page_size=q.page_size
    )
    now = timezone.now()
    return {
        "items": [selectors.appeal_out(a, now) for a in items],
        "count": count,
        "page": page,
        "page_size": size,
    }


class AppealDecisionIn(Schema):
    outcome: Literal["stands", "overturned", "tier_changed"]
    reasons: str
    new_tier: str | None = None
    version: int | None = None


@router.post(
    "/appeals/{appeal_id}/decision",
    response={200: AppealOut, **ERRORS},
    summary="Decide an appeal (a senior agent who did not make the first decision)",
)
def appeal_decide(request: HttpRequest, appeal_id: Id, payload: AppealDecisionIn) -> Any:
    appeal = appeals.appeal_decide(
        appeal_id=appeal_id,
        senior=request.auth,  # type: ignore[attr-defined]
        outcome=payload.outcome,
        reasons=payload.reasons,
        new_tier=payload.new_tier,
        expected_version=payload.version,
        now=timezone.now(),
    )
    return selectors.appeal_out(Appeal.objects.get(pk=appeal.pk), timezone.now())
