"""Where a window ends: calendar durations, working days and working hours (PRODUCT.md, "Time")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from reviewshield.policy.calendar import BUSINESS_TZ, WorkCalendar
from reviewshield.policy.ruleset import Window


@dataclass(frozen=True)
class DeadlineResult:
    at: datetime  # aware, UTC; the window includes this instant
    provisional: bool  # some day judged on the way lies in a year without official data


def window_end(window: Window, start: datetime, calendar: WorkCalendar) -> DeadlineResult:
    """Return the last instant of a window opened at start."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be an aware datetime (got {start.isoformat()})")
    if window.kind == "calendar":
        # An exact duration: no day is judged, so a calendar window is never provisional.
        step = timedelta(days=window.amount) if window.unit == "days" else timedelta(hours=window.amount)
        return DeadlineResult((start + step).astimezone(UTC), provisional=False)
    if window.kind == "working_days":
        return _working_days_end(window.amount, start.astimezone(BUSINESS_TZ).date(), calendar)
    return _working_hours_end(window, start.astimezone(BUSINESS_TZ), calendar)


def _working_days_end(amount: int, trigger_day: date, calendar: WorkCalendar) -> DeadlineResult:
    # The trigger day does not count (Civil Code art. 201); the window ends at 24:00 of the Nth
    # working day after it, which is 00:00 of the following day.
    day = trigger_day
    counted = 0
    provisional = False
    while counted < amount:
        day += timedelta(days=1)
        provisional = provisional or calendar.is_provisional(day)
        if calendar.is_working_day(day):
            counted += 1
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ)
    return DeadlineResult(end.astimezone(UTC), provisional)


def _working_hours_end(window: Window, start: datetime, calendar: WorkCalendar) -> DeadlineResult:
    remaining = timedelta(hours=window.amount)
    cursor = start
    provisional = False
    while True:
        day = cursor.date()
        provisional = provisional or calendar.is_provisional(day)
        if calendar.is_working_day(day):
            opens = max(cursor, datetime.combine(day, window.day_start, tzinfo=BUSINESS_TZ))
            closes = datetime.combine(day, window.day_end, tzinfo=BUSINESS_TZ)
            if opens < closes:
                if remaining <= closes - opens:
                    return DeadlineResult((opens + remaining).astimezone(UTC), provisional)
                remaining -= closes - opens
        cursor = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ)
