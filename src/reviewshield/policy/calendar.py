"""The Chinese working-day calendar: official yearly notices (chinesecalendar) plus admin overrides."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped]

BUSINESS_TZ = ZoneInfo("Asia/Shanghai")


class WorkCalendar:
    """Tell working days (工作日) from days off; overrides win over the official data.

    For a year the State Council has not announced yet, weekdays count as working days and weekends
    as days off, and such days are reported as provisional so deadlines built on them can be flagged.
    """

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides: Mapping[date, bool] = MappingProxyType(dict(overrides or {}))

    def is_working_day(self, d: date) -> bool:
        """Return True when d is a working day (a make-up weekend day 调休 included)."""
        if d in self.overrides:
            return self.overrides[d]
        official = _official_is_workday(d)
        return d.weekday() < 5 if official is None else official

    def is_provisional(self, d: date) -> bool:
        """Return True when d has neither official data nor an override."""
        return d not in self.overrides and not self.has_official_data(d.year)

    @staticmethod
    def has_official_data(year: int) -> bool:
        """Return True when the installed chinesecalendar knows that year's notice."""
        return _official_is_workday(date(year, 1, 1)) is not None

    def years_with_overrides(self) -> set[int]:
        """Return the years in which at least one day is overridden."""
        return {d.year for d in self.overrides}


@lru_cache(maxsize=8192)
def _official_is_workday(d: date) -> bool | None:
    # Kept per process: the installed package's data never change while it runs, and its own
    # check of each date cost more than the rest of counting a complaint's working days.
    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:  # chinesecalendar's way of saying "no notice for that year"
        return None
