"""The rules file is validated on load, and the chart is a picture a person can read — escaped,
well-formed SVG with the bars, the findings and the anchors in it."""

from __future__ import annotations

import contextlib
import io
import random
from xml.parsers import expat

import pytest

from reviewshield.forensics import synthetic
from reviewshield.forensics.analysis import Anchor, Source, analyse
from reviewshield.forensics.chart import timeline_svg
from reviewshield.forensics.rules import SHIPPED, RulesError, load, parse
from tests.conftest import SHANGHAI, local

SHIPPED_TEXT = SHIPPED.read_text(encoding="utf-8")


def test_the_shipped_rules_load_and_name_their_version():
    rules = load()
    assert rules.version and rules.content_hash.startswith("sha256:")
    assert rules.is_night(23) and rules.is_night(3) and not rules.is_night(7) and not rules.is_night(21)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("min_count = 8", "min_count = 0"), "code_bombing.min_count"),
        (("from_hour = 22", "from_hour = 25"), "night.from_hour"),
        (
            (
                'tier = "serious"\nrule = "repeated_late_night"',
                'tier = "grave"\nrule = "repeated_late_night"',
            ),
            "tiers[1].tier",
        ),
        (('rule = "repeated_late_night"', 'rule = "because"'), "tiers[1].rule"),
        (("[late_night]", "[latenight]"), ""),
        (('keywords_zh = ["验证码"', 'keywords_zh = ["" '), "codes.keywords_zh"),
    ],
)
def test_a_broken_rules_file_names_the_key(change, key):
    old, new = change
    assert old in SHIPPED_TEXT
    with pytest.raises(RulesError) as caught:
        parse(SHIPPED_TEXT.replace(old, new, 1))
    assert caught.value.key == key


def test_every_finding_kind_needs_a_tier_rule_without_minimums():
    text = SHIPPED_TEXT.replace(
        '[[tiers]]\nfinding = "call_flood"\ntier = "ordinary"\nrule = "abnormal_frequency"\n', ""
    )
    with pytest.raises(RulesError, match="call_flood"):
        parse(text)


def _analysis():
    start = int(local(2026, 3, 1, 0, 0).timestamp() * 1000)
    review = int(local(2026, 3, 10, 20, 0).timestamp() * 1000)
    records = sorted(
        [
            *synthetic.background(random.Random(1), start, 20, 15),
            *synthetic.code_burst(random.Random(1), review + synthetic.HOUR_MS, 80, 10_000, 5),
            *synthetic.call_flood(review + synthetic.DAY_MS, 9, 5 * synthetic.MINUTE_MS, "17012345678"),
        ],
        key=lambda r: r.at_ms,
    )
    sms = synthetic.as_bytes(synthetic.write_sms_xml, records)
    calls = synthetic.as_bytes(synthetic.write_calls_xml, records)
    anchors = [Anchor("review", review), Anchor("complaint", review + 2 * synthetic.DAY_MS)]
    sources = [
        Source("sms.xml", lambda: contextlib.closing(io.BytesIO(sms))),
        Source("calls.xml", lambda: contextlib.closing(io.BytesIO(calls))),
    ]
    return analyse(sources, tz=SHANGHAI, anchors=anchors), [(a.name, a.at_ms) for a in anchors]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "en",
            [
                "SMS and calls received per day (Beijing time)",
                "Review 03-10 20:00",
                "Complaint 03-12 20:00",
                "Finding",
            ],
        ),
        ("zh-hans", ["每天收到的短信和来电（北京时间）", "评价 03-10 20:00", "投诉 03-12 20:00", "异常"]),
    ],
)
def test_the_chart_is_well_formed_svg_with_bars_findings_and_anchors(lang, words):
    analysis, anchors = _analysis()
    svg = timeline_svg(analysis, tz=SHANGHAI, lang=lang, anchors=anchors)
    parser = expat.ParserCreate()
    parser.Parse(svg.encode(), True)  # well-formed: raises otherwise
    for word in words:
        assert word in svg
    assert svg.count('fill="#2563eb"') >= 19  # an SMS bar most days
    assert svg.count('fill-opacity="0.15"><title>') == len(analysis.findings) == 2


def test_the_chart_of_a_short_export_is_hourly_and_says_so():
    analysis, _ = _analysis()
    short = analysis._replace(first_ms=analysis.findings[0].start_ms, last_ms=analysis.findings[0].end_ms)
    assert "per hour" in timeline_svg(short, tz=SHANGHAI, lang="en")


def test_a_hostile_anchor_name_cannot_inject_markup():
    analysis, anchors = _analysis()
    svg = timeline_svg(
        analysis, tz=SHANGHAI, lang="en", anchors=[("<script>alert(1)</script>", anchors[0][1])]
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg


@pytest.mark.parametrize(
    "module",
    ["reviewshield.forensics.analysis", "reviewshield.forensics.report", "reviewshield.forensics.synthetic"],
)
def test_the_core_runs_without_django(module):
    # The benchmark's fresh process and any offline tool analyse an export without a database.
    import subprocess
    import sys

    code = f"import sys, {module}; assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PATH": ""}, check=False
    )
    assert proc.returncode == 0, proc.stderr
