"""`{% forensic_report case side %}`: the case's forensic report as `side` may read it.

One tag so each portal's case page needs one line, and the seller's page never calls it."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import get_language

from reviewshield.cases.models import Side
from reviewshield.forensics.selectors import report_latest, report_view

register = template.Library()


@register.inclusion_tag("forensics/report.html")
def forensic_report(case: Any, side: str) -> dict[str, Any]:
    if side not in (Side.AGENT, Side.BUYER):
        return {"report": None, "side": side}  # the seller reads nothing of it
    return {
        "report": report_view(report_latest(case), side=side, lang=get_language()),
        "side": side,
        "case": case,
    }
