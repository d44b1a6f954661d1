"""Forensic report endpoint: what the analysis of a case's phone exports found.

Thin: parse, call one selector, render. Agents read the whole report (findings with the records
behind them, correlation with the review and the complaint, the suggested tier, the chart); the
buyer reads the status and the summary of their own case; a seller is refused — the report is
built from the buyer's phone. Sentences come in the caller's language (Accept-Language).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from reviewshield.api.bounds import Id
from reviewshield.api.cases import ERRORS
from reviewshield.forensics.selectors import report_for_user, report_view
from reviewshield.localtime import iso_local

router = Router(tags=["forensics"])


class ReportError(Schema):
    code: str
    params: dict[str, Any]
    message: str


class Suggestion(Schema):
    tier: str
    tier_label: str
    rule: str
    rule_text: str


class ForensicsOut(Schema):
    status: str  # "none" (no phone export yet), "pending" (analysing), "done", "failed"
    status_label: str | None = None
    requested_at: str | None = None
    analysed_at: str | None = None
    summary: list[str] | None = None
    error: ReportError | None = None
    # Agents only:
    suggestion: Suggestion | None = None
    findings: list[dict[str, Any]] | None = None
    correlations: list[dict[str, Any]] | None = None
    counts: dict[str, Any] | None = None
    chart_svg: str | None = None
    evidence_id: int | None = None
    rules_version: str | None = None


@router.get(
    "/cases/{case_id}/forensics",
    response={200: ForensicsOut, **ERRORS},
    summary="The forensic report of the case's phone exports (agents; the buyer of the case sees the summary)",
)
def case_forensics(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    _case, side, report = report_for_user(request.auth, case_id)  # type: ignore[attr-defined]
    view = report_view(report, side=side)
    for key in ("requested_at", "analysed_at"):
        if view.get(key) is not None:
            view[key] = iso_local(view[key])
    return view
