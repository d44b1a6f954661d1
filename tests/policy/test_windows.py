from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.policy import BUSINESS_TZ, Window, WorkCalendar, window_end

CAL = WorkCalendar()
WORKING_HOURS = Window("working_hours", 4, "hours", time(9), time(18))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def local(result_at: datetime) -> str:
    return result_at.astimezone(BUSINESS_TZ).isoformat(timespec="minutes")


def test_a_calendar_window_is_an_exact_duration_in_utc() -> None:
    result = window_end(Window("calendar", 15, "days"), at("2026-09-25T10:00+08:00"), CAL)

    assert result.at == datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
    assert result.at.tzinfo is UTC
    assert not result.provisional


def test_a_calendar_window_in_hours() -> None:
    result = window_end(Window("calendar", 72, "hours"), at("2026-09-30T15:00+08:00"), CAL)

    assert local(result.at) == "2026-10-03T15:00+08:00"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1, "2026-10-09T00:00+08:00"),  # 10/1–10/7 off, so 10/8 is the first working day
        (3, "2026-10-11T00:00+08:00"),  # the third is make-up Saturday 10/10
        (4, "2026-10-13T00:00+08:00"),  # Sunday 10/11 is off again
        (5, "2026-10-14T00:00+08:00"),
    ],
)
def test_working_days_end_at_midnight_after_the_nth_working_day(amount: int, expected: str) -> None:
    result = window_end(Window("working_days", amount, "days"), at("2026-09-30T15:00+08:00"), CAL)

    assert local(result.at) == expected
    assert not result.provisional


def test_the_trigger_day_does_not_count_even_at_one_minute_past_midnight() -> None:
    result = window_end(Window("working_days", 1, "days"), at("2026-10-12T00:01+08:00"), CAL)

    assert local(result.at) == "2026-10-14T00:00+08:00"


def test_working_days_counted_in_beijing_time_not_utc() -> None:
    # 2026-10-12T17:00Z is already Tuesday 10/13 01:00 in Beijing.
    result = window_end(Window("working_days", 1, "days"), at("2026-10-12T17:00Z"), CAL)

    assert local(result.at) == "2026-10-15T00:00+08:00"


def test_jd_working_hours_carry_over_to_the_make_up_saturday() -> None:
    result = window_end(WORKING_HOURS, at("2026-10-09T17:00+08:00"), CAL)

    assert local(result.at) == "2026-10-10T12:00+08:00"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-10-12T07:00+08:00", "2026-10-12T13:00+08:00"),  # before opening: the clock starts at 9:00
        ("2026-10-12T14:00+08:00", "2026-10-12T18:00+08:00"),  # exactly fills the day
        ("2026-10-12T18:30+08:00", "2026-10-13T13:00+08:00"),  # after closing
        ("2026-09-30T16:00+08:00", "2026-10-08T11:00+08:00"),  # over the national-day holiday
    ],
)
def test_working_hours_count_only_the_working_day(start: str, expected: str) -> None:
    assert local(window_end(WORKING_HOURS, at(start), CAL).at) == expected


def test_working_hours_use_the_window_day() -> None:
    window = Window("working_hours", 2, "hours", time(8, 30), time(17, 30))

    assert local(window_end(window, at("2026-10-12T17:00+08:00"), CAL).at) == "2026-10-13T10:00+08:00"


def test_only_days_judged_make_a_deadline_provisional() -> None:
    start = at("2026-12-28T15:00+08:00")

    three = window_end(Window("working_days", 3, "days"), start, CAL)
    five = window_end(Window("working_days", 5, "days"), start, CAL)

    assert (local(three.at), three.provisional) == ("2027-01-01T00:00+08:00", False)
    assert five.provisional


def test_an_override_removes_the_provisional_flag_and_shifts_the_day() -> None:
    start = at("2026-12-31T10:00+08:00")
    # Every day judged on the way (the weekend included) needs an override to be certain.
    calendar = WorkCalendar({date(2027, 1, d): d == 4 for d in (1, 2, 3, 4)})

    result = window_end(Window("working_days", 1, "days"), start, calendar)

    assert (local(result.at), result.provisional) == ("2027-01-05T00:00+08:00", False)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        window_end(Window("calendar", 1, "days"), datetime(2026, 1, 1), CAL)  # noqa: DTZ001


@pytest.mark.parametrize("kind", ["calendar", "working_days", "working_hours"])
def test_any_offset_gives_the_same_instant(kind: str) -> None:
    window = Window(kind, 3, "days" if kind != "working_hours" else "hours")  # type: ignore[arg-type]
    forms = [
        "2026-09-30T15:00+08:00",
        "2026-09-30T07:00Z",
        "2026-09-30T07:00+00:00",
        "2026-09-30T02:00-05:00",
    ]

    assert len({window_end(window, at(text), CAL).at for text in forms}) == 1


# --- properties -------------------------------------------------------------------------------

# Hypothesis wants naive bounds and attaches the zone itself.
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, BUSINESS_TZ]),
)
overrides = st.dictionaries(st.dates(date(2025, 1, 1), date(2028, 3, 31)), st.booleans(), max_size=20)


def _calendar(extra: dict[date, bool]) -> WorkCalendar:
    return WorkCalendar(extra)


@given(instants, st.integers(1, 30), overrides)
def test_a_working_day_deadline_ends_with_a_working_day(
    start: datetime, amount: int, extra: dict[date, bool]
) -> None:
    calendar = _calendar(extra)

    end = window_end(Window("working_days", amount, "days"), start, calendar).at.astimezone(BUSINESS_TZ)

    assert end.time() == time(0)
    last_day = (end - timedelta(days=1)).date()
    assert calendar.is_working_day(last_day)
    # Exactly `amount` working days lie strictly after the trigger day, up to and including the last day.
    trigger_day = start.astimezone(BUSINESS_TZ).date()
    counted = [trigger_day + timedelta(days=i) for i in range(1, (last_day - trigger_day).days + 1)]
    assert sum(calendar.is_working_day(d) for d in counted) == amount


@given(instants, st.integers(1, 40), overrides)
def test_a_working_hours_deadline_lies_inside_a_working_day(
    start: datetime, amount: int, extra: dict[date, bool]
) -> None:
    calendar = _calendar(extra)

    end = window_end(Window("working_hours", amount, "hours"), start, calendar).at
    end_local = end.astimezone(BUSINESS_TZ)

    assert calendar.is_working_day(end_local.date())
    assert time(9) < end_local.time() <= time(18)


@given(
    st.sampled_from(
        [
            Window("calendar", 15, "days"),
            Window("calendar", 72, "hours"),
            Window("working_days", 1, "days"),
            Window("working_days", 5, "days"),
            Window("working_hours", 4, "hours"),
            Window("working_hours", 13, "hours"),
        ]
    ),
    instants,
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    overrides,
)
def test_a_later_trigger_never_gives_an_earlier_deadline(
    window: Window, start: datetime, delay: timedelta, extra: dict[date, bool]
) -> None:
    calendar = _calendar(extra)

    assert window_end(window, start, calendar).at <= window_end(window, start + delay, calendar).at
