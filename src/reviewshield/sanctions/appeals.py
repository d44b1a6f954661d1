"""Appeals: either side, within the ruleset's window, decided by a senior agent who did not make the
first decision. Overturning or changing the tier moves the case and calls `sanctions_sync`, which
reverses points, lifts penalties that no longer hold, reverses compensation and sends the webhooks —
all in the appeal decision's one transaction, each step with its audit event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import Role, User
from reviewshield.cases.audit import event_append
from reviewshield.cases.models import Case, CaseStatus, Side, Tier
from reviewshield.cases.services import (
    _case_buyer,
    _evidence_intake,
    _sellers,
    _store_evidence,
    case_decided_announce,
    case_lock_for,
)
from reviewshield.cases.transitions import case_touch, case_transition
from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import deadline_schedule, register
from reviewshield.errors import (
    Conflict,
    DeadlinePassed,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.intake import Upload
from reviewshield.freetext import text_check, text_checked
from reviewshield.localtime import format_local
from reviewshield.outbox.services import notify
from reviewshield.policy import Window, window_end
from reviewshield.policystore.services import ruleset_registry, work_calendar
from reviewshield.sanctions.models import Appeal, AppealOutcome, AppealStatus, LedgerEntry
from reviewshield.sanctions.services import sanctions_sync

APPEAL_DECIDE_BY = "appeal.decide_by"
# Senior agents decide an appeal within this many working days unless the ruleset says otherwise.
DEFAULT_APPEAL_SLA = Window(kind="working_days", amount=5, unit="days")
SENIOR = (Role.SENIOR_AGENT, Role.ADMIN)


def _senior_ids() -> list[int]:
    return list(User.objects.filter(role=Role.SENIOR_AGENT, is_active=True).values_list("pk", flat=True))


def appeal_window_end(case: Case) -> datetime:
    ruleset = ruleset_registry().get(case.ruleset_id)
    assert case.decided_at is not None
    return window_end(ruleset.windows["appeal"], case.decided_at, work_calendar()).at


def appeal_file(
    *, case_id: int, user: User, reasons: str, now: datetime, files: Sequence[Upload] = ()
) -> Appeal:
    """The buyer or the seller appeals the decision, with reasons and new evidence."""
    reasons = text_checked(
        reasons,
        text="appeal_reasons",
        field="reasons",
        required=_("Write why the decision is wrong; the senior agent reads it."),
    )
    buyer = _case_buyer(case_id)
    side_hint = Side.BUYER if buyer.pk == user.pk else Side.SELLER
    own_words = reasons if side_hint == Side.BUYER else ""
    with (
        _evidence_intake(files, side=side_hint, buyer=buyer, buyer_text=own_words) as prepared,
        transaction.atomic(),
    ):
        case, side = case_lock_for(case_id, user, Side.BUYER, Side.SELLER)
        if case.status not in (CaseStatus.UPHELD, CaseStatus.REJECTED):
            raise InvalidTransition(_("Only a decided complaint can be appealed."))
        if side == Side.SELLER and case.status == CaseStatus.REJECTED:
            raise InvalidTransition(
                _("The complaint was rejected; there is nothing for the seller to appeal.")
            )
        ends = appeal_window_end(case)
        if now >= ends:
            raise DeadlinePassed(
                _("The appeal window ended on %(when)s.") % {"when": format_local(ends)},
                details={"appeal_window_ends": ends.isoformat()},
            )
        if Appeal.objects.filter(case=case, side=side).exists():
            raise InvalidTransition(_("You have already appealed this decision."))
        ruleset = ruleset_registry().get(case.ruleset_id)
        sla = ruleset.windows.get("appeal_decide", DEFAULT_APPEAL_SLA)
        due = window_end(sla, now, work_calendar())
        try:
            with transaction.atomic():
                appeal = Appeal.objects.create(
                    case=case,
                    side=side,
                    filed_by=user,
                    reasons=reasons,
                    filed_at=now,
                    decide_by=due.at,
                    decide_by_provisional=due.provisional,
                )
        except IntegrityError:
            raise Conflict(_("An appeal on this complaint is already waiting for a decision.")) from None
        for item in prepared:
            _store_evidence(case=case, side=side, user=user, item=item, now=now)
        event_append(
            case=case,
            kind="appeal_filed",
            actor=user,
            actor_role=side,
            at=now,
            data={"appeal": appeal.pk, "side": side, "decide_by": due.at.isoformat(), "files": len(prepared)},
        )
        # A waiting appeal keeps the decision from being final: a coming blacklist listing waits.
        sanctions_sync(
            shop_id=case.shop_id, now=now, reason=LedgerEntry.Reason.APPEAL, actor=user, appeal=appeal
        )
        deadline_schedule(
            kind=APPEAL_DECIDE_BY,
            due_at=due.at,
            case=case,
            provisional=due.provisional,
            payload={"appeal": appeal.pk},
        )
        other = [case.buyer_id] if side == Side.SELLER else _sellers(case)
        notify(
            recipients=[*other, *_senior_ids()],
            kind="appeal.filed",
            case=case,
            now=now,
            params={"side": side},
            channels=("in_app",),
        )
        return appeal


def appeal_decide(
    *,
    appeal_id: int,
    senior: User,
    outcome: str,
    reasons: str,
    now: datetime,
    new_tier: str | None = None,
    expected_version: int | None = None,
) -> Appeal:
    """A senior agent decides: the decision stands, is overturned, or its tier changes."""
    if senior.role not in SENIOR:
        raise PermissionDenied(_("Only a senior agent decides appeals."))
    errors: dict[str, str] = {}
    if outcome not in AppealOutcome.values:
        errors["outcome"] = str(_("Choose: the decision stands, overturned, or severity changed."))
    reasons = text_check(
        reasons,
        text="decision_reasons",
        field="reasons",
        errors=errors,
        required=_("Write the reasons for the appeal decision; both sides will read them."),
    )
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first()
        if appeal is None:
            raise NotFound(_("There is no such appeal."))
        if expected_version is not None and appeal.version != expected_version:
            raise Conflict(
                details={
                    "appeal": appeal.pk,
                    "your_version": expected_version,
                    "current_version": appeal.version,
                }
            )
        if appeal.status != AppealStatus.PENDING:
            raise InvalidTransition(_("This appeal has already been decided."))
        case = Case.objects.select_for_update().get(pk=appeal.case_id)
        if case.decided_by_id == senior.pk:
            raise PermissionDenied(
                _("You made the first decision; another senior agent must decide the appeal.")
            )
        ruleset = ruleset_registry().get(case.ruleset_id)
        before = {"status": case.status, "tier": case.tier, "points": case.points}
        tier_data = None
        if outcome == AppealOutcome.TIER_CHANGED or (
            outcome == AppealOutcome.OVERTURNED and case.status == CaseStatus.REJECTED
        ):
            if new_tier not in ruleset.tiers:
                raise ValidationFailed(
                    details={
                        "new_tier": str(
                            _("Choose one of the severities these rules allow: %(tiers)s.")
                            % {
                                "tiers": ", ".join(
                                    str(Tier(t).label) for t in ruleset.tiers if t in Tier.values
                                )
                            }
                        )
                    }
                )
            if outcome == AppealOutcome.TIER_CHANGED and (
                case.status != CaseStatus.UPHELD or new_tier == case.tier
            ):
                raise ValidationFailed(
                    details={
                        "new_tier": str(
                            _("A severity change needs an upheld complaint and a different tier.")
                        )
                    }
                )
            t = ruleset.tiers[new_tier]
            tier_data = {
                "tier": new_tier,
                "points": t.points,
                "points_class": t.points_class,
                "money_to_buyer": t.money_to_buyer,
            }
        data = {"appeal": appeal.pk, "outcome": outcome, "before": before}
        if outcome == AppealOutcome.OVERTURNED and case.status == CaseStatus.UPHELD:
            case = case_transition(
                case=case,
                to=CaseStatus.REJECTED,
                kind="appeal_decided",
                actor=senior,
                actor_role=Side.AGENT,
                now=now,
                updates={"tier": "", "points": None, "points_class": "", "money_to_buyer": None},
                data=data,
                table="appeal",
            )
        elif outcome == AppealOutcome.OVERTURNED:
            case = case_transition(
                case=case,
                to=CaseStatus.UPHELD,
                kind="appeal_decided",
                actor=senior,
                actor_role=Side.AGENT,
                now=now,
                updates=tier_data,
                data={**data, "tier": new_tier},
                table="appeal",
            )
        elif outcome == AppealOutcome.TIER_CHANGED:
            case = case_touch(
                case=case,
                kind="appeal_decided",
                actor=senior,
                actor_role=Side.AGENT,
                now=now,
                updates=tier_data,
                data={**data, "tier": new_tier},
                require_open=False,
            )
        else:
            case = case_touch(
                case=case,
                kind="appeal_decided",
                actor=senior,
                actor_role=Side.AGENT,
                now=now,
                data=data,
                require_open=False,
            )
        appeal.status = AppealStatus.DECIDED
        appeal.outcome = outcome
        appeal.new_tier = new_tier or "" if tier_data else ""
        appeal.decision_reasons = reasons
        appeal.decided_by = senior
        appeal.decided_at = now
        appeal.version += 1
        appeal.save()
        Deadline.objects.filter(kind=APPEAL_DECIDE_BY, case=case, done_at__isnull=True).update(
            done_at=now, outcome="cancelled"
        )
        # Even a decision that stands changes something: it is now final, so it may list the shop.
        sanctions_sync(
            shop_id=case.shop_id, now=now, reason=LedgerEntry.Reason.APPEAL, actor=senior, appeal=appeal
        )
        case_decided_announce(case, now, event="appeal.decided", appeal=appeal.pk, appeal_outcome=outcome)
        notify(
            recipients=[case.buyer_id, *_sellers(case)],
            kind="appeal.decided",
            case=case,
            now=now,
            params={"outcome": outcome},
        )
        return appeal


@register(APPEAL_DECIDE_BY)
def appeal_stale(deadline: Deadline, now: datetime) -> str:
    """The appeal SLA passed without a decision: alert the senior agents, once."""
    appeal = Appeal.objects.select_for_update().filter(pk=deadline.payload.get("appeal")).first()
    if appeal is None or appeal.status != AppealStatus.PENDING or appeal.stale_alerted_at:
        return "obsolete"
    appeal.stale_alerted_at = now
    appeal.save(update_fields=["stale_alerted_at"])
    case = appeal.case
    event_append(
        case=case,
        kind="appeal_stale",
        actor=None,
        actor_role="system",
        at=now,
        data={"appeal": appeal.pk, "decide_by": appeal.decide_by.isoformat()},
    )
    notify(
        recipients=_senior_ids(),
        kind="appeal.stale",
        case=case,
        now=now,
        params={"appeal": appeal.pk},
        channels=("in_app", "email"),
    )
    return "fired"


def appeal_state_for(case: Case) -> dict[str, Any]:
    """What a side may do about appeals on this case (for pages and the API)."""
    if case.status not in (CaseStatus.UPHELD, CaseStatus.REJECTED) or case.decided_at is None:
        return {"open": False, "ends": None}
    ends = appeal_window_end(case)
    return {"open": True, "ends": ends}
