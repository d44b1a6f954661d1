from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from reviewshield.policystore import checks, services


@pytest.mark.django_db
def test_admins_are_warned_when_next_year_is_provisional() -> None:
    with time_machine.travel(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), tick=False):
        messages = checks.provisional_calendar()

    assert [m.id for m in messages] == ["policystore.W001"]
    assert messages[0].msg.startswith("Working-day calendar for 2027 is provisional")


@pytest.mark.django_db
def test_an_override_in_that_year_silences_the_warning() -> None:
    services.holiday_override_set(date=datetime(2027, 1, 1, tzinfo=UTC).date(), is_working_day=False)

    with time_machine.travel(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), tick=False):
        assert checks.provisional_calendar() == []


@pytest.mark.django_db
def test_no_warning_while_both_years_are_announced() -> None:
    with time_machine.travel(datetime(2025, 6, 1, tzinfo=UTC), tick=False):
        assert checks.provisional_calendar() == []


def test_shipped_rulesets_pass_the_check() -> None:
    assert checks.rulesets_valid() == []
