"""Complaint workflow: file, answer, settle, withdraw, assign, decide, add evidence, assisted links.

Every function here is one transaction: it checks who may act, calls the one status writer
(`transitions.case_transition`) which appends the audit event, schedules or cancels the case's
deadlines and writes notifications to the outbox — or raises a `ReviewShieldError` and leaves
nothing behind.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from reviewshield import rawsql
from reviewshield.accounts.models import User
from reviewshield.cases import access
from reviewshield.cases.audit import event_append, evidence_logged
from reviewshield.cases.models import (
    OPEN_STATUSES,
    AssistedLink,
    Case,
    CaseEvidence,
    CaseStatus,
    DecisionOutcome,
    HarassmentType,
    ResponseKind,
    Side,
    Tier,
)
from reviewshield.cases.transitions import case_touch, case_transition, next_deadline
from reviewshield.deadlines.scheduling import deadline_schedule, deadlines_cancel, deadlines_schedule
from reviewshield.errors import (
    DeadlinePassed,
    InvalidTransition,
    LinkInvalid,
    NotEligible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.intake import Prepared, Upload, evidence_intake, evidence_item_create
from reviewshield.forensics.services import PHONE_EXPORT, forensics_request
from reviewshield.freetext import LIMITS, text_check, text_checked
from reviewshield.localtime import format_local
from reviewshield.marketplace.models import Order, Platform, Shop
from reviewshield.outbox.services import notify
from reviewshield.policy import OrderFacts, Ruleset, assess_filing, window_end
from reviewshield.policystore.services import ruleset_registry, work_calendar
from reviewshield.privacy.masking import BuyerData
from reviewshield.privacy.selectors import buyer_known_data
from reviewshield.rawsql import insert_rows, rows, untaken
from reviewshield.sanctions.services import sanctions_sync
from reviewshield.webhooks.models import WebhookEndpoint
from reviewshield.webhooks.services import webhook_emit_many, webhook_endpoints

MAX_NARRATIVE = LIMITS["narrative"]
# Deadline kinds this module schedules; handlers live in `cases.handlers`.
RESPOND = "case.respond_by"
SETTLEMENT_REPLY = "case.settlement_reply_by"
HANDLE = "case.handle_by"
DECIDE = "case.decide_by"


# One sentence per reason a filing is refused (`details.reason` keeps the code for programs).
NOT_ELIGIBLE_MESSAGES = {
    "excluded_channel": _(
        "This is a %(channel)s order. The harassment complaint of these rules does not cover it; "
        "please contact the platform's customer service."
    ),
    "not_trade_success": _(
        "A complaint can be filed only after the order reaches “trade success”. This order is not there yet."
    ),
    "window_passed": _(
        "The complaint window for this order ended at %(window_end)s. An agent can still open an assisted "
        "complaint for you: contact customer service. If you are in danger, call the police (110)."
    ),
    "already_open": _("There is already an open complaint (%(reference)s) for this order."),
    "not_your_order": _("This order is not yours, so you cannot complain about it."),
}


def _refusal(code: str, params: dict[str, Any]) -> NotEligible:
    shown = dict(params)
    if "channel" in shown:  # the channel's name (天猫 / Tmall), not its code
        platform = Platform.objects.filter(code=shown["channel"]).first()
        shown["channel"] = platform.name if platform else shown["channel"]
    return NotEligible(NOT_ELIGIBLE_MESSAGES[code] % shown, details={"reason": code, **params})


def ruleset_for(order: Order, *, filed_at: datetime) -> Ruleset:
    return ruleset_registry().in_force(platform=order.platform_id, filed_at=filed_at, paid_at=order.paid_at)


def _clean_filing(
    harassment_types: Sequence[str], occurred_at: datetime, narrative: str, now: datetime
) -> list[str]:
    errors: dict[str, str] = {}
    kinds = list(dict.fromkeys(harassment_types))
    valid = set(HarassmentType.values)
    if not kinds:
        errors["harassment_types"] = str(_("Choose at least one kind of harassment."))
    elif any(k not in valid for k in kinds):
        errors["harassment_types"] = str(
            _("Unknown kind of harassment: %(kinds)s.")
            % {"kinds": ", ".join(k for k in kinds if k not in valid)}
        )
    if occurred_at.tzinfo is None:
        errors["occurred_at"] = str(_("Give the time with its time zone."))
    elif occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = str(_("The time it happened cannot be in the future."))
    text_check(
        narrative, text="narrative", field="narrative", errors=errors, required=_("Describe what happened.")
    )
    if errors:
        raise ValidationFailed(details=errors)
    return kinds


def _new_reference(now: datetime) -> str:
    from reviewshield.localtime import to_local

    return f"RS{to_local(now):%y%m%d}{secrets.token_hex(3).upper()}"


def _sellers(case: Case) -> list[int]:
    """Ids of the shop's sellers (notifications need no more than that)."""
    through = Shop.sellers.through._meta.db_table
    return [
        pk
        for (pk,) in rows(f"SELECT user_id FROM {through} WHERE shop_id = %s ORDER BY user_id", case.shop_id)
    ]


def _store_evidence(*, case: Case, side: str, user: User, item: Prepared, now: datetime) -> CaseEvidence:
    """Write one prepared item's rows (its files are already in the store: `evidence_intake`)."""
    evidence = evidence_item_create(CaseEvidence, item=item, side=side, user=user, now=now, case=case)
    evidence_logged(evidence, case)
    event_append(
        case=case,
        kind="evidence_added",
        actor=user,
        actor_role=side,
        at=now,
        from_status=case.status,
        to_status=case.status,
        data={
            "evidence": evidence.pk,
            "kind": item.kind,
            "sha256": evidence.sha256,
            "size": evidence.size,
            "side": side,
        },
    )
    if item.kind == PHONE_EXPORT and side == Side.BUYER:
        forensics_request(case=case, evidence=evidence, user=user, now=now)  # analysed by the worker
    return evidence


def _evidence_intake(
    uploads: Sequence[Upload], *, side: str, buyer: User | None, buyer_text: str = ""
) -> AbstractContextManager[list[Prepared]]:
    """`evidence.intake.evidence_intake` with this buyer's personal data masked in what a seller reads
    (`buyer` may be None only when there are no uploads). `buyer_text`: what the buyer writes with
    these files (a narrative, appeal reasons), not saved yet: a name they sign it with is masked too."""
    if buyer is None and uploads:
        raise ValueError("uploads need the buyer whose personal data are masked in them")
    known = buyer_known_data(buyer, also=buyer_text) if buyer else BuyerData()
    return evidence_intake(uploads, side=side, buyer_private=known)


def _link_usable(
    raw_token: str, *, buyer: User, now: datetime, order: Order | None = None, lock: bool = False
) -> AssistedLink:
    """The link behind a token, if it was issued to this buyer (and order), is unused and unexpired."""
    qs = AssistedLink.objects.select_for_update() if lock else AssistedLink.objects.select_related("order")
    link = qs.filter(token_hash=hashlib.sha256(raw_token.encode()).hexdigest()).first()
    if link is None or link.buyer_id != buyer.pk or (order is not None and link.order_id != order.pk):
        raise LinkInvalid(_("This filing link is not valid for this order."))
    if link.used_at is not None:
        raise LinkInvalid(_("This filing link has already been used."))
    if link.expires_at < now:
        raise LinkInvalid(
            _("This filing link expired at %(at)s. Ask the agent for a new one.")
            % {"at": format_local(link.expires_at)}
        )
    return link


def _order_for_filing(order_id: int) -> Order | None:
    """The order with the reference of its open complaint, if any (`open_reference`), in one query."""
    statuses = list(OPEN_STATUSES)
    open_case = (
        f"(SELECT c.reference FROM {Case._meta.db_table} c WHERE c.order_id = t.id"
        f" AND c.status IN ({', '.join(['%s'] * len(statuses))}) LIMIT 1) AS open_reference"
    )
    return rawsql.instance(Order, order_id, extra=open_case, params=statuses)


def _assess_filing(order: Order, *, buyer: User, now: datetime, assisted: bool) -> tuple[Ruleset, Any]:
    """The ruleset and the assessment of filing for `order` (read by `_order_for_filing`) now; raises
    the refusal if it may not be filed."""
    if order.buyer_id != buyer.pk:
        raise _refusal("not_your_order", {})
    if order.open_reference is not None:  # type: ignore[attr-defined]
        raise _refusal("already_open", {"reference": order.open_reference})  # type: ignore[attr-defined]
    ruleset = ruleset_for(order, filed_at=now)
    assessment = assess_filing(
        ruleset,
        OrderFacts(
            channel=order.channel,
            status=order.status,
            trade_success_at=order.trade_success_at,
            paid_at=order.paid_at,
        ),
        filed_at=now,
        notified_at=now,
        calendar=work_calendar(),
        assisted=assisted,
    )
    if not assessment.eligible:
        params = dict(assessment.reason_params)
        if "window_end" in params:
            params["window_end"] = format_local(datetime.fromisoformat(params["window_end"]))
        raise _refusal(assessment.reason_code or "window_passed", params)
    return ruleset, assessment


def filing_check(*, buyer: User, order_id: int, now: datetime, link_token: str | None = None) -> None:
    """Raise the refusal `case_file` would give for this order now, before the buyer fills the form."""
    order = _order_for_filing(order_id)
    if order is None:
        raise NotFound(_("There is no such order."))
    link = _link_usable(link_token, buyer=buyer, order=order, now=now) if link_token else None
    _assess_filing(order, buyer=buyer, now=now, assisted=link is not None)


def case_file(
    *,
    buyer: User,
    order_id: int,
    harassment_types: Sequence[str],
    occurred_at: datetime,
    narrative: str,
    now: datetime,
    files: Sequence[Upload] = (),
    link_token: str | None = None,
) -> Case:
    """File a harassment complaint for an order; notifies the seller and schedules every deadline."""
    kinds = _clean_filing(harassment_types, occurred_at, narrative, now)
    try:
        with (
            _evidence_intake(files, side=Side.BUYER, buyer=buyer, buyer_text=narrative) as prepared,
            transaction.atomic(),
        ):
            order = _order_for_filing(order_id)
            if order is None:
                raise NotFound(_("There is no such order."))
            if occurred_at < order.paid_at:
                # Harassment after an honest review cannot come before the order was paid: a wrong
                # date, which would also mislead the agent reading the timeline.
                problem = str(
                    _("The harassment cannot have happened before the order was paid (%(paid_at)s).")
                    % {"paid_at": format_local(order.paid_at)}
                )
                raise ValidationFailed(problem, details={"occurred_at": problem})
            link = (
                _link_usable(link_token, buyer=buyer, order=order, now=now, lock=True) if link_token else None
            )
            ruleset, assessment = _assess_filing(order, buyer=buyer, now=now, assisted=link is not None)
            d = assessment.deadlines
            case = Case(
                reference=untaken(Case, "reference", lambda: _new_reference(now)),
                order=order,
                buyer=buyer,
                shop_id=order.shop_id,
                platform_id=order.platform_id,
                ruleset_id=ruleset.id,
                ruleset_hash=ruleset.content_hash,
                status=CaseStatus.AWAITING_RESPONSE,
                harassment_types=kinds,
                occurred_at=occurred_at,
                narrative=narrative.strip(),
                filed_at=now,
                notified_at=now,
                assisted_link=link,
                respond_by=d["respond_by"].at,
                handle_by=d["handle_by"].at,
                decide_by=d["decide_by"].at,
                provisional_deadlines=list(assessment.provisional),
            )
            case.next_deadline_at = next_deadline(case)
            insert_rows(
                Case, [case], returning_ids=True
            )  # as `save()` inserts it, without building its query
            if link is not None:
                link.used_at = now
                link.save(update_fields=["used_at"])
            event_append(
                case=case,
                kind="filed",
                actor=buyer,
                actor_role=Side.BUYER,
                at=now,
                to_status=case.status,
                data={
                    "ruleset": ruleset.id,
                    "ruleset_hash": ruleset.content_hash,
                    "harassment_types": kinds,
                    **({"assisted_by": link.issued_by_id, "assisted_reason": link.reason} if link else {}),
                },
            )
            deadlines_schedule(
                [
                    {"kind": kind, "due_at": d[name].at, "case": case, "provisional": d[name].provisional}
                    for name, kind in (("respond_by", RESPOND), ("handle_by", HANDLE), ("decide_by", DECIDE))
                ]
            )
            for item in prepared:
                _store_evidence(case=case, side=Side.BUYER, user=buyer, item=item, now=now)
            notify(
                recipients=_sellers(case),
                kind="case.filed",
                case=case,
                now=now,
                params={"respond_by": case.respond_by.isoformat()},
            )
            return case
    except IntegrityError as exc:
        # Two filings for one order raced past the check; the partial unique index stopped the second.
        existing = Case.objects.filter(order_id=order_id, status__in=OPEN_STATUSES).first()
        if existing is None:
            raise
        raise _refusal("already_open", {"reference": existing.reference}) from exc


def _case_buyer(case_id: int) -> User:
    """The case's buyer, read before the transaction (their data is masked in what a seller sees)."""
    case = Case.objects.select_related("buyer").filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    return case.buyer


def case_lock_for(case_id: int, user: User, *sides: str) -> tuple[Case, str]:
    """Lock the case row for this user's action; NotFound for outsiders, 403 for the wrong side."""
    return access.locked_for(  # type: ignore[no-any-return]
        Case,
        case_id,
        user,
        sides,
        missing=_("There is no such complaint."),
        only=_("Only the %(sides)s can do this on a complaint."),
    )


def case_answer(
    *,
    case_id: int,
    seller: User,
    kind: str,
    text: str,
    now: datetime,
    expected_version: int | None = None,
    files: Sequence[Upload] = (),
) -> Case:
    """The seller's answer within the window: A (settlement proposal) or B (defence)."""
    if kind not in (ResponseKind.SETTLEMENT, ResponseKind.DEFENCE):
        raise ValidationFailed(
            details={
                "kind": str(
                    _("Choose how you answer: A, settle with the buyer, or B, defend with an explanation.")
                )
            }
        )
    text = text_checked(text, text="answer", field="text", required=_("Write your proposal or explanation."))
    # The buyer's data are masked in the seller's files: read only when there are files.
    buyer = _case_buyer(case_id) if files else None
    with _evidence_intake(files, side=Side.SELLER, buyer=buyer) as prepared, transaction.atomic():
        case, _side = case_lock_for(case_id, seller, Side.SELLER)
        version = expected_version if expected_version is not None else case.version
        if case.status == CaseStatus.AWAITING_RESPONSE and now > case.respond_by:
            raise DeadlinePassed(
                _("The time to answer ended at %(at)s.") % {"at": format_local(case.respond_by)},
                details={"respond_by": case.respond_by.isoformat()},
            )
        ruleset = ruleset_registry().get(case.ruleset_id)
        updates: dict[str, Any] = {"response": kind, "response_text": text, "responded_at": now}
        if kind == ResponseKind.SETTLEMENT:
            reply = window_end(ruleset.windows["settlement_reply"], now, work_calendar())
            updates["settlement_reply_by"] = reply.at
            to = CaseStatus.SETTLEMENT_PROPOSED
        else:
            to = CaseStatus.AWAITING_DECISION
        case = case_transition(
            case=case,
            to=to,
            kind="answered_" + kind,
            actor=seller,
            actor_role=Side.SELLER,
            now=now,
            expected_version=version,
            updates=updates,
            data={"response": kind},
        )
        deadlines_cancel(now=now, case=case, kinds=[RESPOND])
        if kind == ResponseKind.SETTLEMENT:
            deadline_schedule(kind=SETTLEMENT_REPLY, due_at=case.settlement_reply_by, case=case)
        for item in prepared:
            _store_evidence(case=case, side=Side.SELLER, user=seller, item=item, now=now)
        notify(recipients=[case.buyer_id], kind="case.answered_" + kind, case=case, now=now)
        return case


def case_settlement_reply(
    *, case_id: int, buyer: User, accept: bool, now: datetime, expected_version: int | None = None
) -> Case:
    """The buyer accepts the seller's settlement (the complaint is withdrawn) or declines it (it goes on)."""
    with transaction.atomic():
        case, _side = case_lock_for(case_id, buyer, Side.BUYER)
        if case.status != CaseStatus.SETTLEMENT_PROPOSED:
            raise InvalidTransition(_("There is no settlement proposal waiting for your answer."))
        to = CaseStatus.WITHDRAWN if accept else CaseStatus.AWAITING_DECISION
        updates = {"withdrawn_at": now} if accept else {}
        case = case_transition(
            case=case,
            to=to,
            kind="settlement_accepted" if accept else "settlement_declined",
            actor=buyer,
            actor_role=Side.BUYER,
            now=now,
            expected_version=expected_version if expected_version is not None else case.version,
            updates=updates,
        )
        deadlines_cancel(now=now, case=case, kinds=None if accept else [SETTLEMENT_REPLY])
        notify(
            recipients=_sellers(case),
            kind="case.settlement_" + ("accepted" if accept else "declined"),
            case=case,
            now=now,
        )
        return case


def case_withdraw(
    *, case_id: int, buyer: User, reason: str, now: datetime, expected_version: int | None = None
) -> Case:
    """The buyer ends the complaint before a decision."""
    reason = text_checked(reason, text="withdrawal_reason", field="reason")
    with transaction.atomic():
        case, _side = case_lock_for(case_id, buyer, Side.BUYER)
        if case.status == CaseStatus.UPHELD:
            raise InvalidTransition(
                _(
                    "The complaint was upheld. A decision that has been made is not reversed by withdrawing or settling."
                ),
                details={"from": case.status},
            )
        case = case_transition(
            case=case,
            to=CaseStatus.WITHDRAWN,
            kind="withdrawn",
            actor=buyer,
            actor_role=Side.BUYER,
            now=now,
            expected_version=expected_version if expected_version is not None else case.version,
            updates={"withdrawn_at": now},
            data={"reason": reason},
        )
        deadlines_cancel(now=now, case=case)
        notify(recipients=_sellers(case), kind="case.withdrawn", case=case, now=now)
        return case


def case_assign(
    *,
    case_id: int,
    agent: User,
    now: datetime,
    assignee: User | None = None,
    expected_version: int | None = None,
) -> Case:
    """An agent takes a case (or hands it to another agent); the first assignment counts as handling."""
    assignee = assignee or agent
    if not access.is_agent(assignee):
        raise ValidationFailed(details={"assignee": str(_("Cases can only be assigned to agents."))})
    with transaction.atomic():
        case, _side = case_lock_for(case_id, agent, Side.AGENT)
        updates: dict[str, Any] = {"assigned_agent": assignee}
        if case.handled_at is None:
            updates["handled_at"] = now
        return case_touch(
            case=case,
            kind="assigned",
            actor=agent,
            actor_role=Side.AGENT,
            now=now,
            expected_version=expected_version if expected_version is not None else case.version,
            updates=updates,
            data={"assignee": assignee.pk},
        )


@dataclass(frozen=True)
class DecisionPreview:
    tier: str
    points: int
    points_class: str
    money_to_buyer: Decimal


def decision_preview(case: Case) -> list[DecisionPreview]:
    """The tiers the case's ruleset defines, with the points and money each assigns."""
    ruleset = ruleset_registry().get(case.ruleset_id)
    return [
        DecisionPreview(t.tier, t.points, t.points_class, t.money_to_buyer) for t in ruleset.tiers.values()
    ]


def case_decide(
    *,
    case_id: int,
    agent: User,
    outcome: str,
    reasons: str,
    now: datetime,
    tier: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """Reject, or uphold at a tier of the case's ruleset; records the points and money it assigns."""
    errors: dict[str, str] = {}
    if outcome not in DecisionOutcome.values:
        errors["outcome"] = str(_("Choose whether to uphold or to reject the complaint."))
    reasons = text_check(
        reasons,
        text="decision_reasons",
        field="reasons",
        errors=errors,
        required=_("Write the reasons for the decision; both sides will read them."),
    )
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        case, _side = case_lock_for(case_id, agent, Side.AGENT)
        ruleset = ruleset_registry().get(case.ruleset_id)
        updates: dict[str, Any] = {
            "decision_reasons": reasons,
            "decided_at": now,
            "decided_by": agent,
        }
        if case.handled_at is None:
            updates["handled_at"] = now
        if case.assigned_agent_id is None:
            updates["assigned_agent"] = agent
        if outcome == "uphold":
            if tier not in ruleset.tiers:
                raise ValidationFailed(
                    details={
                        "tier": str(
                            _("Choose one of the severities these rules allow: %(tiers)s.")
                            % {
                                "tiers": ", ".join(
                                    str(Tier(t).label) for t in ruleset.tiers if t in Tier.values
                                )
                            }
                        )
                    }
                )
            t = ruleset.tiers[tier]
            updates.update(
                tier=tier, points=t.points, points_class=t.points_class, money_to_buyer=t.money_to_buyer
            )
        to = CaseStatus.UPHELD if outcome == "uphold" else CaseStatus.REJECTED
        case = case_transition(
            case=case,
            to=to,
            kind="decided",
            actor=agent,
            actor_role=Side.AGENT,
            now=now,
            expected_version=expected_version if expected_version is not None else case.version,
            updates=updates,
            data={
                "outcome": outcome,
                "tier": updates.get("tier", ""),
                "points": updates.get("points"),
                "points_class": updates.get("points_class", ""),
                "money_to_buyer": str(updates["money_to_buyer"]) if "money_to_buyer" in updates else None,
                "ruleset": ruleset.id,
            },
        )
        deadlines_cancel(now=now, case=case)
        sellers = _sellers(case)
        notify(
            recipients=[case.buyer_id, *sellers],
            kind="case.decided",
            case=case,
            now=now,
            params={"outcome": outcome},
        )
        endpoints = webhook_endpoints()  # one read for this decision's webhooks and the sync's
        case_decided_announce(case, now, endpoints=endpoints)
        if outcome == "uphold":
            # Points, node penalties and compensation, in this same transaction.
            sanctions_sync(
                shop_id=case.shop_id,
                now=now,
                reason="decision",
                actor=agent,
                sellers=sellers,
                endpoints=endpoints,
                upheld_case=case.pk,
            )
        return case


def case_decided_announce(
    case: Case,
    now: datetime,
    *,
    event: str = "case.decided",
    endpoints: list[WebhookEndpoint] | None = None,
    **extra: Any,
) -> None:
    """Tell the marketplace (webhook) how a case was decided; ids and codes only, never buyer data.
    `endpoints`: `webhook_endpoints()`, if the caller read them in this transaction."""

    def payload() -> dict[str, Any]:
        # One query for both outside ids, made only when an endpoint subscribes (the decision's
        # hot path; the case rows are not loaded).
        order_ref, shop_ref = Order.objects.filter(pk=case.order_id).values_list(
            "external_id", "shop__external_id"
        )[0]
        return {
            "case": case.reference,
            "order": order_ref,
            "shop": {"id": case.shop_id, "external_id": shop_ref, "platform": case.platform_id},
            "outcome": "upheld" if case.status == CaseStatus.UPHELD else "rejected",
            "tier": case.tier,
            "points": case.points,
            "points_class": case.points_class,
            "money_to_buyer": str(case.money_to_buyer) if case.money_to_buyer is not None else None,
            "ruleset": case.ruleset_id,
            "decided_at": case.decided_at.isoformat() if case.decided_at else None,
            **extra,
        }

    webhook_emit_many(events=[(event, payload)], now=now, endpoints=endpoints)


def case_evidence_add(
    *, case_id: int, user: User, files: Sequence[Upload], now: datetime
) -> list[CaseEvidence]:
    """Either side adds evidence to an open case."""
    if not files:
        raise ValidationFailed(details={"files": str(_("Choose at least one file."))})
    buyer = _case_buyer(case_id)
    # Who submits decides whose masking applies; the locked check below is the authority.
    side_hint = Side.BUYER if buyer.pk == user.pk else Side.SELLER
    with _evidence_intake(files, side=side_hint, buyer=buyer) as prepared, transaction.atomic():
        case, side = case_lock_for(case_id, user, Side.BUYER, Side.SELLER)
        if not case.is_open and not case.appeals.filter(status="pending").exists():
            raise InvalidTransition(
                _("Evidence can be added only while the complaint or an appeal on it is open.")
            )
        return [_store_evidence(case=case, side=side, user=user, item=item, now=now) for item in prepared]


def assisted_link_issue(
    *, agent: User, order_id: int, reason: str, now: datetime
) -> tuple[AssistedLink, str]:
    """An agent lets a buyer outside the window file: a single-use link; returns it with its secret token."""
    if not access.is_agent(agent):
        raise PermissionDenied(_("Only agents can issue assisted filing links."))
    reason = text_checked(
        reason,
        text="assisted_reason",
        field="reason",
        required=_("Record why the buyer may file outside the window."),
    )
    with transaction.atomic():
        order = Order.objects.select_related("buyer").filter(pk=order_id).first()
        if order is None:
            raise NotFound(_("There is no such order."))
        if Case.objects.filter(order=order, status__in=OPEN_STATUSES).exists():
            raise _refusal(
                "already_open",
                {"reference": Case.objects.filter(order=order, status__in=OPEN_STATUSES).first().reference},
            )  # type: ignore[union-attr]
        ruleset = ruleset_for(order, filed_at=now)
        expires = window_end(ruleset.windows["assisted_link"], now, work_calendar()).at
        raw = secrets.token_urlsafe(24)
        link = AssistedLink.objects.create(
            token_hash=hashlib.sha256(raw.encode()).hexdigest(),
            order=order,
            buyer=order.buyer,
            issued_by=agent,
            reason=reason,
            issued_at=now,
            expires_at=expires,
        )
        notify(
            recipients=[order.buyer],
            kind="assisted_link.issued",
            now=now,
            params={"order": order.pk, "expires_at": expires.isoformat(), "path": f"/file/{raw}/"},
        )
        return link, raw


def assisted_link_get(*, raw_token: str, buyer: User, now: datetime) -> AssistedLink:
    """Look up a link for the buyer it was issued to (without using it)."""
    return _link_usable(raw_token, buyer=buyer, now=now)
