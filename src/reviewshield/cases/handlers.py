"""What the deadline worker does when a case's deadline falls due. Idempotent: each handler checks
the case is still in the state the deadline was for, and otherwise reports the deadline obsolete."""

from __future__ import annotations

from datetime import datetime

from reviewshield.cases.models import Case, CaseStatus, ResponseKind
from reviewshield.cases.services import DECIDE, HANDLE, RESPOND, SETTLEMENT_REPLY
from reviewshield.cases.transitions import case_touch, case_transition
from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import register
from reviewshield.outbox.services import notify

SYSTEM = "system"


@register(RESPOND)
def seller_missed_answer(deadline: Deadline, now: datetime) -> str:
    """The seller did not answer in time: the case goes to the platform, recorded as "no answer"."""
    case = Case.objects.get(pk=deadline.case_id)
    if case.status != CaseStatus.AWAITING_RESPONSE:
        return "obsolete"
    case = case_transition(
        case_id=case.pk,
        to=CaseStatus.AWAITING_DECISION,
        kind="no_answer",
        actor=None,
        actor_role=SYSTEM,
        now=now,
        updates={"response": ResponseKind.NO_ANSWER},
        data={"respond_by": case.respond_by.isoformat()},
    )
    notify(
        recipients=[case.buyer_id, *case.shop.sellers.values_list("pk", flat=True)],
        kind="case.no_answer",
        case=case,
        now=now,
    )
    return "fired"


@register(SETTLEMENT_REPLY)
def settlement_lapsed(deadline: Deadline, now: datetime) -> str:
    """The buyer did not answer the settlement proposal: the complaint goes on to the platform."""
    case = Case.objects.get(pk=deadline.case_id)
    if case.status != CaseStatus.SETTLEMENT_PROPOSED:
        return "obsolete"
    case = case_transition(
        case_id=case.pk,
        to=CaseStatus.AWAITING_DECISION,
        kind="settlement_lapsed",
        actor=None,
        actor_role=SYSTEM,
        now=now,
    )
    notify(
        recipients=[case.buyer_id, *case.shop.sellers.values_list("pk", flat=True)],
        kind="case.settlement_lapsed",
        case=case,
        now=now,
    )
    return "fired"


def _breach(deadline: Deadline, now: datetime, sla: str) -> str:
    case = Case.objects.get(pk=deadline.case_id)
    if not case.is_open or (sla == "handle" and case.handled_at is not None):
        return "obsolete"
    case_touch(
        case_id=case.pk,
        kind="sla_breached",
        actor=None,
        actor_role=SYSTEM,
        now=now,
        updates={"escalated": True},
        data={"sla": sla, "due_at": deadline.due_at.isoformat()},
    )
    return "fired"


@register(HANDLE)
def handling_breached(deadline: Deadline, now: datetime) -> str:
    """Nobody at the platform took the case within the handling SLA: escalate."""
    return _breach(deadline, now, "handle")


@register(DECIDE)
def decision_breached(deadline: Deadline, now: datetime) -> str:
    """No decision within the decision SLA: escalate."""
    return _breach(deadline, now, "decide")
