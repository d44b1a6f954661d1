"""Finding harassment in generated exports: injected bursts are found exactly, ordinary traffic
and record order create nothing, late nights count in the configured zone, anchors correlate,
and the findings suggest the tier the rules say — within the ruleset's tiers."""

from __future__ import annotations

import contextlib
import io
import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.forensics import synthetic
from reviewshield.forensics.analysis import Anchor, Finding, Source, analyse, code_matcher, suggest
from reviewshield.forensics.records import CALL, IN, SMS, Record
from reviewshield.forensics.rules import default_rules
from reviewshield.forensics.text import line_text, summary
from tests.conftest import SHANGHAI, local

MIN = synthetic.MINUTE_MS
HOUR = synthetic.HOUR_MS
DAY = synthetic.DAY_MS
START = int(local(2026, 3, 1, 0, 0).timestamp() * 1000)


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def source(name: str, data: bytes) -> Source:
    return Source(name, lambda: contextlib.closing(io.BytesIO(data)))


def run(records, *, fmt="xml", anchors=(), tz=SHANGHAI, **kwargs):
    if fmt == "csv":
        out = io.StringIO()
        synthetic.write_csv(out, records)
        sources = [source("phone.csv", out.getvalue().encode())]
    else:
        sources = [
            source("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)),
            source("calls.xml", synthetic.as_bytes(synthetic.write_calls_xml, records)),
        ]
    if not any(r.kind == CALL for r in records):
        sources = sources[:1]
    elif not any(r.kind == SMS for r in records) and fmt != "csv":
        sources = sources[1:]
    return analyse(sources, tz=tz, anchors=anchors, **kwargs)


def shape(f: Finding):
    return (f.kind, f.scope, f.start_ms, f.end_ms, f.total, f.senders, f.nights)


def quiet_background(
    seed: int, per_day: int, around: tuple[int, int] = (0, 0), days: int = 30
) -> list[Record]:
    """Ordinary traffic, with nothing in the hour around `around` (where something is injected)."""
    lo, hi = around
    return [
        r
        for r in synthetic.background(random.Random(seed), START, days, per_day)
        if not lo - HOUR <= r.at_ms <= hi + HOUR
    ]


# -- verification codes ---------------------------------------------------------------------------

CODES = [
    ("【美团】您的验证码是483920，5分钟内有效，请勿泄露。", True),
    ("【京东】验证码：4839，您正在登录", True),
    ("Your verification code is 12345678.", True),
    ("[Alipay] OTP 4821, valid for 10 minutes.", True),
    ("Your code is 5521", True),
    ("您的动态密码为 009931", True),
    ("验证码 123", False),  # too short for a code
    ("验证码 123456789", False),  # too long: a phone number, a tracking number
    ("【银行】您尾号1234的卡消费128.00元", False),  # digits, no keyword
    ("【某某商城】会员日全场5折，回T退订", False),
    ("您的快递已到，取件码 5521", False),  # a parcel pick-up code is not a verification code
    ("晚上一起吃饭吗？", False),
    ("", False),
]


@pytest.mark.parametrize(("body", "is_code"), CODES)
def test_what_counts_as_a_verification_code(body, is_code):
    assert code_matcher(default_rules())(body) is is_code


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    per_day=st.integers(1, 40),
    count=st.integers(8, 150),
    gap_s=st.integers(1, 75),
    senders=st.integers(1, 6),
    at_minute=st.integers(0, 20 * 24 * 60),
)
def test_an_injected_code_burst_is_found_with_its_exact_count_range_and_senders(
    seed, per_day, count, gap_s, senders, at_minute
):
    # given: ordinary traffic and a burst at a known time (codes at most 75 s apart: ≥ 8 in 10 min)
    start = START + 5 * DAY + at_minute * MIN
    end = start + (count - 1) * gap_s * 1000
    burst = synthetic.code_burst(random.Random(seed), start, count, gap_s * 1000, senders)
    records = sorted(quiet_background(seed, per_day, (start, end)) + burst, key=lambda r: r.at_ms)
    # when
    analysis = run(records)
    # then
    bombing = [f for f in analysis.findings if f.kind == "code_bombing"]
    assert [shape(f) for f in bombing] == [
        ("code_bombing", "many" if senders > 1 else "number", start, end, count, senders, 0)
    ]
    assert list(bombing[0].records) == burst[:200]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), per_day=st.integers(1, 40), days=st.integers(1, 60))
def test_ordinary_traffic_creates_no_finding(seed, per_day, days):
    analysis = run(list(synthetic.background(random.Random(seed), START, days, per_day)))
    assert analysis.findings == ()
    assert analysis.suggestion is None


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), shuffle_seed=st.integers(0, 10**6))
def test_the_order_of_the_records_changes_nothing(seed, shuffle_seed):
    rng = random.Random(seed)
    at = START + 10 * DAY + 14 * HOUR
    records = [
        *quiet_background(seed, 20, (at, at + 3 * DAY)),
        *synthetic.code_burst(rng, at, 40, 20_000, 3),
        *synthetic.call_flood(at + DAY, 7, 10 * MIN, "17012345678"),
        *synthetic.late_night(ms(local(2026, 3, 13, 23, 30)), 3, "16698765432"),
    ]
    in_order = sorted(records, key=lambda r: r.at_ms)
    shuffled = list(records)
    random.Random(shuffle_seed).shuffle(shuffled)
    expected = [shape(f) for f in run(in_order).findings]
    assert [shape(f) for f in run(shuffled, fmt="csv").findings] == expected
    assert [shape(f) for f in run(list(reversed(in_order))).findings] == expected
    assert len(expected) == 3


# -- calls ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calls", "found"),
    [
        (5, True),  # the threshold
        (4, False),
        (12, True),
    ],
)
def test_one_number_calling_again_and_again(calls, found):
    at = START + 3 * DAY + 15 * HOUR
    records = sorted(
        quiet_background(1, 10, (at, at + DAY)) + synthetic.call_flood(at, calls, 20 * MIN, "17012345678"),
        key=lambda r: r.at_ms,
    )
    floods = [shape(f) for f in run(records).findings]
    assert floods == (
        [("call_flood", "number", at, at + (calls - 1) * 20 * MIN, calls, 1, 0)] if found else []
    )


def test_calls_from_a_contact_count_only_when_rejected():
    at = START + 3 * DAY + 15 * HOUR
    answered = [
        Record(CALL, at + n * 5 * MIN, "13912340001", IN, "incoming", 30, "", "Mum") for n in range(8)
    ]
    rejected = [
        Record(CALL, at + DAY + n * 5 * MIN, "13912340002", IN, "rejected", 0, "", "Landlord")
        for n in range(8)
    ]
    findings = run(answered + rejected).findings
    assert [(f.kind, f.numbers, f.total) for f in findings] == [("call_flood", ("13912340002",), 8)]


def test_many_numbers_calling_at_once_is_one_flood():
    at = START + 3 * DAY + 15 * HOUR
    records = [Record(CALL, at + n * 2 * MIN, f"170{n:08d}", IN, "missed", 0, "", "") for n in range(12)]
    findings = run(records).findings
    assert [shape(f) for f in findings] == [("call_flood", "many", at, at + 11 * 2 * MIN, 12, 12, 0)]
    assert findings[0].tier == "ordinary"


# -- late nights ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("nights", "found"), [(2, False), (3, True), (6, True)])
def test_late_night_contact_repeated_over_nights(nights, found):
    first = ms(local(2026, 3, 10, 23, 40))
    records = synthetic.late_night(first, nights, "16698765432", per_night=2)
    findings = run(records).findings
    if not found:
        assert findings == ()
        return
    assert [shape(f) for f in findings] == [
        ("late_night", "number", first, first + (nights - 1) * DAY + 20 * MIN, 2 * nights, 1, nights)
    ]
    assert (findings[0].tier, findings[0].rule) == ("serious", "repeated_late_night")


def test_a_night_spans_midnight_and_the_time_zone_is_configurable():
    # 23:30 and 01:00 the same night are one night; three nights at 01:00 Beijing time
    nights = [ms(local(2026, 3, d, 1, 0)) for d in (10, 11, 12)]
    records = [Record(SMS, at, "16698765432", IN, "", 0, "还不删差评？", "") for at in nights]
    records.append(Record(SMS, ms(local(2026, 3, 9, 23, 30)), "16698765432", IN, "", 0, "在吗", ""))
    shanghai = run(records).findings
    assert [(f.kind, f.nights, f.total) for f in shanghai] == [("late_night", 3, 4)]
    # 01:00 in Beijing is 18:00 in Berlin: not night there
    assert run(records, tz=ZoneInfo("Europe/Berlin")).findings == ()


def test_a_known_contact_at_night_is_not_harassment():
    records = [
        Record(SMS, ms(local(2026, 3, d, 23, 30)), "13912340001", IN, "", 0, "晚安", "Mum")
        for d in range(1, 9)
    ]
    assert run(records).findings == ()


# -- correlation and suggestion --------------------------------------------------------------------


def test_anchors_give_the_delay_to_the_first_anomaly_and_a_baseline():
    review = START + 20 * DAY + 20 * HOUR
    complaint = review + 2 * DAY
    unknown_before = [
        Record(SMS, START + d * DAY + 12 * HOUR, f"10690{d:05d}", IN, "", 0, "广告", "") for d in range(20)
    ]
    burst = synthetic.code_burst(random.Random(1), review + 90 * MIN, 40, 10_000, 4)
    tail = [Record(SMS, review + 5 * DAY, "13912340001", IN, "", 0, "hi", "Mum")]
    analysis = run(
        unknown_before + burst + tail, anchors=[Anchor("review", review), Anchor("complaint", complaint)]
    )
    on_review, on_complaint = analysis.correlations
    assert (on_review.delay_ms, on_review.first_finding_ms) == (90 * MIN, review + 90 * MIN)
    assert on_review.before_per_day == pytest.approx(20 / 21)
    assert on_review.ratio is not None and on_review.ratio > 5
    assert on_complaint.delay_ms is None  # nothing began after the complaint
    english = [line_text(line, "en") for line in summary(analysis, SHANGHAI)]
    assert "The first anomaly began 1 h 30 min after the buyer's review (2026-03-21 20:00)." in english
    chinese = [line_text(line, "zh-hans") for line in summary(analysis, SHANGHAI)]
    assert "买家评价（2026-03-21 20:00）之后 1 小时 30 分钟出现第一次异常。" in chinese


def finding(kind: str, tier: str, rule: str = "r") -> Finding:
    return Finding(kind, "number", 0, 0, 1, 1, 0, (), (), tier, rule)


@pytest.mark.parametrize(
    ("tiers", "available", "expected"),
    [
        (["ordinary"], ("ordinary", "serious"), "ordinary"),
        (["ordinary", "serious"], ("ordinary", "serious"), "serious"),
        (["serious", "ordinary"], ("ordinary", "serious", "especially_serious"), "serious"),
        (["serious"], ("ordinary",), "ordinary"),  # a ruleset without the tier: the highest below it
        ([], ("ordinary", "serious"), None),
    ],
)
def test_the_suggestion_is_the_highest_tier_the_ruleset_has(tiers, available, expected):
    got = suggest([finding("code_bombing", t) for t in tiers], available)
    assert (got.tier if got else None) == expected


@pytest.mark.parametrize(
    ("count", "tier", "rule"),
    [
        (8, "ordinary", "unexplained_codes"),
        (49, "ordinary", "unexplained_codes"),
        (50, "serious", "large_volume_spam"),
    ],
)
def test_code_bombing_tier_by_volume(count, tier, rule):
    burst = synthetic.code_burst(random.Random(4), START + DAY, count, 5_000, 3)
    (found,) = run(burst).findings
    assert (found.tier, found.rule) == (tier, rule)
    assert run(burst).suggestion.tier == tier


def test_records_behind_a_finding_are_capped_and_the_count_stays_exact():
    burst = synthetic.code_burst(random.Random(5), START + DAY, 450, 1_000, 6)
    (found,) = run(burst).findings
    assert found.total == 450 and len(found.records) == 200
    assert found.records == tuple(burst[:200])


def test_the_summary_reads_in_both_languages_without_codes():
    burst = synthetic.code_burst(random.Random(6), START + DAY, 20, 5_000, 2)
    analysis = run(burst, anchors=[Anchor("review", START)])
    for lang in ("en", "zh-hans"):
        for line in summary(analysis, SHANGHAI):
            text = line_text(line, lang)
            assert "{" not in text and "_" not in text, text


def test_times_in_the_summary_are_beijing_time():
    at = ms(datetime(2026, 3, 5, 15, 0, tzinfo=UTC))  # 23:00 in Beijing
    burst = synthetic.code_burst(random.Random(7), at, 10, 5_000, 2)
    lines = [line_text(line, "en") for line in summary(run(burst), SHANGHAI)]
    assert any("2026-03-05 23:00" in line for line in lines), lines


def test_a_zone_at_a_half_hour_offset_decides_night_by_the_minute():
    # India is UTC+5:30: 21:50 and 22:10 there fall in the same UTC hour, one side of 22:00 each
    kolkata = ZoneInfo("Asia/Kolkata")
    evening = [ms(datetime(2026, 3, d, 21, 50, tzinfo=kolkata)) for d in (10, 11, 12)]
    night = [ms(datetime(2026, 3, d, 22, 10, tzinfo=kolkata)) for d in (10, 11, 12)]
    assert {at // HOUR for at in evening} & {at // HOUR for at in night}

    def texts(times: list[int]) -> list[Record]:
        return [Record(SMS, at, "16698765432", IN, "", 0, "还不删差评？", "") for at in times]

    assert run(texts(evening), tz=kolkata).findings == ()
    assert [(f.kind, f.nights) for f in run(texts(night), tz=kolkata).findings] == [("late_night", 3)]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), per_day=st.integers(1, 60))
def test_xml_and_csv_of_the_same_records_tally_the_same(seed, per_day):
    rng = random.Random(seed)
    records = sorted(
        [
            *synthetic.background(rng, START, 12, per_day),
            *synthetic.code_burst(rng, START + 3 * DAY, 30, 10_000, 4),
            *synthetic.late_night(ms(local(2026, 3, 5, 23, 30)), 3, "16698765432"),
        ],
        key=lambda r: r.at_ms,
    )
    as_xml, as_csv = run(records), run(records, fmt="csv")
    assert (as_xml.sms, as_xml.calls, as_xml.first_ms, as_xml.last_ms) == (
        as_csv.sms,
        as_csv.calls,
        as_csv.first_ms,
        as_csv.last_ms,
    )
    assert as_xml.hours == as_csv.hours
    assert as_xml.findings == as_csv.findings
    # and the tally is what the records say, counted the slow way
    received = [r for r in records if r.direction == IN]
    assert sum(row[0] + row[1] for row in as_xml.hours.values()) == len(received)
    assert sum(row[2] + row[3] for row in as_xml.hours.values()) == sum(1 for r in received if not r.contact)
    assert as_xml.sms == sum(1 for r in records if r.kind == SMS)
