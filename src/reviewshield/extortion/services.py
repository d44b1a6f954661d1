"""Extortion reports: file, answer, add evidence, withdraw, assign, decide.

Every function here is one transaction: it checks who may act, calls the one status writer
(`transitions.report_transition`), which appends the audit event (queued for the log too), schedules
or cancels the report's deadlines and notifies the other side — or raises a `ReviewShieldError` and
leaves nothing behind. Evidence goes through the same vault as a complaint's (`evidence.intake`,
checked and stored before the transaction, removed again if it fails).

An upheld report marks the order's review as extortion (kept — the law forbids deleting reviews —
but folded and left out of the shop's rating), tells the marketplace (`review.extortion_marked`)
and gives the buyer a strike.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import Role, User
from reviewshield.cases.access import is_agent, locked_for
from reviewshield.cases.models import DecisionOutcome, Side
from reviewshield.cases.services import ruleset_for
from reviewshield.deadlines.scheduling import deadlines_cancel, deadlines_schedule
from reviewshield.errors import (
    DeadlinePassed,
    InvalidTransition,
    NotEligible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.intake import Prepared, Upload, evidence_intake, evidence_item_create
from reviewshield.extortion.audit import event_append, evidence_logged
from reviewshield.extortion.models import (
    OPEN_STATUSES,
    BuyerStrike,
    ExtortionEvidence,
    ExtortionReport,
    ReportStatus,
    ReviewMark,
    Threat,
)
from reviewshield.extortion.transitions import next_deadline, report_transition
from reviewshield.freetext import LIMITS, text_check, text_checked
from reviewshield.localtime import format_local, to_local
from reviewshield.marketplace.models import Order, Review
from reviewshield.outbox.services import notify
from reviewshield.policy import window_end
from reviewshield.policystore.services import work_calendar
from reviewshield.privacy.selectors import buyer_known_data
from reviewshield.rawsql import untaken
from reviewshield.webhooks.services import webhook_emit

MAX_DEMAND = LIMITS["demand"]
MAX_AMOUNT = Decimal("99999999.99")
# Deadline kinds this module schedules (payload {"report": id}); handlers live in `extortion.handlers`.
ANSWER_BY = "extortion.answer_by"
DECIDE_BY = "extortion.decide_by"
SYSTEM = "system"


def _new_reference(now: datetime) -> str:
    return f"RSX{to_local(now):%y%m%d}{secrets.token_hex(3).upper()}"


def seller_ids(report: ExtortionReport) -> list[int]:
    """Ids of the shop's sellers (notifications need no more than that)."""
    return list(User.objects.filter(shops=report.shop_id).values_list("pk", flat=True))


def _already_open(reference: str) -> NotEligible:
    return NotEligible(
        _("There is already an open extortion report (%(reference)s) for this order.")
        % {"reference": reference},
        details={"reason": "already_open", "reference": reference},
    )


def _amount(raw: Any, errors: dict[str, str]) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw).strip())
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        errors["demand_amount"] = str(_("Give the amount demanded in yuan, for example 200 or 49.90."))
        return None
    return amount.quantize(Decimal("0.01"))


def _clean_filing(
    *,
    order: Order,
    threat: str,
    demand: str,
    demand_amount: Any,
    occurred_at: datetime,
    narrative: str,
    files: Sequence[Upload],
    now: datetime,
) -> tuple[str, str, Decimal | None]:
    """The report's words, checked field by field; raises ValidationFailed naming each problem."""
    errors: dict[str, str] = {}
    if threat not in Threat.values:
        errors["threat"] = str(_("Choose what the buyer threatened: a bad review, a complaint, or other."))
    demand = text_check(
        demand, text="demand", field="demand", errors=errors, required=_("Say what the buyer demanded.")
    )
    amount = _amount(demand_amount, errors)
    if occurred_at.tzinfo is None:
        errors["occurred_at"] = str(_("Give the time with its time zone."))
    elif occurred_at > now + timedelta(minutes=5):
        errors["occurred_at"] = str(_("The time it happened cannot be in the future."))
    elif occurred_at < order.paid_at:
        errors["occurred_at"] = str(
            _("The order was paid at %(paid_at)s; a threat about it cannot come before that.")
            % {"paid_at": format_local(order.paid_at)}
        )
    narrative = text_check(
        narrative, text="narrative", field="narrative", errors=errors, required=_("Describe what happened.")
    )
    if not files:
        errors["files"] = str(
            _("Add at least one piece of evidence, such as a screenshot of the buyer's demand.")
        )
    if errors:
        raise ValidationFailed(details=errors)
    return demand, narrative, amount


def _store_evidence(
    *, report: ExtortionReport, side: str, user: User, item: Prepared, now: datetime
) -> ExtortionEvidence:
    """Write one prepared item's rows (its files are already in the store) and its event."""
    evidence = evidence_item_create(
        ExtortionEvidence, item=item, side=side, user=user, now=now, report=report
    )
    evidence_logged(evidence, report)
    event_append(
        report=report,
        kind="evidence_added",
        actor=user,
        actor_role=side,
        at=now,
        from_status=report.status,
        to_status=report.status,
        data={"evidence": evidence.pk, "kind": item.kind, "sha256": evidence.sha256, "side": side},
    )
    return evidence


def report_file(
    *,
    seller: User,
    order_id: int,
    threat: str,
    demand: str,
    occurred_at: datetime,
    narrative: str,
    files: Sequence[Upload],
    now: datetime,
    demand_amount: Any = None,
) -> ExtortionReport:
    """A seller of the order's shop reports its buyer; the buyer is notified and has the ruleset's
    answer window, the platform its decision window (both deadlines scheduled)."""
    if seller.role != Role.SELLER:
        raise PermissionDenied(_("Only a seller of the order's shop can report a buyer for extortion."))
    # Read before the transaction: the buyer's personal data is masked in what the seller reads.
    order = Order.objects.select_related("buyer").filter(pk=order_id, shop__sellers=seller).first()
    if order is None:
        raise NotFound(_("None of your shops has this order."))
    demand, narrative, amount = _clean_filing(
        order=order,
        threat=threat,
        demand=demand,
        demand_amount=demand_amount,
        occurred_at=occurred_at,
        narrative=narrative,
        files=files,
        now=now,
    )
    buyer = order.buyer
    try:
        with (
            evidence_intake(files, side=Side.SELLER, buyer_private=buyer_known_data(buyer)) as prepared,
            transaction.atomic(),
        ):
            open_report = ExtortionReport.objects.filter(order=order, status__in=OPEN_STATUSES).first()
            if open_report is not None:
                raise _already_open(open_report.reference)
            ruleset = ruleset_for(order, filed_at=now)
            calendar = work_calendar()
            # The buyer is told now, so both windows start now: the answer from the notification,
            # the decision from the filing.
            answer = window_end(ruleset.windows["respond"], now, calendar)
            decide = window_end(ruleset.windows["decide"], now, calendar)
            report = ExtortionReport(
                reference=untaken(ExtortionReport, "reference", lambda: _new_reference(now)),
                order=order,
                shop_id=order.shop_id,
                platform_id=order.platform_id,
                buyer=buyer,
                filed_by=seller,
                ruleset_id=ruleset.id,
                ruleset_hash=ruleset.content_hash,
                status=ReportStatus.FILED,
                threat=threat,
                demand=demand,
                demand_amount=amount,
                occurred_at=occurred_at,
                narrative=narrative,
                filed_at=now,
                answer_by=answer.at,
                decide_by=decide.at,
                provisional_deadlines=[
                    name
                    for name, result in (("answer_by", answer), ("decide_by", decide))
                    if result.provisional
                ],
            )
            report.next_deadline_at = next_deadline(report)
            report.save()
            event_append(
                report=report,
                kind="filed",
                actor=seller,
                actor_role=Side.SELLER,
                at=now,
                to_status=report.status,
                data={"ruleset": ruleset.id, "ruleset_hash": ruleset.content_hash, "threat": threat},
            )
            for item in prepared:
                _store_evidence(report=report, side=Side.SELLER, user=seller, item=item, now=now)
            report = report_transition(
                report=report,
                to=ReportStatus.AWAITING_BUYER,
                kind="buyer_notified",
                actor=None,
                actor_role=SYSTEM,
                now=now,
                updates={"notified_at": now},
                data={"answer_by": report.answer_by.isoformat()},
            )
            deadlines_schedule(
                [
                    {
                        "kind": kind,
                        "due_at": result.at,
                        "provisional": result.provisional,
                        "payload": {"report": report.pk},
                    }
                    for kind, result in ((ANSWER_BY, answer), (DECIDE_BY, decide))
                ]
            )
            notify(
                recipients=[buyer.pk],
                kind="extortion.filed",
                now=now,
                params={"report": report.reference, "answer_by": report.answer_by.isoformat()},
            )
            return report
    except IntegrityError as exc:
        # Two filings for one order raced past the check; the partial unique index stopped the second.
        existing = ExtortionReport.objects.filter(order_id=order_id, status__in=OPEN_STATUSES).first()
        if existing is None:
            raise
        raise _already_open(existing.reference) from exc


def _report_buyer(report_id: int) -> User:
    """The report's buyer, read before the transaction (their data is masked in what a seller reads)."""
    report = ExtortionReport.objects.select_related("buyer").filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("There is no such extortion report."))
    return report.buyer


def report_lock_for(report_id: int, user: User, *sides: str) -> tuple[ExtortionReport, str]:
    """Lock the report for this user's action; NotFound for outsiders, 403 for the wrong side."""
    return locked_for(  # type: ignore[no-any-return]
        ExtortionReport,
        report_id,
        user,
        sides,
        missing=_("There is no such extortion report."),
        only=_("Only the %(sides)s can do this on an extortion report."),
    )


def report_answer(
    *,
    report_id: int,
    buyer: User,
    text: str,
    now: datetime,
    expected_version: int | None = None,
    files: Sequence[Upload] = (),
) -> ExtortionReport:
    """The buyer answers within the window, with evidence if they have it; the report goes to the platform."""
    errors: dict[str, str] = {}
    text = text_check(text, text="answer", field="text", errors=errors, required=_("Write your answer."))
    if errors:
        raise ValidationFailed(details=errors)
    private = buyer_known_data(_report_buyer(report_id), also=text)
    with evidence_intake(files, side=Side.BUYER, buyer_private=private) as prepared, transaction.atomic():
        report, _side = report_lock_for(report_id, buyer, Side.BUYER)
        if report.status == ReportStatus.AWAITING_BUYER and now > report.answer_by:
            raise DeadlinePassed(
                _("The time to answer ended at %(at)s.") % {"at": format_local(report.answer_by)},
                details={"answer_by": report.answer_by.isoformat()},
            )
        report = report_transition(
            report=report,
            to=ReportStatus.AWAITING_DECISION,
            kind="answered",
            actor=buyer,
            actor_role=Side.BUYER,
            now=now,
            expected_version=expected_version,
            updates={"answer_text": text, "answered_at": now},
        )
        deadlines_cancel(now=now, payload={"report": report.pk}, kinds=[ANSWER_BY])
        for item in prepared:
            _store_evidence(report=report, side=Side.BUYER, user=buyer, item=item, now=now)
        notify(
            recipients=seller_ids(report),
            kind="extortion.answered",
            now=now,
            params={"report": report.reference},
        )
        return report


def report_evidence_add(
    *, report_id: int, user: User, files: Sequence[Upload], now: datetime
) -> list[ExtortionEvidence]:
    """The seller or the buyer adds evidence while the report is open."""
    if not files:
        raise ValidationFailed(details={"files": str(_("Choose at least one file."))})
    buyer = _report_buyer(report_id)
    # Who submits decides whose masking applies; the locked check below is the authority.
    side_hint = Side.BUYER if buyer.pk == user.pk else Side.SELLER
    with (
        evidence_intake(files, side=side_hint, buyer_private=buyer_known_data(buyer)) as prepared,
        transaction.atomic(),
    ):
        report, side = report_lock_for(report_id, user, Side.BUYER, Side.SELLER)
        if not report.is_open:
            raise InvalidTransition(_("Evidence can be added only while the report is open."))
        return [_store_evidence(report=report, side=side, user=user, item=item, now=now) for item in prepared]


def report_withdraw(
    *, report_id: int, seller: User, reason: str, now: datetime, expected_version: int | None = None
) -> ExtortionReport:
    """The shop's seller takes the report back before a decision; the buyer is told."""
    reason = text_checked(reason, text="withdrawal_reason", field="reason")
    with transaction.atomic():
        report, _side = report_lock_for(report_id, seller, Side.SELLER)
        report = report_transition(
            report=report,
            to=ReportStatus.WITHDRAWN,
            kind="withdrawn",
            actor=seller,
            actor_role=Side.SELLER,
            now=now,
            expected_version=expected_version,
            updates={"withdrawn_at": now},
            data={"reason": reason},
        )
        deadlines_cancel(now=now, payload={"report": report.pk})
        notify(
            recipients=[report.buyer_id],
            kind="extortion.withdrawn",
            now=now,
            params={"report": report.reference},
        )
        return report


def report_assign(
    *,
    report_id: int,
    agent: User,
    now: datetime,
    assignee: User | None = None,
    expected_version: int | None = None,
) -> ExtortionReport:
    """An agent takes a report (or hands it to another agent)."""
    assignee = assignee or agent
    if not is_agent(assignee):
        raise ValidationFailed(details={"assignee": str(_("Reports can only be assigned to agents."))})
    with transaction.atomic():
        report, _side = report_lock_for(report_id, agent, Side.AGENT)
        return report_transition(
            report=report,
            kind="assigned",
            actor=agent,
            actor_role=Side.AGENT,
            now=now,
            expected_version=expected_version,
            updates={"assigned_agent": assignee},
            data={"assignee": assignee.pk},
        )


def report_decide(
    *,
    report_id: int,
    agent: User,
    outcome: str,
    reasons: str,
    now: datetime,
    expected_version: int | None = None,
) -> ExtortionReport:
    """Uphold or reject a report with the buyer's answer (or its absence) in. Upheld: the buyer gets a
    strike and the order's review, if the buyer wrote one, is marked as extortion; both sides are told."""
    errors: dict[str, str] = {}
    if outcome not in DecisionOutcome.values:
        errors["outcome"] = str(_("Choose whether to uphold or to reject the report."))
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
        report, _side = report_lock_for(report_id, agent, Side.AGENT)
        updates: dict[str, Any] = {
            "decision_reasons": reasons,
            "decided_at": now,
            "decided_by": agent,
        }
        if report.assigned_agent_id is None:
            updates["assigned_agent"] = agent
        report = report_transition(
            report=report,
            to=ReportStatus.UPHELD if outcome == "uphold" else ReportStatus.REJECTED,
            kind="decided",
            actor=agent,
            actor_role=Side.AGENT,
            now=now,
            expected_version=expected_version,
            updates=updates,
            data={"outcome": outcome, "strike": outcome == "uphold"},
        )
        deadlines_cancel(now=now, payload={"report": report.pk})
        if outcome == "uphold":
            BuyerStrike.objects.create(buyer_id=report.buyer_id, report=report, at=now)
            review = Review.objects.filter(order_id=report.order_id, automatic=False).first()
            if review is not None:
                _review_mark(report=report, review=review, now=now, actor=agent, actor_role=Side.AGENT)
        notify(
            recipients=[report.buyer_id, *seller_ids(report)],
            kind="extortion.decided",
            now=now,
            params={"report": report.reference, "outcome": outcome},
        )
        return report


def _review_mark(
    *, report: ExtortionReport, review: Review, now: datetime, actor: Any, actor_role: str
) -> ReviewMark:
    """Mark the review as extortion, record it, and tell the marketplace to fold it (ids only)."""
    mark = ReviewMark.objects.create(review=review, report=report, marked_at=now)
    order_ref, shop_ref = Order.objects.filter(pk=report.order_id).values_list(
        "external_id", "shop__external_id"
    )[0]
    event_append(
        report=report,
        kind="review_marked",
        actor=actor,
        actor_role=actor_role,
        at=now,
        from_status=report.status,
        to_status=report.status,
        data={"review": review.external_id, "rating": review.rating},
    )
    webhook_emit(
        event="review.extortion_marked",
        payload={
            "review": review.external_id,
            "order": order_ref,
            "shop": {"id": report.shop_id, "external_id": shop_ref, "platform": report.platform_id},
            "report": report.reference,
            "marked_at": now,
        },
        now=now,
    )
    return mark


def review_mark_if_upheld(*, review: Review, now: datetime) -> ReviewMark | None:
    """A review the buyer posts after a report on its order was upheld is the one threatened: mark it
    too. Called inside the transaction that stores the review (`marketplace.services.review_upsert`)."""
    if review.automatic or ReviewMark.objects.filter(review=review).exists():
        return None
    report = ExtortionReport.objects.filter(
        order_id=review.order_id, status=ReportStatus.UPHELD, review_mark__isnull=True
    ).first()
    if report is None:
        return None
    return _review_mark(report=report, review=review, now=now, actor=None, actor_role=SYSTEM)
