"""The forensic report as a document: what is stored, shown, and logged as evidence.

PURE. `build(analysis, tz=…, anchors=…)` returns a JSON-ready dict (no floats: rates are decimal
strings, so its canonical bytes are one exact string — `proofs.records.canonical`); `canonical`
gives those bytes, which the Django side stores as an evidence file whose SHA-256 enters the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from reviewshield.forensics.analysis import Analysis, Anchor, Finding
from reviewshield.forensics.chart import timeline_svg
from reviewshield.forensics.records import Record
from reviewshield.forensics.text import summary
from reviewshield.proofs.records import canonical as canonical_json

FORMAT: Final = "reviewshield-forensic-report/1"
LANGS: Final = ("zh-hans", "en")


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _record(r: Record) -> dict[str, Any]:
    return {
        "kind": r.kind,
        "at": iso(r.at_ms),
        "number": r.number,
        "direction": r.direction,
        "call_type": r.call_type,
        "duration_s": r.duration_s,
        "body": r.body,
        "contact": r.contact,
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "scope": f.scope,
        "start": iso(f.start_ms),
        "end": iso(f.end_ms),
        "total": f.total,
        "senders": f.senders,
        "nights": f.nights,
        "numbers": list(f.numbers),
        "tier": f.tier,
        "rule": f.rule,
        "records_kept": len(f.records),
        "records": [_record(r) for r in f.records],
    }


def _rate(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def build(analysis: Analysis, *, tz: tzinfo, anchors: Sequence[Anchor] = ()) -> dict[str, Any]:
    """The report document: the files read, the findings with their records, the correlation with
    the anchors, the suggested tier, the summary lines, and the chart in both languages."""
    return {
        "format": FORMAT,
        "rules": {"version": analysis.rules_version, "hash": analysis.rules_hash},
        "time_zone": str(tz),
        "files": [
            {
                "name": f.name,
                "format": f.format,
                "sms": f.sms,
                "calls": f.calls,
                "mms": f.mms,
                "declared_count": f.declared_count,
            }
            for f in analysis.files
        ],
        "period": {"first": iso(analysis.first_ms), "last": iso(analysis.last_ms)},
        "counts": {"sms": analysis.sms, "calls": analysis.calls, "mms": analysis.mms},
        "findings": [_finding(f) for f in analysis.findings],
        "correlations": [
            {
                "anchor": c.anchor,
                "at": iso(c.at_ms),
                "first_finding": iso(c.first_finding_ms) if c.first_finding_ms is not None else None,
                "delay_s": c.delay_ms // 1000 if c.delay_ms is not None else None,
                "before_per_day": _rate(c.before_per_day),
                "after_per_day": _rate(c.after_per_day),
                "ratio": _rate(c.ratio),
                "before_days": c.before_days,
                "after_days": c.after_days,
            }
            for c in analysis.correlations
        ],
        "suggestion": (
            {
                "tier": analysis.suggestion.tier,
                "rule": analysis.suggestion.rule,
                "finding": analysis.suggestion.finding,
            }
            if analysis.suggestion
            else None
        ),
        "summary": [{"code": line.code, "params": dict(line.params)} for line in summary(analysis, tz)],
        "charts": {
            lang: timeline_svg(analysis, tz=tz, lang=lang, anchors=[(a.name, a.at_ms) for a in anchors])
            for lang in LANGS
        },
    }


def canonical(document: dict[str, Any]) -> bytes:
    """The document's canonical bytes (sorted keys, no spaces, UTF-8)."""
    return canonical_json(document)
