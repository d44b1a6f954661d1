from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reviewshield.policy import (
    BUSINESS_TZ,
    OrderFacts,
    RulesetRegistry,
    WorkCalendar,
    assess_filing,
    reason_text,
)

REGISTRY = RulesetRegistry.load()
TAOBAO_2013 = REGISTRY.get("taobao-2013")
CAL = WorkCalendar()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def order(
    channel: str = "taobao", status: str = "trade_success", success: str | None = "2026-09-25T10:00+08:00"
) -> OrderFacts:
    return OrderFacts(
        channel=channel, status=status, trade_success_at=at(success) if success else None, paid_at=None
    )


def local(instant: datetime) -> str:
    return instant.astimezone(BUSINESS_TZ).isoformat(timespec="minutes")


def test_filed_at_the_last_instant_of_the_window_is_eligible() -> None:
    assessment = assess_filing(
        TAOBAO_2013, order(), filed_at=at("2026-10-10T10:00+08:00"), notified_at=None, calendar=CAL
    )

    assert assessment.eligible
    assert assessment.reason_code is None
    assert local(assessment.deadlines["filing_window_ends"].at) == "2026-10-10T10:00+08:00"


def test_filed_one_minute_late_is_refused_naming_the_window_end() -> None:
    assessment = assess_filing(
        TAOBAO_2013, order(), filed_at=at("2026-10-10T10:01+08:00"), notified_at=None, calendar=CAL
    )

    assert not assessment.eligible
    assert assessment.reason_code == "window_passed"
    assert assessment.reason_params["window_end"] == "2026-10-10T10:00:00+08:00"
    assert reason_text(assessment.reason_code, assessment.reason_params, "en") == (
        "The 15-day complaint window ended at 2026-10-10 10:00 (UTC+8). Ask an agent for assisted filing."
    )
    assert reason_text(assessment.reason_code, assessment.reason_params, "zh-hans") == (
        "15天的投诉期已于 2026-10-10 10:00（北京时间）结束。请联系客服小二协助发起投诉。"
    )
    assert "respond_by" not in assessment.deadlines


def test_an_assisted_complaint_skips_the_window_check_only() -> None:
    late = at("2026-11-30T10:00+08:00")

    assisted = assess_filing(
        TAOBAO_2013, order(), filed_at=late, notified_at=None, calendar=CAL, assisted=True
    )
    tmall = assess_filing(
        TAOBAO_2013, order("tmall"), filed_at=late, notified_at=None, calendar=CAL, assisted=True
    )

    assert assisted.eligible
    assert tmall.reason_code == "excluded_channel"


def test_deadlines_of_a_complaint_filed_before_the_national_day_holiday() -> None:
    filed = at("2026-09-30T15:00+08:00")

    assessment = assess_filing(TAOBAO_2013, order(), filed_at=filed, notified_at=filed, calendar=CAL)

    assert {name: local(result.at) for name, result in assessment.deadlines.items()} == {
        "filing_window_ends": "2026-10-10T10:00+08:00",
        "respond_by": "2026-10-03T15:00+08:00",
        "handle_by": "2026-10-11T00:00+08:00",  # 3rd working day: make-up Saturday 10/10
        "decide_by": "2026-10-14T00:00+08:00",
    }
    assert assessment.provisional == []


def test_a_deadline_reaching_into_2027_is_provisional() -> None:
    filed = at("2026-12-28T15:00+08:00")

    assessment = assess_filing(
        TAOBAO_2013, order(success="2026-12-20T10:00+08:00"), filed_at=filed, notified_at=filed, calendar=CAL
    )

    assert local(assessment.deadlines["handle_by"].at) == "2027-01-01T00:00+08:00"
    assert assessment.provisional == ["decide_by"]


def test_a_tmall_order_is_excluded_under_taobao_rules() -> None:
    assessment = assess_filing(
        TAOBAO_2013, order("tmall"), filed_at=at("2026-09-26T10:00+08:00"), notified_at=None, calendar=CAL
    )

    assert (assessment.eligible, assessment.reason_code) == (False, "excluded_channel")
    assert assessment.reason_params == {"channel": "tmall"}
    assert (
        reason_text("excluded_channel", assessment.reason_params, "zh-hans") == "此规则不受理天猫订单的投诉。"
    )


@pytest.mark.parametrize(
    ("status", "success"), [("shipped", None), ("trade_closed", "2026-09-25T10:00+08:00")]
)
def test_an_order_not_in_trade_success_is_refused(status: str, success: str | None) -> None:
    assessment = assess_filing(
        TAOBAO_2013,
        order(status=status, success=success),
        filed_at=at("2026-09-26T10:00+08:00"),
        notified_at=None,
        calendar=CAL,
    )

    assert (assessment.eligible, assessment.reason_code) == (False, "not_trade_success")
    assert status in reason_text("not_trade_success", assessment.reason_params, "en")


def test_any_offset_gives_the_same_assessment() -> None:
    variants = [
        ("2026-09-25T10:00+08:00", "2026-09-30T15:00+08:00"),
        ("2026-09-25T02:00Z", "2026-09-30T07:00Z"),
        ("2026-09-24T21:00-05:00", "2026-09-30T02:00-05:00"),
    ]

    results = set()
    for success, filed in variants:
        assessment = assess_filing(
            TAOBAO_2013, order(success=success), filed_at=at(filed), notified_at=at(filed), calendar=CAL
        )
        results.add(tuple((name, r.at, r.provisional) for name, r in assessment.deadlines.items()))

    assert len(results) == 1
    assert all(r[1].tzinfo is UTC for r in next(iter(results)))


def test_jd_respond_window_is_48_hours() -> None:
    jd = REGISTRY.get("jd-2023")
    filed = at("2026-10-09T17:00+08:00")

    assessment = assess_filing(
        jd, order("jd", success="2026-10-05T10:00+08:00"), filed_at=filed, notified_at=filed, calendar=CAL
    )

    assert local(assessment.deadlines["respond_by"].at) == "2026-10-11T17:00+08:00"


def test_reason_text_falls_back_to_english_for_other_languages() -> None:
    assert reason_text("excluded_channel", {"channel": "tmall"}, "fr").startswith(
        "Complaints about Tmall orders"
    )
    assert reason_text("excluded_channel", {"channel": "tmall"}, "zh").startswith("此规则")
