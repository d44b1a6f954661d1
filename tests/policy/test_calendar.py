from __future__ import annotations

from datetime import date, timedelta

import holidays
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.policy import WorkCalendar

# The official notice of 2025-11-04 (platform-rules.md §5).
HOLIDAYS_2026 = [
    *[date(2026, 1, d) for d in (1, 2, 3)],
    *[date(2026, 2, d) for d in range(15, 24)],
    *[date(2026, 4, d) for d in (4, 5, 6)],
    *[date(2026, 5, d) for d in range(1, 6)],
    *[date(2026, 6, d) for d in (19, 20, 21)],
    *[date(2026, 9, d) for d in (25, 26, 27)],
    *[date(2026, 10, d) for d in range(1, 8)],
]
MAKE_UP_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def test_2026_follows_the_official_notice() -> None:
    calendar = WorkCalendar()

    assert not any(calendar.is_working_day(d) for d in HOLIDAYS_2026)
    assert all(calendar.is_working_day(d) for d in MAKE_UP_2026)
    assert sum(calendar.is_working_day(d) for d in days(date(2026, 1, 1), date(2026, 12, 31))) == 248
    assert not any(calendar.is_provisional(d) for d in days(date(2026, 1, 1), date(2026, 12, 31)))


def test_agrees_with_the_holidays_package_on_every_day_of_2025_and_2026() -> None:
    calendar = WorkCalendar()
    china = holidays.China(years=[2025, 2026])

    for d in days(date(2025, 1, 1), date(2026, 12, 31)):
        expected = d in china.weekend_workdays or (d.weekday() < 5 and d not in china)
        assert calendar.is_working_day(d) == expected, d


def test_a_year_without_official_data_is_provisional_weekdays_working() -> None:
    calendar = WorkCalendar()

    assert not WorkCalendar.has_official_data(2027)
    assert calendar.is_provisional(date(2027, 1, 1))
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday; surely a holiday, but nobody has said so yet
    assert not calendar.is_working_day(date(2027, 1, 2))


def test_an_override_makes_its_day_official() -> None:
    calendar = WorkCalendar({date(2027, 1, 1): False})

    assert not calendar.is_working_day(date(2027, 1, 1))
    assert not calendar.is_provisional(date(2027, 1, 1))
    assert calendar.is_provisional(date(2027, 1, 4))
    assert calendar.years_with_overrides() == {2027}


@given(st.dictionaries(st.dates(date(2024, 1, 1), date(2028, 12, 31)), st.booleans(), max_size=30))
def test_overrides_win_over_official_and_provisional_data(overrides: dict[date, bool]) -> None:
    calendar = WorkCalendar(overrides)

    for d, working in overrides.items():
        assert calendar.is_working_day(d) is working
        assert not calendar.is_provisional(d)
