"""Forensic reports: requested in the upload's transaction, written by the worker in one transaction.

- `forensics_request` (called by `cases.services` when a buyer's phone export is stored): a
  pending `ForensicReport`, a `forensics.analyse` deadline due now, and a `forensics_requested`
  case event — all in the upload's transaction, so a report is asked for exactly when the file
  was committed.
- `forensics_analyse` (the deadline handler, inside the worker's transaction): reads every phone
  export of the case from the evidence store (streamed, twice: see `forensics.analysis`), then
  writes the report, the report as a new evidence item (canonical JSON, its SHA-256 queued for the
  tamper-evident log) and a `forensics_reported` event — or, for a file that cannot be read, the
  error as codes and a `forensics_failed` event. A person reads why; nothing raises at them.
- `report_findings` is what the alerts read.

The analysis runs inside the worker's batch transaction, like every handler. On SQLite that holds
the write lock while a large export is read (about 10 s for 1,000,000 records on a slow core):
within the 30 s busy timeout and the 60 s lease; PostgreSQL only locks the report's row.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import IO, Any

from django.conf import settings

from reviewshield.cases.audit import event_append, evidence_logged
from reviewshield.cases.models import Case, CaseEvidence, Side
from reviewshield.deadlines.scheduling import deadline_schedule
from reviewshield.detection.services import alert_from_forensics
from reviewshield.evidence.blobs import Staged, blob_open, blobs_staged
from reviewshield.evidence.intake import Prepared, evidence_item_create
from reviewshield.evidence.kinds import Shown
from reviewshield.forensics.analysis import Anchor, Source, analyse
from reviewshield.forensics.models import ForensicReport, ReportStatus
from reviewshield.forensics.parse import ExportError
from reviewshield.forensics.report import build, canonical
from reviewshield.marketplace.models import Review
from reviewshield.outbox.services import notify
from reviewshield.policy.calendar import BUSINESS_TZ
from reviewshield.policy.ruleset import TIER_ORDER
from reviewshield.policystore.services import ruleset_registry

ANALYSE = "forensics.analyse"
PHONE_EXPORT = "phone_export"
FORENSIC_REPORT = "forensic_report"
SYSTEM = "system"


def forensics_request(*, case: Case, evidence: CaseEvidence, user: Any, now: datetime) -> ForensicReport:
    """Ask for a report of the case's phone exports (inside the upload's transaction).

    Several exports stored by one upload share one report: it reads every export of the case."""
    report = ForensicReport.objects.filter(case=case, status=ReportStatus.PENDING, requested_at=now).first()
    if report is not None:
        return report
    report = ForensicReport.objects.create(case=case, requested_by=user, requested_at=now)
    deadline_schedule(kind=ANALYSE, due_at=now, case=case, payload={"report": report.pk})
    event_append(
        case=case,
        kind="forensics_requested",
        actor=user,
        actor_role=Side.BUYER,
        at=now,
        from_status=case.status,
        to_status=case.status,
        data={"report": report.pk, "evidence": evidence.pk},
    )
    return report


def _anchors(case: Case) -> list[Anchor]:
    anchors = []
    review = Review.objects.filter(order_id=case.order_id).first()
    if review is not None:
        anchors.append(Anchor("review", int(review.posted_at.timestamp() * 1000)))
    anchors.append(Anchor("complaint", int(case.filed_at.timestamp() * 1000)))
    return anchors


def _tiers(case: Case) -> Sequence[str]:
    try:
        return tuple(ruleset_registry().get(case.ruleset_id).tiers)
    except Exception:  # a ruleset removed since filing: suggest from every tier
        return TIER_ORDER


def _opener(item: CaseEvidence) -> Source:
    def open_blob() -> contextlib.AbstractContextManager[IO[bytes]]:
        return contextlib.closing(blob_open(item.blob))

    return Source(item.original_name, open_blob)


def forensics_analyse(*, report_id: int, now: datetime) -> str:
    """Analyse and store one requested report (the deadline handler; the caller's transaction)."""
    report = ForensicReport.objects.select_for_update().select_related("case").filter(pk=report_id).first()
    if report is None or report.status != ReportStatus.PENDING:
        return "obsolete"
    case = report.case
    exports = list(
        CaseEvidence.objects.filter(case=case, kind=PHONE_EXPORT, side=Side.BUYER, created_at__lte=now)
        .select_related("blob")
        .order_by("created_at", "id")
    )
    report.exports = [item.pk for item in exports]
    if not exports:
        return _failed(report, "no_records", {"file": ""}, now)
    anchors = _anchors(case)
    try:
        analysis = analyse(
            [_opener(item) for item in exports], tz=BUSINESS_TZ, anchors=anchors, available_tiers=_tiers(case)
        )
    except ExportError as exc:
        return _failed(report, exc.code, exc.params, now)
    except FileNotFoundError:
        return _failed(report, "unreadable", {"file": ", ".join(item.original_name for item in exports)}, now)
    document = build(analysis, tz=BUSINESS_TZ, anchors=anchors)
    # What was read, by hash: the report names the exact files it describes.
    document["case"] = case.reference
    document["exports"] = [
        {"evidence": item.pk, "sha256": item.sha256, "name": item.original_name} for item in exports
    ]
    data = canonical(document)
    prepared = _prepared(data, name=f"forensic-report-{case.reference}-{report.pk}.json")
    try:
        with blobs_staged([prepared.original]):
            evidence = evidence_item_create(
                CaseEvidence, item=prepared, side=Side.AGENT, user=report.requested_by, now=now, case=case
            )
            evidence_logged(evidence, case)
            suggestion = document["suggestion"] or {}
            report.status = ReportStatus.DONE
            report.analysed_at = now
            report.summary = document["summary"]
            report.findings = document["findings"]
            report.correlations = document["correlations"]
            report.counts = {**document["counts"], "period": document["period"], "files": document["files"]}
            report.charts = document["charts"]
            report.suggested_tier = suggestion.get("tier", "")
            report.suggested_rule = suggestion.get("rule", "")
            report.rules_version = document["rules"]["version"]
            report.rules_hash = document["rules"]["hash"]
            report.evidence = evidence
            report.save()
            event_append(
                case=case,
                kind="forensics_reported",
                actor=None,
                actor_role=SYSTEM,
                at=now,
                from_status=case.status,
                to_status=case.status,
                data={
                    "report": report.pk,
                    "evidence": evidence.pk,
                    "sha256": evidence.sha256,
                    "findings": len(document["findings"]),
                    "suggested_tier": report.suggested_tier,
                },
            )
            alert_from_forensics(report=report, findings=report_findings(report), now=now)
            # The buyer hears that the export they gave was read (what it found is on the case page).
            notify(
                recipients=[case.buyer_id],
                kind="case.forensics_reported",
                now=now,
                case=case,
                params={"findings": len(report.findings)},
            )
    finally:
        prepared.discard()
    return "fired"


def _prepared(data: bytes, *, name: str) -> Prepared:
    fd, path = tempfile.mkstemp(prefix="rs-", suffix=".json", dir=settings.FILE_UPLOAD_TEMP_DIR)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    staged = Staged(path, hashlib.sha256(data).hexdigest(), len(data), "application/json", movable=True)
    return Prepared(
        kind=FORENSIC_REPORT,
        name=name,
        description="",
        reference="",
        original=staged,
        clean=None,
        shown=Shown.AGENT_ONLY,
        temp_paths=(path,),
    )


def _failed(report: ForensicReport, code: str, params: dict[str, Any], now: datetime) -> str:
    report.status = ReportStatus.FAILED
    report.analysed_at = now
    report.error_code = code
    report.error_params = {k: v for k, v in params.items() if isinstance(v, (str, int))}
    report.save()
    event_append(
        case=report.case,
        kind="forensics_failed",
        actor=None,
        actor_role=SYSTEM,
        at=now,
        from_status=report.case.status,
        to_status=report.case.status,
        data={"report": report.pk, "error": code, **report.error_params},
    )
    return "fired"


def report_findings(report: ForensicReport) -> list[dict[str, Any]]:
    """The findings of a finished report, without the records behind them — what an alert needs:
    kind ("code_bombing" / "call_flood" / "late_night"), scope ("number" / "many"), start and end
    (UTC ISO-8601), total, senders, nights, numbers, the tier it suggests and the rule."""
    if report.status != ReportStatus.DONE:
        return []
    return [{k: v for k, v in finding.items() if k != "records"} for finding in report.findings]
