"""The report's timeline chart: SMS and calls received per day (or hour), findings shaded, anchors marked.

PURE. Hand-written SVG rather than a plotting library: the chart is a few dozen rectangles and
lines, it must be byte-for-byte reproducible (it is hashed into the evidence log), it is embedded
inline in the agent's page, so every piece of text in it must be escaped by us, and a library
(matplotlib: ~40 MB with numpy, non-deterministic ids in its SVG) would be the heaviest dependency
of the project for one picture. Every string that enters the SVG goes through `_esc`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Final
from xml.sax.saxutils import escape, quoteattr

from reviewshield.forensics.analysis import DAY_MS, HOUR_MS, SERIES, Analysis
from reviewshield.forensics.text import kind_name

WIDTH: Final = 960
HEIGHT: Final = 340
LEFT, RIGHT, TOP, BOTTOM = 56, 20, 56, 64
WINDOW_DAYS: Final = 28  # around the first anchor or finding, when the export is longer
HOURLY_UP_TO_DAYS: Final = 4
ANCHOR_REACH_DAYS: Final = 7  # the chart runs on to an anchor this close after the last record
SMS_COLOUR: Final = "#2563eb"
CALL_COLOUR: Final = "#f59e0b"
FINDING_COLOUR: Final = "#dc2626"
ANCHOR_COLOUR: Final = "#111827"

_WORDS: Final = {
    "en": {
        "title_day": "SMS and calls received per day ({tz})",
        "title_hour": "SMS and calls received per hour ({tz})",
        "sms": "SMS",
        "calls": "Calls",
        "finding": "Finding",
        "review": "Review",
        "complaint": "Complaint",
        "occurred": "Harassment reported",
        "empty": "No records in this period",
    },
    "zh-hans": {
        "title_day": "每天收到的短信和来电（{tz}）",
        "title_hour": "每小时收到的短信和来电（{tz}）",
        "sms": "短信",
        "calls": "来电",
        "finding": "异常",
        "review": "评价",
        "complaint": "投诉",
        "occurred": "所述骚扰",
        "empty": "此期间没有记录",
    },
}
_TZ_NAMES: Final = {"Asia/Shanghai": {"en": "Beijing time", "zh-hans": "北京时间"}}


def _esc(text: str) -> str:
    return escape(text)


def _offset(at_ms: int, tz: tzinfo) -> int:
    delta = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(tz).utcoffset()
    return int(delta.total_seconds() * 1000) if delta else 0


def _window(analysis: Analysis, anchors_ms: Sequence[int]) -> tuple[int, int]:
    first, last = analysis.first_ms, analysis.last_ms
    # An anchor just after the export ends (the complaint, filed the next morning) still belongs
    # in the picture: the empty days up to it say something too.
    last = max([last, *(at for at in anchors_ms if last < at <= last + ANCHOR_REACH_DAYS * DAY_MS)])
    if last - first <= 2 * WINDOW_DAYS * DAY_MS:
        return first, last
    marks = [*anchors_ms, *(f.start_ms for f in analysis.findings)]
    focus = min((m for m in marks if first <= m <= last), default=last - WINDOW_DAYS * DAY_MS)
    lo = max(first, focus - WINDOW_DAYS * DAY_MS)
    return lo, min(last, lo + 2 * WINDOW_DAYS * DAY_MS)


def timeline_svg(
    analysis: Analysis, *, tz: tzinfo, lang: str, anchors: Sequence[tuple[str, int]] = ()
) -> str:
    """The chart as an SVG document (a string), in `lang` ("zh-hans" or "en")."""
    lang = "zh-hans" if lang.lower().startswith("zh") else "en"
    words = _WORDS[lang]
    tz_name = _TZ_NAMES.get(str(tz), {}).get(lang, str(tz))
    lo, hi = _window(analysis, [at for _, at in anchors])
    hourly = hi - lo <= HOURLY_UP_TO_DAYS * DAY_MS
    step = HOUR_MS if hourly else DAY_MS
    base_offset = _offset(lo, tz)
    start = (lo + base_offset) // step * step - base_offset  # bucket edges at local midnight / full hours
    buckets = max(1, -(-(hi + 1 - start) // step))
    sms = [0] * buckets
    calls = [0] * buckets
    sms_i, calls_i = SERIES.index("sms_in"), SERIES.index("calls_in")
    for hour, row in analysis.hours.items():
        at = hour * HOUR_MS
        index = (at + _offset(at, tz) - (start + base_offset)) // step
        if 0 <= index < buckets:
            sms[index] += row[sms_i]
            calls[index] += row[calls_i]
    peak = max((s + c for s, c in zip(sms, calls, strict=True)), default=0)
    top = max(1, _nice(peak))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    end = start + buckets * step

    def x(at_ms: int) -> float:
        return LEFT + (at_ms - start) / (end - start) * plot_w

    def y(value: int) -> float:
        return TOP + plot_h - value / top * plot_h

    title = words["title_hour" if hourly else "title_day"].format(tz=tz_name)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
        f'height="{HEIGHT}" role="img" aria-label={quoteattr(title)} font-family="sans-serif" font-size="12">',
        f"<title>{_esc(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold" fill="#111827">{_esc(title)}</text>',
    ]
    # legend
    legend = [
        (SMS_COLOUR, words["sms"], 1.0),
        (CALL_COLOUR, words["calls"], 1.0),
        (FINDING_COLOUR, words["finding"], 0.15),
    ]
    lx = LEFT
    for colour, label, opacity in legend:
        out.append(f'<rect x="{lx}" y="32" width="12" height="12" fill="{colour}" fill-opacity="{opacity}"/>')
        out.append(f'<text x="{lx + 16}" y="42" fill="#374151">{_esc(label)}</text>')
        lx += 24 + 8 * max(len(label), 4)
    # findings, behind the bars
    for n, finding in enumerate(analysis.findings, 1):
        if finding.end_ms < start or finding.start_ms > end:
            continue
        # Shade whole buckets, so a finding lines up with the bars it is part of.
        first_bucket = (finding.start_ms - start) // step
        last_bucket = (finding.end_ms - start) // step + 1
        x0 = max(LEFT, x(start + first_bucket * step))
        x1 = min(LEFT + plot_w, max(x(start + last_bucket * step), x0 + 3))
        label = f"{n}. {kind_name(finding.kind, lang)}"
        out.append(
            f'<rect x="{x0:.1f}" y="{TOP}" width="{x1 - x0:.1f}" height="{plot_h}" fill="{FINDING_COLOUR}" '
            f'fill-opacity="0.15"><title>{_esc(label)}</title></rect>'
        )
        out.append(
            f'<text x="{x0 + 2:.1f}" y="{TOP + 12 + 12 * ((n - 1) % 3)}" fill="{FINDING_COLOUR}" font-size="11">{n}</text>'
        )
    # grid and axis
    for fraction in (0, 0.5, 1):
        value = round(top * fraction)
        gy = y(value)
        out.append(f'<line x1="{LEFT}" y1="{gy:.1f}" x2="{LEFT + plot_w}" y2="{gy:.1f}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" fill="#6b7280">{value}</text>')
    # bars
    bar_w = plot_w / buckets
    gap = 1 if bar_w > 3 else 0
    for i in range(buckets):
        bx = LEFT + i * bar_w
        if sms[i]:
            out.append(
                f'<rect x="{bx:.1f}" y="{y(sms[i]):.1f}" width="{max(bar_w - gap, 0.5):.1f}" '
                f'height="{plot_h - (y(sms[i]) - TOP):.1f}" fill="{SMS_COLOUR}"/>'
            )
        if calls[i]:
            out.append(
                f'<rect x="{bx:.1f}" y="{y(sms[i] + calls[i]):.1f}" width="{max(bar_w - gap, 0.5):.1f}" '
                f'height="{y(sms[i]) - y(sms[i] + calls[i]):.1f}" fill="{CALL_COLOUR}"/>'
            )
    if peak == 0:
        out.append(
            f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="#6b7280">{_esc(words["empty"])}</text>'
        )
    # x labels: about eight of them
    every = max(1, -(-buckets // 8))
    for i in range(0, buckets, every):
        at = start + i * step
        local = datetime.fromtimestamp(at / 1000, UTC).astimezone(tz)
        label = local.strftime("%m-%d %H:00" if hourly else "%m-%d")
        lx_ = LEFT + i * bar_w
        out.append(
            f'<line x1="{lx_:.1f}" y1="{TOP + plot_h}" x2="{lx_:.1f}" y2="{TOP + plot_h + 4}" stroke="#9ca3af"/>'
        )
        out.append(f'<text x="{lx_:.1f}" y="{TOP + plot_h + 18}" fill="#374151">{_esc(label)}</text>')
    out.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#9ca3af"/>'
    )
    # anchors, on top
    for n, (name, at) in enumerate(anchors):
        if not start <= at <= end:
            continue
        ax = x(at)
        label = words.get(name, name)
        out.append(
            f'<line x1="{ax:.1f}" y1="{TOP - 4}" x2="{ax:.1f}" y2="{TOP + plot_h}" stroke="{ANCHOR_COLOUR}" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
        # Labels right of the line, or left of it in the right half (so they are never cut off).
        anchor_at = 'text-anchor="end" ' if ax > LEFT + plot_w / 2 else ""
        out.append(
            f'<text x="{ax + (-3 if anchor_at else 3):.1f}" y="{TOP + plot_h + 34 + 14 * n}" {anchor_at}'
            f'fill="{ANCHOR_COLOUR}" font-weight="bold">'
            f"▲ {_esc(label)} {_esc(datetime.fromtimestamp(at / 1000, UTC).astimezone(tz).strftime('%m-%d %H:%M'))}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _nice(value: int) -> int:
    """A round number at or above `value` for the top of the axis."""
    if value <= 5:
        return 5
    magnitude = int(10 ** (len(str(value)) - 1))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value
