"""Reads for the sanctions pages and API: shop status, ledger, compensation lists, the appeals queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from reviewshield.accounts.models import User
from reviewshield.localtime import iso_local
from reviewshield.marketplace.models import Shop
from reviewshield.sanctions import blacklist, engine, services
from reviewshield.sanctions.models import (
    ACTIVE_STATES,
    Appeal,
    AppealStatus,
    Compensation,
    Flag,
    LedgerEntry,
    Penalty,
)


def shop_status_out(shop: Shop, now: datetime) -> dict[str, Any]:
    status, facts = services.shop_status(shop, now)
    listed = blacklist.shop_listing(shop, now)
    references = {pk: c.reference for pk, c in facts.upheld.items()}
    flags = Flag.objects.filter(shop_id=shop.pk, withdrawn_at__isnull=True).order_by("raised_at")
    return {
        "shop": shop.pk,
        "external_id": shop.external_id,
        "platform": shop.platform_id,
        "at": iso_local(now),
        "hidden": status.hidden,
        "may_list": status.may_list,
        "may_message": status.may_message,
        "may_open_shop": status.may_open_shop,
        "closed": status.closed,
        "sealed": status.sealed,
        "public_warning": status.public_warning,
        "until": iso_local(status.until) if status.until else None,
        "indefinite": status.indefinite,
        "awaiting_exam": status.awaiting_exam,
        "blacklisted": listed.listing.listed,
        "blacklisted_until": iso_local(listed.listing.until) if listed.listing.until else None,
        "points": status.points,
        "penalties": [
            {
                "key": p.key,
                "node": p.node.key,
                "points_class": p.node.points_class,
                "measures": list(p.node.measures),
                "started_at": iso_local(p.started_at),
                "ends_at": iso_local(p.ends_at) if p.ends_at else None,
                "awaiting_exam": p.awaiting_exam(now),
                "case": references.get(p.case_id) if p.case_id else None,
            }
            for p in status.penalties
        ],
        "flags": [
            {"kind": f.kind, "year": f.year, "points": f.points, "raised_at": iso_local(f.raised_at)}
            for f in flags
        ],
        "ruleset": facts.ruleset.id,
    }


def ledger_out(shop: Shop) -> dict[str, Any]:
    lines = list(
        LedgerEntry.objects.filter(shop_id=shop.pk).select_related("case").order_by("-effective_at", "-id")
    )
    return {
        "shop": shop.pk,
        "years": {str(y): v for y, v in sorted(services.points_by_year(shop.pk).items(), reverse=True)},
        "lines": [
            {
                "id": line.pk,
                "year": line.year,
                "points_class": line.points_class,
                "points": line.points,
                "kind": line.kind,
                "reason": line.reason,
                "case": line.case.reference if line.case_id else None,
                "appeal": line.appeal_id,
                "effective_at": iso_local(line.effective_at),
                "recorded_at": iso_local(line.recorded_at),
            }
            for line in lines
        ],
    }


def penalties_for_shop(shop_id: int) -> QuerySet[Penalty]:
    return Penalty.objects.filter(shop_id=shop_id).select_related("case").order_by("-started_at")


def ledger_for_shop(shop_id: int) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(shop_id=shop_id).select_related("case").order_by("-effective_at", "-id")


def _lifted_by(p: engine.Penalty, exam_required: bool, now: datetime) -> str:
    """What ends a penalty in force: `person` (no period: a sealed account), `exam` (its period is
    over, the rules exam is not), `period_and_exam` or `period`."""
    if p.node.days is None:
        return "person"
    if p.awaiting_exam(now):
        return "exam"
    return "period_and_exam" if exam_required else "period"


def shop_sanctions_for_seller(shop: Shop, now: datetime) -> dict[str, Any]:
    """What the seller's sanctions page shows: points by year, penalties in force (computed now, so
    never stale between worker ticks), the penalties that ended, the ledger and compensation due.
    Compensation rows name the case and the order, never the buyer."""
    status, facts = services.shop_status(shop, now)
    references = {pk: c.reference for pk, c in facts.upheld.items()}
    this_year = engine.local_year(now)
    years = services.points_by_year(shop.pk)
    return {
        "status": status,
        "year": this_year,
        "points": status.points,
        "earlier_years": sorted(
            ((year, tally) for year, tally in years.items() if year < this_year), reverse=True
        ),
        "in_force": [
            {
                "penalty": p,
                "measures": list(p.node.measures),
                "case": references.get(p.case_id) if p.case_id else None,
                "lifted_by": _lifted_by(p, facts.ruleset.sanctions.exam_required, now),
            }
            for p in status.penalties
        ],
        "history": [p for p in penalties_for_shop(shop.pk) if p.state not in ACTIVE_STATES],
        "ledger": list(ledger_for_shop(shop.pk)),
        "compensations": list(compensation_list(shop_id=shop.pk)),
        "blacklist": blacklist.shop_listing_view(shop, now, references=True),
    }


def compensation_list(
    *, status: str | None = None, shop_id: int | None = None, seller: User | None = None
) -> QuerySet[Compensation]:
    qs = Compensation.objects.select_related("case__order", "shop").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    if seller is not None:
        qs = qs.filter(shop__sellers=seller)
    return qs


def compensation_out(c: Compensation) -> dict[str, Any]:
    return {
        "id": c.pk,
        "case": c.case.reference,
        "order": c.case.order.external_id,
        "shop": c.shop_id,
        "shop_name": c.shop.name,
        "amount": str(c.amount),
        "currency": c.currency,
        "status": c.status,
        "created_at": iso_local(c.created_at),
        "paid_at": iso_local(c.paid_at) if c.paid_at else None,
        "reversed_at": iso_local(c.reversed_at) if c.reversed_at else None,
        "payment_reference": c.payment_reference,
    }


def appeal_queue(*, status: str = AppealStatus.PENDING) -> QuerySet[Appeal]:
    qs = Appeal.objects.filter(status=status).select_related(
        "case", "case__shop", "case__platform", "case__decided_by", "decided_by"
    )
    return (
        qs.order_by("decide_by", "id")
        if status == AppealStatus.PENDING
        else qs.order_by("-decided_at", "-id")
    )


def appeal_get(appeal_id: int) -> Appeal | None:
    """An appeal with its case and the people around it, for the agent's appeal page."""
    return (
        Appeal.objects.select_related(
            "case",
            "case__shop",
            "case__platform",
            "case__order",
            "case__buyer",
            "case__decided_by",
            "filed_by",
            "decided_by",
        )
        .filter(pk=appeal_id)
        .first()
    )


def appeal_out(a: Appeal, now: datetime) -> dict[str, Any]:
    return {
        "id": a.pk,
        "case": a.case.reference,
        "side": a.side,
        "reasons": a.reasons,
        "filed_at": iso_local(a.filed_at),
        "decide_by": iso_local(a.decide_by),
        "decide_by_provisional": a.decide_by_provisional,
        "status": a.status,
        "outcome": a.outcome,
        "new_tier": a.new_tier,
        "decision_reasons": a.decision_reasons,
        "decided_at": iso_local(a.decided_at) if a.decided_at else None,
        "overdue": a.status == AppealStatus.PENDING and a.decide_by <= now,
        "version": a.version,
    }
