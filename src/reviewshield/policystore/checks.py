"""System checks that tell admins when deadlines rest on a provisional calendar."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError
from django.utils import timezone

from reviewshield.policy import BUSINESS_TZ, RulesetError, WorkCalendar


@checks.register()
def provisional_calendar(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn for this year and the next when neither official data nor overrides exist."""
    from reviewshield.policystore.services import provisional_years

    today = timezone.now().astimezone(BUSINESS_TZ).date()
    try:
        years = provisional_years(today)
    except DatabaseError:
        # Before the first migrate there is no overrides table; judge by the official data alone.
        years = [y for y in (today.year, today.year + 1) if not WorkCalendar.has_official_data(y)]
    return [
        checks.Warning(
            f"Working-day calendar for {year} is provisional: the installed chinesecalendar has no "
            f"official holiday notice for {year} and no holiday overrides exist for it.",
            hint=(
                f"Deadlines reaching into {year} count weekdays as working days and are flagged provisional. "
                "Upgrade chinesecalendar once the State Council publishes the notice, "
                "or add holiday overrides in the admin."
            ),
            id="policystore.W001",
        )
        for year in years
    ]


@checks.register()
def rulesets_valid(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Report a broken ruleset file at start-up rather than at the first complaint."""
    from reviewshield.policystore.services import ruleset_registry

    try:
        ruleset_registry()
    except RulesetError as exc:
        return [
            checks.Error(str(exc), hint="Run `reviewshield policy check FILE.toml`.", id="policystore.E001")
        ]
    return []
