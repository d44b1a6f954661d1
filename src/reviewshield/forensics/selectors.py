"""Who may read a case's forensic report, and what they read of it.

Agents read everything (the records behind each finding, the chart, the suggested tier); the
buyer reads the status and the summary of their own case; the seller reads nothing — the report
is built from the buyer's phone, their contacts and the numbers that called them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reviewshield.cases.models import Case, Side
from reviewshield.cases.selectors import case_get_for_user
from reviewshield.errors import PermissionDenied
from reviewshield.forensics.models import ForensicReport, ReportStatus
from reviewshield.forensics.text import (
    Line,
    error_text,
    kind_name,
    line_text,
    record_type_name,
    rule_text,
    tier_name,
)
from reviewshield.localtime import format_local


def report_latest(case: Case) -> ForensicReport | None:
    """The case's newest report, whatever its status."""
    return ForensicReport.objects.filter(case=case).order_by("-requested_at", "-id").first()


def report_for_user(user: Any, case_id: int) -> tuple[Case, str, ForensicReport | None]:
    """The case, the reader's side and the newest report; NotFound for outsiders, 403 for the seller."""
    case, side = case_get_for_user(user, case_id)
    if side == Side.SELLER:
        raise PermissionDenied(_("Forensic reports are for the buyer and the platform's agents."))
    return case, side, report_latest(case)


def _local(iso: str) -> str:
    return format_local(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC))


def report_view(report: ForensicReport | None, *, side: str, lang: str | None = None) -> dict[str, Any]:
    """The report as `side` may read it, with its sentences in `lang` (the active language)."""
    lang = lang or get_language() or "en"
    if report is None:
        return {"status": "none"}
    view: dict[str, Any] = {
        "id": report.pk,
        "status": report.status,
        "status_label": str(ReportStatus(report.status).label),
        "requested_at": report.requested_at,
        "analysed_at": report.analysed_at,
    }
    if report.status == ReportStatus.FAILED:
        view["error"] = {
            "code": report.error_code,
            "params": report.error_params,
            "message": error_text(report.error_code, report.error_params, lang),
        }
        return view
    if report.status != ReportStatus.DONE:
        return view
    # The suggested tier is for the agent who decides; the buyer reads what was found.
    lines = [line for line in report.summary if side == Side.AGENT or line["code"] != "suggestion"]
    view["summary"] = [line_text(Line(line["code"], line["params"]), lang) for line in lines]
    if side != Side.AGENT:
        return view
    view["suggestion"] = (
        {
            "tier": report.suggested_tier,
            "tier_label": tier_name(report.suggested_tier, lang),
            "rule": report.suggested_rule,
            "rule_text": rule_text(report.suggested_rule, lang),
        }
        if report.suggested_tier
        else None
    )
    view["findings"] = [
        {
            **finding,
            "kind_label": kind_name(finding["kind"], lang),
            "tier_label": tier_name(finding["tier"], lang),
            "start_local": _local(finding["start"]),
            "end_local": _local(finding["end"]),
            "records": [
                {
                    **r,
                    "at_local": _local(r["at"]),
                    "type_label": record_type_name(r["kind"], r["call_type"], lang),
                }
                for r in finding["records"]
            ],
        }
        for finding in report.findings
    ]
    view["correlations"] = report.correlations
    view["counts"] = report.counts
    view["chart_svg"] = report.charts.get("zh-hans" if lang.lower().startswith("zh") else "en", "")
    view["evidence_id"] = report.evidence_id
    view["rules_version"] = report.rules_version
    return view
