from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.urls import reverse

from reviewshield.policystore import services
from reviewshield.policystore.models import HolidayOverride


@pytest.fixture
def admin_client_(client: Any, db: Any) -> Any:
    from reviewshield.accounts.models import Role, User

    # No password: hashing one costs seconds per test, and force_login does not need it.
    root = User.objects.create(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(root)
    return client


def test_the_admin_lists_and_searches_overrides(admin_client_: Any) -> None:
    services.holiday_override_set(date=date(2027, 1, 1), is_working_day=False, note="New Year 元旦")
    services.holiday_override_set(date=date(2027, 2, 6), is_working_day=True, note="make-up day")

    response = admin_client_.get(reverse("admin:policystore_holidayoverride_changelist"), {"q": "元旦"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [HolidayOverride.objects.get(date=date(2027, 1, 1))]


def test_adding_in_the_admin_goes_through_the_service_and_clears_the_cache(admin_client_: Any) -> None:
    assert services.work_calendar().is_working_day(date(2027, 1, 1))

    response = admin_client_.post(
        reverse("admin:policystore_holidayoverride_add"),
        {"date": "2027-01-01", "note": "元旦"},  # an unticked box: not a working day
    )

    assert response.status_code == 302
    assert not services.work_calendar().is_working_day(date(2027, 1, 1))


def test_changing_the_date_in_the_admin_moves_the_override(admin_client_: Any) -> None:
    override = services.holiday_override_set(date=date(2027, 1, 1), is_working_day=False)

    response = admin_client_.post(
        reverse("admin:policystore_holidayoverride_change", args=[override.pk]),
        {"date": "2027-01-04", "is_working_day": "on", "note": "moved"},
    )

    assert response.status_code == 302
    assert list(HolidayOverride.objects.values_list("date", "is_working_day")) == [(date(2027, 1, 4), True)]
    calendar = services.work_calendar()
    assert calendar.is_provisional(date(2027, 1, 1)) and not calendar.is_provisional(date(2027, 1, 4))


def test_deleting_in_the_admin_clears_the_cache(admin_client_: Any) -> None:
    override = services.holiday_override_set(date=date(2027, 1, 1), is_working_day=False)

    response = admin_client_.post(
        reverse("admin:policystore_holidayoverride_delete", args=[override.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert services.work_calendar().is_working_day(date(2027, 1, 1))


def test_bulk_delete_in_the_admin_goes_through_the_service(admin_client_: Any) -> None:
    ids = [services.holiday_override_set(date=date(2027, 1, d), is_working_day=False).pk for d in (1, 2)]

    response = admin_client_.post(
        reverse("admin:policystore_holidayoverride_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert response.status_code == 302
    assert not HolidayOverride.objects.exists()
    assert services.work_calendar().is_working_day(date(2027, 1, 1))
