"""Rulesets and what they give a complaint: for policy owners and the marketplace's systems."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from reviewshield.api.bounds import Instant
from reviewshield.api.core import ErrorOut
from reviewshield.errors import NotFound
from reviewshield.policy import OrderFacts, UnknownRuleset, assess_filing, local_iso, reason_text
from reviewshield.policystore.services import ruleset_registry, work_calendar

router = Router(tags=["policy"])
ERRORS: dict[int, Any] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class WindowOut(Schema):
    kind: str
    amount: int
    unit: str


class TierOut(Schema):
    tier: str
    points: int
    points_class: str
    money_to_buyer: Decimal


class RulesetOut(Schema):
    id: str
    platform: str
    effective_from: str
    applies_by: str
    content_hash: str
    title: dict[str, str]
    source: str
    confidence: str
    excluded_channels: list[str]
    windows: dict[str, WindowOut]
    tiers: list[TierOut]


def _ruleset_out(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "platform": r.platform,
        "effective_from": local_iso(r.effective_from),
        "applies_by": r.applies_by,
        "content_hash": r.content_hash,
        "title": dict(r.title),
        "source": r.source,
        "confidence": r.confidence,
        "excluded_channels": list(r.excluded_channels),
        "windows": {n: {"kind": w.kind, "amount": w.amount, "unit": w.unit} for n, w in r.windows.items()},
        "tiers": [
            {
                "tier": t.tier,
                "points": t.points,
                "points_class": t.points_class,
                "money_to_buyer": t.money_to_buyer,
            }
            for t in r.tiers.values()
        ],
    }


@router.get(
    "/rulesets",
    response={200: list[RulesetOut], **ERRORS},
    summary="Every ruleset, with its windows and tiers",
)
def ruleset_list(request: HttpRequest) -> Any:
    return [_ruleset_out(r) for r in ruleset_registry().all()]


@router.get("/rulesets/{ruleset_id}", response={200: RulesetOut, **ERRORS}, summary="One ruleset")
def ruleset_detail(request: HttpRequest, ruleset_id: str) -> Any:
    try:
        return _ruleset_out(ruleset_registry().get(ruleset_id))
    except UnknownRuleset as exc:
        raise NotFound(details={"ruleset": ruleset_id}) from exc


class ExplainIn(Schema):
    ruleset: str
    trade_success: Instant
    filed: Instant
    notified: Instant | None = None
    channel: str | None = None
    status: str = "trade_success"


class ExplainOut(Schema):
    ruleset: str
    eligible: bool
    reason: str | None
    deadlines: dict[str, str]
    provisional: list[str]


@router.post(
    "/policy/deadlines",
    response={200: ExplainOut, **ERRORS},
    summary="What a ruleset gives a complaint filed at a moment",
)
def policy_deadlines(request: HttpRequest, payload: ExplainIn) -> Any:
    from django.utils.translation import get_language

    try:
        ruleset = ruleset_registry().get(payload.ruleset)
    except UnknownRuleset as exc:
        raise NotFound(details={"ruleset": payload.ruleset}) from exc
    facts = OrderFacts(
        channel=payload.channel or ruleset.platform,
        status=payload.status,
        trade_success_at=payload.trade_success,
        paid_at=payload.trade_success,
    )
    a = assess_filing(
        ruleset, facts, filed_at=payload.filed, notified_at=payload.notified, calendar=work_calendar()
    )
    lang = "zh-hans" if (get_language() or "").startswith("zh") else "en"
    return {
        "ruleset": ruleset.id,
        "eligible": a.eligible,
        "reason": reason_text(a.reason_code, a.reason_params, lang) if a.reason_code else None,
        "deadlines": {n: local_iso(d.at) for n, d in a.deadlines.items()},
        "provisional": list(a.provisional),
    }
