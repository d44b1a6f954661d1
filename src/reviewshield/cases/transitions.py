"""The one writer of `Case.status`.

`case_transition` locks the case, checks the version the caller saw (optimistic concurrency), checks
the move against `TRANSITIONS`, applies the field updates, bumps the version and appends a
`CaseEvent` — all inside the caller's transaction. `case_touch` does the same for changes that
keep the status (assignment, escalation).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from reviewshield.cases.audit import event_append
from reviewshield.cases.models import Case, CaseStatus
from reviewshield.errors import Conflict, InvalidTransition
from reviewshield.rawsql import update_where

S = CaseStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_RESPONSE: frozenset({S.SETTLEMENT_PROPOSED, S.AWAITING_DECISION, S.WITHDRAWN}),
    S.SETTLEMENT_PROPOSED: frozenset({S.AWAITING_DECISION, S.WITHDRAWN}),
    S.AWAITING_DECISION: frozenset({S.UPHELD, S.REJECTED, S.WITHDRAWN}),
    S.UPHELD: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# An appeal decision may move a decided case once more: an upheld one overturned, a rejected one upheld.
APPEAL_TRANSITIONS: dict[str, frozenset[str]] = {
    S.UPHELD: frozenset({S.REJECTED}),
    S.REJECTED: frozenset({S.UPHELD}),
}

_REFUSALS = {
    S.UPHELD: _("The complaint has been decided and upheld; it can no longer change this way."),
    S.REJECTED: _("The complaint has been decided; it can no longer change this way."),
    S.WITHDRAWN: _("The complaint was withdrawn; it can no longer change."),
    S.AWAITING_RESPONSE: _("The seller has not answered yet."),
    S.SETTLEMENT_PROPOSED: _("A settlement proposal is waiting for the buyer's answer."),
    S.AWAITING_DECISION: _("The complaint is already with the platform."),
}


def next_deadline(case: Case) -> datetime | None:
    """The deadline that matters in the case's current state (the agent queue orders by it)."""
    if case.status == S.AWAITING_RESPONSE:
        return case.respond_by
    if case.status == S.SETTLEMENT_PROPOSED:
        return case.settlement_reply_by
    if case.status == S.AWAITING_DECISION:
        return case.decide_by if case.handled_at else min(case.handle_by, case.decide_by)
    return None


def _locked(case_id: int | None, expected_version: int | None, case: Case | None = None) -> Case:
    # A caller that already locked the row in this transaction hands it over (saves a read).
    case = case if case is not None else Case.objects.select_for_update().get(pk=case_id)
    if expected_version is not None and case.version != expected_version:
        raise Conflict(
            details={
                "case": case.reference,
                "your_version": expected_version,
                "current_version": case.version,
            }
        )
    return case


def _write(
    case: Case,
    *,
    to: str,
    kind: str,
    actor: Any,
    actor_role: str,
    now: datetime,
    updates: dict[str, Any],
    data: dict[str, Any],
) -> Case:
    """Apply the updates and the status, bump the version, append the event (one place for both entry points)."""
    before, old_version = case.status, case.version
    for field, value in updates.items():
        setattr(case, field, value)
    case.status = to
    case.version = old_version + 1
    case.next_deadline_at = next_deadline(case)
    # The version guard makes the write safe even where row locks are not available (SQLite
    # serialises writers with BEGIN IMMEDIATE instead).
    written = update_where(
        Case,
        {f: getattr(case, f) for f in {*updates, "status", "version", "next_deadline_at"}},
        {"id": case.pk, "version": old_version},
    )
    if written != 1:
        raise Conflict(details={"case": case.reference})
    event_append(
        case=case,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        at=now,
        from_status=before,
        to_status=to,
        data=data,
    )
    return case


def case_transition(
    *,
    case_id: int | None = None,
    case: Case | None = None,
    to: str,
    kind: str,
    actor: Any,
    actor_role: str,
    now: datetime,
    expected_version: int | None = None,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    table: str = "workflow",
) -> Case:
    """Move a case to `to`; raise InvalidTransition or Conflict. Call inside transaction.atomic().

    `table="appeal"` checks the move against APPEAL_TRANSITIONS (only the appeal decision uses it)."""
    case = _locked(case_id, expected_version, case)
    allowed = (
        APPEAL_TRANSITIONS.get(case.status, frozenset()) if table == "appeal" else TRANSITIONS[case.status]
    )
    if to not in allowed:
        raise InvalidTransition(_REFUSALS.get(case.status), details={"from": case.status, "to": to})
    return _write(
        case,
        to=to,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        now=now,
        updates=updates or {},
        data=data or {},
    )


def case_touch(
    *,
    case_id: int | None = None,
    case: Case | None = None,
    kind: str,
    actor: Any,
    actor_role: str,
    now: datetime,
    expected_version: int | None = None,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    require_open: bool = True,
) -> Case:
    """Change fields of a case without changing its status, with an audit event."""
    case = _locked(case_id, expected_version, case)
    if require_open and not case.is_open:
        raise InvalidTransition(_REFUSALS.get(case.status), details={"from": case.status})
    return _write(
        case,
        to=case.status,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        now=now,
        updates=updates or {},
        data=data or {},
    )
