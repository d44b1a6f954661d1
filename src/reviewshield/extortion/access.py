"""Who stands on which side of an extortion report: the same sides as a complaint's."""

from __future__ import annotations

from typing import Any

from reviewshield.cases.access import case_side_for_user
from reviewshield.extortion.models import ExtortionReport


def report_side_for_user(report: ExtortionReport, user: Any) -> str | None:
    """The report's buyer, a seller of its shop, an agent — or None for an outsider."""
    return case_side_for_user(report, user)  # type: ignore[arg-type]
