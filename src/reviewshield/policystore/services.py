"""Rulesets and the working-day calendar for the Django side, cached per process.

The calendar cache is cleared by the override services below; other processes (workers) see a
changed override through a one-query fingerprint (count and latest update) checked on every call.
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

from django.conf import settings
from django.db import transaction

from reviewshield.policy import RulesetRegistry, WorkCalendar
from reviewshield.policystore.models import HolidayOverride
from reviewshield.rawsql import rows

_lock = threading.Lock()
_registries: dict[tuple[str, ...], RulesetRegistry] = {}
_calendar: tuple[tuple[int, dt.datetime | None], WorkCalendar] | None = None


def ruleset_registry() -> RulesetRegistry:
    """Return the shipped rulesets plus those in settings.REVIEWSHIELD_RULESET_DIRS; raise RulesetError if one is broken."""
    dirs = tuple(str(d) for d in getattr(settings, "REVIEWSHIELD_RULESET_DIRS", ()))
    with _lock:
        if dirs not in _registries:
            _registries[dirs] = RulesetRegistry.load([Path(d) for d in dirs])
        return _registries[dirs]


def work_calendar() -> WorkCalendar:
    """Return the working-day calendar with the admins' overrides."""
    global _calendar
    # One plain read (every filing asks): the ORM built its aggregate for longer than it ran.
    (fingerprint,) = rows(f"SELECT COUNT(id), MAX(updated_at) FROM {HolidayOverride._meta.db_table}")
    with _lock:
        if _calendar is None or _calendar[0] != fingerprint:
            overrides = dict(HolidayOverride.objects.values_list("date", "is_working_day"))
            _calendar = (fingerprint, WorkCalendar(overrides))
        return _calendar[1]


def _calendar_forget() -> None:
    global _calendar
    with _lock:
        _calendar = None


@transaction.atomic
def holiday_override_set(*, date: dt.date, is_working_day: bool, note: str = "") -> HolidayOverride:
    """Create or replace the override for date; clears the calendar cache."""
    override, _ = HolidayOverride.objects.update_or_create(
        date=date, defaults={"is_working_day": is_working_day, "note": note}
    )
    _calendar_forget()
    return override


@transaction.atomic
def holiday_override_delete(*, date: dt.date) -> bool:
    """Delete the override for date if there is one; clears the calendar cache. Return whether one existed."""
    deleted, _ = HolidayOverride.objects.filter(date=date).delete()
    _calendar_forget()
    return deleted > 0


def provisional_years(today: dt.date) -> list[int]:
    """Return the years among this one and the next that have no official data and no overrides."""
    calendar = work_calendar()
    overridden = calendar.years_with_overrides()
    return [
        year
        for year in (today.year, today.year + 1)
        if not WorkCalendar.has_official_data(year) and year not in overridden
    ]
