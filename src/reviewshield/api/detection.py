"""Detection endpoints: the marketplace's chat backend screens messages before delivering them;
agents work the alerts screening raises; a buyer answers whether a complaint may be opened for them.

Thin: parse, call one service or selector, render. Reasons and labels come in the caller's
language (Accept-Language). Alerts are for agents and, once asked, the buyer — never a seller.
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import BaseModel

from reviewshield.accounts.models import Role
from reviewshield.api.bounds import BatchInstant, Id, PageNumber, PageSize
from reviewshield.api.cases import ERRORS
from reviewshield.api.core import Page, paginate, require_roles
from reviewshield.cases.access import AGENT_ROLES, is_agent
from reviewshield.detection import screen as screening
from reviewshield.detection import selectors, services
from reviewshield.detection.labels import categories_out, reason_for
from reviewshield.detection.lexicons import registry
from reviewshield.detection.models import Alert
from reviewshield.errors import ValidationFailed
from reviewshield.localtime import iso_local
from reviewshield.runtime import gc_paused

router = Router(tags=["detection"])


# --- screening ----------------------------------------------------------------------------------


class ScreenMessageIn(BaseModel):
    # A plain pydantic model, not a ninja Schema: a Schema runs a Python validator for each item
    # (to read Django objects), six times the cost of the rest of a 1,000-message batch's parsing.
    message_id: str
    conversation_id: str = ""
    shop_id: str  # the marketplace's shop id
    buyer_id: str  # the buyer's marketplace member id
    order_id: str | None = None
    sender: str  # seller / buyer / system
    sent_at: BatchInstant
    text: str


class ScreenIn(BaseModel):
    platform: str
    message: ScreenMessageIn | None = None  # one message …
    messages: list[ScreenMessageIn] | None = None  # … or a batch of up to 1,000


class SpanOut(Schema):
    start: int
    end: int
    category: str
    entry: str


class ReasonOut(Schema):
    code: str
    text: str


class CategoryOut(Schema):
    code: str
    label: str


class VerdictOut(Schema):
    message_id: str
    action: Literal["allow", "warn", "hold", "block"]
    categories: list[CategoryOut]
    scores: dict[str, float]
    spans: list[SpanOut]
    reason: ReasonOut
    factors: list[str]
    muted: bool
    context_applied: bool  # the shop and the buyer are known, so their history was taken into account


class LexiconOut(Schema):
    version: str
    hash: str


class ScreenOut(Schema):
    lexicon: LexiconOut
    screened_at: str
    alerts: list[str]
    verdicts: list[VerdictOut]


@router.post(
    "/screen/messages", response={200: ScreenOut, **ERRORS}, summary="Screen chat messages before delivery"
)
def screen_messages(request: HttpRequest, payload: ScreenIn) -> HttpResponse:
    """Screen one message (`message`) or up to 1,000 (`messages`); allow / warn / hold / block each."""
    require_roles(request, Role.SYSTEM, Role.ADMIN)
    with gc_paused():
        return _screen(payload)


def _screen(payload: ScreenIn) -> HttpResponse:
    if (payload.message is None) == (payload.messages is None):
        raise ValidationFailed(
            _("Send either one message as “message” or a batch as “messages”."),
            details={"fields": ["message", "messages"]},
        )
    raw = [payload.message] if payload.message is not None else payload.messages or []
    now = timezone.now()
    result = screening.screen_batch(
        platform=payload.platform,
        items=[  # positional: keywords cost a third more, a thousand times a batch
            screening.Incoming(
                m.message_id,
                m.conversation_id,
                m.shop_id,
                m.buyer_id,
                m.sender,
                m.sent_at,
                m.text,
                m.order_id,
            )
            for m in raw
        ],
        now=now,
    )
    # Built to the ScreenOut shape here and sent as is: validating 1,000 verdicts again on the way
    # out would cost more than screening them (the schema above documents the answer). Most of a
    # batch shares a few verdict objects (the engine's one "clean"): each distinct verdict is
    # rendered once, and only the message ids are encoded per message.
    reasons: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    rendered: dict[tuple[int, bool, bool], str] = {}
    parts = []
    for r in result.results:
        v = r.verdict
        shared = (id(v), r.muted, r.known_pair)  # the verdicts stay alive, so their ids are theirs
        rest = rendered.get(shared)
        if rest is None:
            key = (v.reason.code, tuple(sorted(v.reason.params.items())))
            if key not in reasons:
                reasons[key] = reason_for(v.reason.code, dict(v.reason.params))
            rest = rendered[shared] = _dumps(
                {
                    "action": v.action,
                    "categories": categories_out(list(v.categories)),
                    "scores": {k: round(s, 3) for k, s in v.scores.items()},
                    "spans": [
                        {"start": s.start, "end": s.end, "category": s.category, "entry": s.entry}
                        for s in v.spans
                    ],
                    "reason": {"code": v.reason.code, "text": reasons[key]},
                    "factors": list(v.factors),
                    "muted": r.muted,
                    "context_applied": r.known_pair,
                }
            )[1:]
        parts.append('{"message_id":' + _string(r.message_id) + "," + rest)
    head = _dumps(
        {
            "lexicon": {"version": result.lexicon.version, "hash": result.lexicon.content_hash},
            "screened_at": iso_local(now),
            "alerts": result.alerts,
        }
    )
    return HttpResponse(head[:-1] + ',"verdicts":[' + ",".join(parts) + "]}", content_type="application/json")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_string = encode_basestring  # a JSON string literal, the standard library's C encoder


class RefusedOut(Schema):
    at: str
    message: str


class LexiconStatusOut(Schema):
    version: str
    hash: str
    folder: str
    loaded_at: str | None
    refused: RefusedOut | None  # the last reload that failed; the lexicon above stayed in use


def _lexicon_status(reg: Any) -> dict[str, Any]:
    lexicon = reg.current()
    return {
        "version": lexicon.version,
        "hash": lexicon.content_hash,
        "folder": str(reg.folder),
        "loaded_at": iso_local(reg.loaded_at) if reg.loaded_at else None,
        "refused": {"at": iso_local(reg.refused.at), "message": reg.refused.message} if reg.refused else None,
    }


@router.get(
    "/screen/lexicon",
    response={200: LexiconStatusOut, **ERRORS},
    summary="The lexicon this process screens with",
)
def screen_lexicon(request: HttpRequest) -> dict[str, Any]:
    require_roles(request, Role.SYSTEM, Role.ADMIN, *AGENT_ROLES)
    return _lexicon_status(registry())


@router.post(
    "/screen/lexicon/reload",
    response={200: LexiconStatusOut, **ERRORS},
    summary="Reload the lexicon files now",
)
def screen_lexicon_reload(request: HttpRequest) -> dict[str, Any]:
    """Load the lexicon files now (each process also notices changes by itself within seconds)."""
    require_roles(request, Role.ADMIN)
    reg = registry()
    reg.reload()
    return _lexicon_status(reg)


# --- alerts -------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class ReviewOut(Schema):
    rating: str
    posted_at: str
    text: str


class FlaggedOut(Schema):
    message_id: str
    sent_at: str
    text: str
    action: str
    categories: list[CategoryOut]
    spans: list[SpanOut]
    reason: str
    factors: list[str]
    muted: bool
    lexicon_version: str


class AlertEventOut(Schema):
    kind: str
    at: str
    actor_role: str
    from_status: str
    to_status: str


class AlertOut(Schema):
    id: int
    reference: str
    source: str
    source_label: str
    status: str
    status_label: str
    outcome: str
    version: int
    platform: str
    shop: Ref
    buyer: Ref | None  # agents only
    order_external_id: str | None
    review: ReviewOut | None
    case_reference: str | None
    action: str
    categories: list[CategoryOut]
    findings: list[dict[str, Any]]
    message_count: int
    first_at: str
    last_at: str
    raised_at: str
    seller_warned_at: str | None
    muted: bool
    consent_requested_at: str | None
    messages: list[FlaggedOut] = []
    events: list[AlertEventOut] = []


def alert_out(alert: Alert, viewer: Any, *, full: bool = False) -> dict[str, Any]:
    agent = is_agent(viewer)
    out: dict[str, Any] = {
        "id": alert.pk,
        "reference": alert.reference,
        "source": alert.source,
        "source_label": alert.get_source_display(),
        "status": alert.status,
        "status_label": alert.get_status_display(),
        "outcome": alert.outcome,
        "version": alert.version,
        "platform": alert.platform_id,
        "shop": {"id": alert.shop_id, "name": alert.shop.name},
        "buyer": {"id": alert.buyer_id, "name": alert.buyer.username} if agent else None,
        "order_external_id": alert.order.external_id if alert.order else None,
        "review": (
            {
                "rating": alert.review.rating,
                "posted_at": iso_local(alert.review.posted_at),
                "text": alert.review.text,
            }
            if alert.review
            else None
        ),
        "case_reference": alert.case.reference if alert.case else None,
        "action": alert.action,
        "categories": categories_out(alert.categories),
        "findings": alert.findings,
        "message_count": alert.message_count,
        "first_at": iso_local(alert.first_at),
        "last_at": iso_local(alert.last_at),
        "raised_at": iso_local(alert.raised_at),
        "seller_warned_at": iso_local(alert.seller_warned_at) if alert.seller_warned_at else None,
        "muted": selectors.standing_mute(alert) is not None,
        "consent_requested_at": iso_local(alert.consent_requested_at) if alert.consent_requested_at else None,
    }
    if full:
        out["messages"] = [
            {
                "message_id": m.message_id,
                "sent_at": iso_local(m.sent_at),
                "text": m.text,
                "action": m.action,
                "categories": categories_out(m.categories),
                "spans": [{"start": a, "end": b, "category": c, "entry": e} for a, b, c, e in m.spans],
                "reason": reason_for(m.reason_code, m.reason_params),
                "factors": m.factors,
                "muted": m.muted,
                "lexicon_version": m.lexicon_version,
            }
            for m in alert.messages.order_by("sent_at", "id")
        ]
        if agent:
            out["events"] = [
                {
                    "kind": e.kind,
                    "at": iso_local(e.at),
                    "actor_role": e.actor_role,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                }
                for e in alert.events.all()
            ]
    return out


@router.get(
    "/alerts",
    response={200: Page[AlertOut], **ERRORS},
    summary="Alerts: the agents' queue, or the buyer's own",
)
def alert_list(
    request: HttpRequest,
    status: Literal["open", "closed"] = "open",
    source: Literal["chat", "forensics"] | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> dict[str, Any]:
    """Agents: open (or closed) alerts, blocked before held, newest first. A buyer: the alerts they were asked about."""
    user = require_roles(request, Role.BUYER, *AGENT_ROLES)
    qs = (
        selectors.alert_queue(status=status, source=source)
        if is_agent(user)
        else selectors.buyer_alerts(user)
    )
    items, count, page, size = paginate(qs, page=page, page_size=page_size)
    return {"items": [alert_out(a, user) for a in items], "count": count, "page": page, "page_size": size}


@router.get("/alerts/{alert_id}", response={200: AlertOut, **ERRORS}, summary="One alert with its messages")
def alert_detail(request: HttpRequest, alert_id: Id) -> dict[str, Any]:
    user = require_roles(request, Role.BUYER, *AGENT_ROLES)
    return alert_out(selectors.alert_get(user, alert_id), user, full=True)


class VersionIn(Schema):
    version: int | None = None


class WarnIn(VersionIn):
    message: str = ""


class MuteIn(VersionIn):
    reason: str = ""


class CloseIn(VersionIn):
    outcome: Literal["handled", "false_alarm"]
    note: str = ""


class ConsentIn(Schema):
    agree: bool


def _agent_detail(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    return alert_out(selectors.alert_get(request.auth, alert_id), request.auth, full=True)  # type: ignore[attr-defined]


@router.post("/alerts/{alert_id}/warn", response={200: AlertOut, **ERRORS}, summary="Warn the seller")
def alert_warn(request: HttpRequest, alert_id: Id, payload: WarnIn) -> dict[str, Any]:
    agent = require_roles(request, *AGENT_ROLES)
    services.alert_warn_seller(
        alert_id=alert_id,
        agent=agent,
        message=payload.message,
        now=timezone.now(),
        expected_version=payload.version,
    )
    return _agent_detail(request, alert_id)


@router.post(
    "/alerts/{alert_id}/mute",
    response={200: AlertOut, **ERRORS},
    summary="Mute the seller's chat to this buyer",
)
def alert_mute(request: HttpRequest, alert_id: Id, payload: MuteIn) -> dict[str, Any]:
    agent = require_roles(request, *AGENT_ROLES)
    services.alert_mute(
        alert_id=alert_id,
        agent=agent,
        reason=payload.reason,
        now=timezone.now(),
        expected_version=payload.version,
    )
    return _agent_detail(request, alert_id)


@router.post("/alerts/{alert_id}/unmute", response={200: AlertOut, **ERRORS}, summary="Lift the mute")
def alert_unmute(request: HttpRequest, alert_id: Id) -> dict[str, Any]:
    agent = require_roles(request, *AGENT_ROLES)
    services.alert_unmute(alert_id=alert_id, agent=agent, now=timezone.now())
    return _agent_detail(request, alert_id)


@router.post(
    "/alerts/{alert_id}/request-consent",
    response={200: AlertOut, **ERRORS},
    summary="Ask the buyer to agree to a complaint",
)
def alert_request_consent(request: HttpRequest, alert_id: Id, payload: VersionIn) -> dict[str, Any]:
    agent = require_roles(request, *AGENT_ROLES)
    services.alert_request_consent(
        alert_id=alert_id, agent=agent, now=timezone.now(), expected_version=payload.version
    )
    return _agent_detail(request, alert_id)


@router.post("/alerts/{alert_id}/close", response={200: AlertOut, **ERRORS}, summary="Close the alert")
def alert_close(request: HttpRequest, alert_id: Id, payload: CloseIn) -> dict[str, Any]:
    agent = require_roles(request, *AGENT_ROLES)
    services.alert_close(
        alert_id=alert_id,
        agent=agent,
        outcome=payload.outcome,
        note=payload.note,
        now=timezone.now(),
        expected_version=payload.version,
    )
    return _agent_detail(request, alert_id)


@router.post(
    "/alerts/{alert_id}/consent", response={200: AlertOut, **ERRORS}, summary="The buyer agrees or declines"
)
def alert_consent(request: HttpRequest, alert_id: Id, payload: ConsentIn) -> dict[str, Any]:
    """The buyer's answer: agreeing opens a complaint for them with the alert's messages."""
    buyer = require_roles(request, Role.BUYER)
    alert = services.alert_consent_answer(
        alert_id=alert_id, buyer=buyer, agree=payload.agree, now=timezone.now()
    )
    return alert_out(selectors.alert_get(buyer, alert.pk), buyer, full=True)
