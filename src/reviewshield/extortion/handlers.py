"""What the deadline worker does when a report's deadline falls due. Idempotent: each handler checks
the report is still in the state the deadline was for, and otherwise reports the deadline obsolete."""

from __future__ import annotations

from datetime import datetime

from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import register
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from reviewshield.extortion.services import ANSWER_BY, DECIDE_BY, SYSTEM, seller_ids
from reviewshield.extortion.transitions import report_transition
from reviewshield.outbox.services import notify


def _locked(deadline: Deadline) -> ExtortionReport | None:
    return ExtortionReport.objects.select_for_update().filter(pk=deadline.payload.get("report")).first()


@register(ANSWER_BY)
def buyer_missed_answer(deadline: Deadline, now: datetime) -> str:
    """The buyer did not answer in time: the report goes to the platform, recorded as "no answer"."""
    report = _locked(deadline)
    if report is None or report.status != ReportStatus.AWAITING_BUYER:
        return "obsolete"
    report = report_transition(
        report=report,
        to=ReportStatus.AWAITING_DECISION,
        kind="no_answer",
        actor=None,
        actor_role=SYSTEM,
        now=now,
        updates={"no_answer": True},
        data={"answer_by": report.answer_by.isoformat()},
    )
    notify(
        recipients=[report.buyer_id, *seller_ids(report)],
        kind="extortion.no_answer",
        now=now,
        params={"report": report.reference},
    )
    return "fired"


@register(DECIDE_BY)
def decision_breached(deadline: Deadline, now: datetime) -> str:
    """No decision within the platform's decision window: escalate."""
    report = _locked(deadline)
    if report is None or not report.is_open:
        return "obsolete"
    report_transition(
        report=report,
        kind="sla_breached",
        actor=None,
        actor_role=SYSTEM,
        now=now,
        updates={"escalated": True},
        data={"sla": "decide", "due_at": deadline.due_at.isoformat()},
    )
    return "fired"
