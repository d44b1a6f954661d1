"""Every case event is written here: the audit row, and its record queued for the tamper-evident log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reviewshield.cases.models import Case, CaseEvent, CaseEvidence
from reviewshield.evidence.log import log_enqueue
from reviewshield.rawsql import insert_rows


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_record(
    event: Any, reference: str, *, record_type: str = "case_event", subject: str = "case"
) -> dict[str, Any]:
    """The logged record of an audit event; other audit trails (extortion reports) name their own
    `record_type` and the key of what the event belongs to (`subject`)."""
    return {
        "type": record_type,
        "id": event.pk,
        subject: reference,
        "kind": event.kind,
        "at": _utc(event.at),
        "actor": event.actor_id,
        "actor_role": event.actor_role,
        "from": event.from_status,
        "to": event.to_status,
        "data": event.data,
    }


def evidence_record(
    item: Any, reference: str, *, record_type: str = "evidence", subject: str = "case"
) -> dict[str, Any]:
    return {
        "type": record_type,
        "id": item.pk,
        subject: reference,
        "side": item.side,
        "kind": item.kind,
        "sha256": item.sha256,
        # The copy the other side sees, so nobody can swap it unnoticed either.
        "clean_sha256": item.clean_blob_id,
        "size": item.size,
        "content_type": item.content_type,
        "at": _utc(item.created_at),
    }


def event_append(
    *,
    case: Case,
    kind: str,
    actor: Any,
    actor_role: str,
    at: datetime,
    from_status: str = "",
    to_status: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Write one audit event (inside the caller's transaction) and queue it for the log."""
    event = CaseEvent(
        case=case,
        kind=kind,
        actor=actor,
        actor_role=actor_role,
        at=at,
        from_status=from_status,
        to_status=to_status,
        data=data or {},
    )
    insert_rows(CaseEvent, [event], returning_ids=True)  # a plain INSERT: three per complaint's step
    log_enqueue(ref=f"event:{event.pk}", case_id=case.pk, record=event_record(event, case.reference), now=at)
    return event


def evidence_logged(item: CaseEvidence, case: Case) -> None:
    log_enqueue(
        ref=f"evidence:{item.pk}",
        case_id=case.pk,
        record=evidence_record(item, case.reference),
        now=item.created_at,
    )
