from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.test import override_settings

from reviewshield.policy import RulesetError
from reviewshield.policy.ruleset import SHIPPED_DIR
from reviewshield.policystore import services
from reviewshield.policystore.models import HolidayOverride

NEW_YEAR_2027 = date(2027, 1, 1)


@pytest.mark.django_db
def test_work_calendar_reflects_an_override_as_soon_as_it_is_set_and_deleted() -> None:
    assert services.work_calendar().is_working_day(NEW_YEAR_2027)  # provisional: a Friday

    services.holiday_override_set(date=NEW_YEAR_2027, is_working_day=False, note="元旦")
    assert not services.work_calendar().is_working_day(NEW_YEAR_2027)
    assert not services.work_calendar().is_provisional(NEW_YEAR_2027)

    assert services.holiday_override_delete(date=NEW_YEAR_2027)
    assert services.work_calendar().is_working_day(NEW_YEAR_2027)
    assert not services.holiday_override_delete(date=NEW_YEAR_2027)


@pytest.mark.django_db
def test_setting_an_override_twice_replaces_it() -> None:
    services.holiday_override_set(date=NEW_YEAR_2027, is_working_day=False)
    services.holiday_override_set(date=NEW_YEAR_2027, is_working_day=True, note="changed")

    assert HolidayOverride.objects.get().note == "changed"
    assert services.work_calendar().is_working_day(NEW_YEAR_2027)


@pytest.mark.django_db
def test_work_calendar_notices_a_write_made_by_another_process() -> None:
    services.work_calendar()  # warm the cache

    # Another process (the admin in the web server) writes without clearing our cache.
    HolidayOverride.objects.create(date=date(2026, 10, 12), is_working_day=False)

    assert not services.work_calendar().is_working_day(date(2026, 10, 12))


@pytest.mark.django_db
def test_work_calendar_is_cached_between_calls(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    services.work_calendar()

    with django_assert_num_queries(1):  # only the freshness fingerprint
        services.work_calendar()


@pytest.mark.django_db
def test_provisional_years_until_overrides_exist() -> None:
    assert services.provisional_years(date(2026, 11, 21)) == [2027]
    assert services.provisional_years(date(2025, 6, 1)) == []

    services.holiday_override_set(date=NEW_YEAR_2027, is_working_day=False)

    assert services.provisional_years(date(2026, 11, 21)) == []


def test_ruleset_registry_loads_extra_folders_from_settings(tmp_path: Path) -> None:
    text = (SHIPPED_DIR / "taobao-2021.toml").read_text(encoding="utf-8")
    (tmp_path / "taobao-2030.toml").write_text(
        text.replace('id = "taobao-2021"', 'id = "taobao-2030"').replace(
            "2021-12-28T00:00:00+08:00", "2030-01-01"
        ),
        encoding="utf-8",
    )

    with override_settings(REVIEWSHIELD_RULESET_DIRS=[str(tmp_path)]):
        assert services.ruleset_registry().get("taobao-2030").platform == "taobao"
    with pytest.raises(RulesetError):
        services.ruleset_registry().get("taobao-2030")
    assert services.ruleset_registry() is services.ruleset_registry()
