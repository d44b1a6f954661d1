"""The one writer of `ExtortionReport.status`.

`report_transition` takes a report the caller locked, checks the version the caller saw (optimistic
concurrency), checks the move against `TRANSITIONS`, applies the field updates, bumps the version
and appends an `ExtortionEvent` — all inside the caller's transaction. Without `to` it changes
fields of an open report and keeps its status (assignment, escalation), still with its event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from reviewshield.errors import Conflict, InvalidTransition
from reviewshield.extortion.audit import event_append
from reviewshield.extortion.models import ExtortionReport, ReportStatus

S = ReportStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.FILED: frozenset({S.AWAITING_BUYER, S.WITHDRAWN}),
    S.AWAITING_BUYER: frozenset({S.AWAITING_DECISION, S.WITHDRAWN}),
    S.AWAITING_DECISION: frozenset({S.UPHELD, S.REJECTED, S.WITHDRAWN}),
    S.UPHELD: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

REFUSALS = {
    S.FILED: _("The buyer has not been told about the report yet."),
    S.AWAITING_BUYER: _("The buyer's time to answer is still running."),
    S.AWAITING_DECISION: _("The report is already with the platform."),
    S.UPHELD: _("The report has been decided and upheld; it can no longer change."),
    S.REJECTED: _("The report has been decided; it can no longer change."),
    S.WITHDRAWN: _("The report was withdrawn; it can no longer change."),
}

CONFLICT = _("Someone else changed this report first. Reload it and try again.")


def next_deadline(report: ExtortionReport) -> datetime | None:
    """The deadline that matters in the report's current state (the agent queue orders by it)."""
    if report.status == S.AWAITING_BUYER:
        return report.answer_by
    if report.status in (S.FILED, S.AWAITING_DECISION):
        return report.decide_by
    return None


def report_transition(
    *,
    report: ExtortionReport,
    kind: str,
    actor: Any,
    actor_role: str,
    now: datetime,
    to: str | None = None,
    expected_version: int | None = None,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> ExtortionReport:
    """Move a report the caller locked to `to` (or, without `to`, change fields of an open report).

    Raises InvalidTransition or Conflict. Call inside transaction.atomic()."""
    if expected_version is not None and report.version != expected_version:
        raise Conflict(
            CONFLICT,
            details={
                "report": report.reference,
                "your_version": expected_version,
                "current_version": report.version,
            },
        )
    before, old_version = report.status, report.version
    target = before if to is None else to
    allowed = report.is_open if to is None else to in TRANSITIONS[before]
    if not allowed:
        raise InvalidTransition(REFUSALS.get(before), details={"from": before, "to": target})
    updates = updates or {}
    for field, value in updates.items():
        setattr(report, field, value)
    report.status = target
    report.version = old_version + 1
    report.next_deadline_at = next_deadline(report)
    # The version guard keeps the write safe where row locks are not available (SQLite).
    written = ExtortionReport.objects.filter(pk=report.pk, version=old_version).update(
        **{f: getattr(report, f) for f in {*updates, "status", "version", "next_deadline_at"}}
    )
    if written != 1:
        raise Conflict(CONFLICT, details={"report": report.reference})
    event_append(
        report=report,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        at=now,
        from_status=before,
        to_status=target,
        data=data,
    )
    return report
