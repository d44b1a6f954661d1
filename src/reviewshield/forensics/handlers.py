"""The deadline handler that analyses a requested forensic report (see `services.forensics_analyse`).

Idempotent: a report that is no longer pending makes the deadline obsolete."""

from __future__ import annotations

from datetime import datetime

from reviewshield.deadlines.models import Deadline
from reviewshield.deadlines.scheduling import register
from reviewshield.forensics.services import ANALYSE, forensics_analyse


@register(ANALYSE)
def analyse_report(deadline: Deadline, now: datetime) -> str:
    return forensics_analyse(report_id=int(deadline.payload.get("report", 0)), now=now)
