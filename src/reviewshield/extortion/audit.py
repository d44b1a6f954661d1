"""Every report event is written here: the audit row, and its record queued for the tamper-evident log.

The records have the complaints' format (`cases.audit`) with their own type and a `report` key;
they belong to no case (`case_id` stays empty), so no complaint's bundle ever carries them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reviewshield.cases.audit import event_record, evidence_record
from reviewshield.evidence.log import log_enqueue
from reviewshield.extortion.models import ExtortionEvent, ExtortionEvidence, ExtortionReport


def event_append(
    *, report: ExtortionReport, at: datetime, data: dict[str, Any] | None = None, **fields: Any
) -> ExtortionEvent:
    """Write one audit event inside the caller's transaction (`fields`: kind, actor, actor_role and
    from_status / to_status, as `cases.models.StatusEvent` has them) and queue it for the log."""
    event = ExtortionEvent.objects.create(report=report, at=at, data=data or {}, **fields)
    record = event_record(event, report.reference, record_type="extortion_event", subject="report")
    log_enqueue(ref=f"extortion_event:{event.pk}", record=record, now=at)
    return event


def evidence_logged(item: ExtortionEvidence, report: ExtortionReport) -> None:
    record = evidence_record(item, report.reference, record_type="extortion_evidence", subject="report")
    log_enqueue(ref=f"extortion_evidence:{item.pk}", record=record, now=item.created_at)
