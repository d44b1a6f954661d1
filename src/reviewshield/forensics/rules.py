"""The forensic thresholds and the finding → tier mapping: `rules.toml`, loaded and validated.

PURE: `load(path)` reads one file and returns a frozen `Rules`; nothing is cached here. A broken
file raises `RulesError` naming the key and the problem, so a bad edit never reaches a report.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from reviewshield.policy.ruleset import TIER_ORDER

SHIPPED: Final = Path(__file__).resolve().parent / "rules.toml"
FINDING_KINDS: Final = ("code_bombing", "call_flood", "late_night")
RULE_CODES: Final = (
    "repeated_late_night",
    "large_volume_spam",
    "unexplained_codes",
    "frequent_contact",
    "abnormal_frequency",
)
_TOP_KEYS: Final = {
    "version",
    "night",
    "codes",
    "code_bombing",
    "call_flood_number",
    "call_flood_many",
    "late_night",
    "report",
    "tiers",
}


class RulesError(Exception):
    """The rules file is broken: which key, and what is wrong with it."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(key, problem)

    def __str__(self) -> str:
        return f"rules.toml: {self.key}: {self.problem}"


@dataclass(frozen=True)
class TierRule:
    """A finding of `finding` with at least `min_count` records (and `min_nights` nights) suggests `tier`."""

    finding: str
    tier: str
    rule: str
    min_count: int = 0
    min_nights: int = 0


@dataclass(frozen=True)
class Rules:
    version: str
    content_hash: str
    night_from_hour: int
    night_until_hour: int
    code_keywords: tuple[str, ...]
    code_min_digits: int
    code_max_digits: int
    code_window_ms: int
    code_min_count: int
    code_min_senders: int
    flood_number_max_gap_ms: int
    flood_number_min_count: int
    flood_many_window_ms: int
    flood_many_min_count: int
    flood_many_min_numbers: int
    night_min_nights: int
    night_max_gap_nights: int
    baseline_days: int
    keep_records: int
    max_findings: int
    tiers: tuple[TierRule, ...]

    def code_pattern(self) -> re.Pattern[str]:
        """One pattern for the keywords, matched case-insensitively."""
        return re.compile("|".join(re.escape(k) for k in self.code_keywords), re.IGNORECASE)

    def digits_pattern(self) -> re.Pattern[str]:
        """A run of `code_min_digits`–`code_max_digits` digits, no digit either side.

        Written as "a digit not after a digit, then the rest" rather than the plainer
        `(?<![0-9])[0-9]{min,max}(?![0-9])`: the same matches, but a pattern that starts with a
        character class lets `re` skip ahead to the next digit instead of trying the look-behind
        at every character — about twice as fast on the bodies of a phone export."""
        low, high = self.code_min_digits - 1, self.code_max_digits - 1
        return re.compile(rf"[0-9](?<![0-9]{{2}})[0-9]{{{low},{high}}}(?![0-9])")

    def is_night(self, local_hour: int) -> bool:
        if self.night_from_hour > self.night_until_hour:
            return local_hour >= self.night_from_hour or local_hour < self.night_until_hour
        return self.night_from_hour <= local_hour < self.night_until_hour


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise RulesError(key, "missing, or not a table")
    return value


def _int(table: Mapping[str, Any], section: str, key: str, low: int, high: int) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RulesError(f"{section}.{key}", f"must be a whole number from {low} to {high}")
    return value


def _words(table: Mapping[str, Any], section: str, key: str) -> tuple[str, ...]:
    value = table.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise RulesError(f"{section}.{key}", "must be a list of words")
    return tuple(v.strip() for v in value)


def _tier_rules(data: Mapping[str, Any]) -> tuple[TierRule, ...]:
    raw = data.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise RulesError("tiers", "must list at least one [[tiers]] rule")
    rules = []
    for n, entry in enumerate(raw, 1):
        key = f"tiers[{n}]"
        if not isinstance(entry, dict):
            raise RulesError(key, "must be a table")
        unknown = set(entry) - {"finding", "tier", "rule", "min_count", "min_nights"}
        if unknown:
            raise RulesError(key, f"unknown keys {sorted(unknown)}")
        if entry.get("finding") not in FINDING_KINDS:
            raise RulesError(f"{key}.finding", f"must be one of {', '.join(FINDING_KINDS)}")
        if entry.get("tier") not in TIER_ORDER:
            raise RulesError(f"{key}.tier", f"must be one of {', '.join(TIER_ORDER)}")
        if entry.get("rule") not in RULE_CODES:
            raise RulesError(f"{key}.rule", f"must be one of {', '.join(RULE_CODES)} (each has its text)")
        rules.append(
            TierRule(
                finding=entry["finding"],
                tier=entry["tier"],
                rule=entry["rule"],
                min_count=_int(entry, key, "min_count", 0, 10**9) if "min_count" in entry else 0,
                min_nights=_int(entry, key, "min_nights", 0, 366) if "min_nights" in entry else 0,
            )
        )
    covered = {r.finding for r in rules if r.min_count == 0 and r.min_nights == 0}
    missing = [k for k in FINDING_KINDS if k not in covered]
    if missing:
        raise RulesError(
            "tiers", f"no rule without minimums for {', '.join(missing)}: some findings get no tier"
        )
    return tuple(rules)


def parse(text: str) -> Rules:
    """Validate the text of a rules file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError("", f"not valid TOML: {exc}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RulesError("", f"unknown keys {sorted(unknown)}")
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise RulesError("version", "missing")
    night, codes = _table(data, "night"), _table(data, "codes")
    bombing, by_number = _table(data, "code_bombing"), _table(data, "call_flood_number")
    many, late, report = _table(data, "call_flood_many"), _table(data, "late_night"), _table(data, "report")
    min_digits = _int(codes, "codes", "min_digits", 3, 12)
    max_digits = _int(codes, "codes", "max_digits", min_digits, 12)
    night_from = _int(night, "night", "from_hour", 0, 23)
    night_until = _int(night, "night", "until_hour", 0, 23)
    if night_from == night_until:
        raise RulesError("night", "from_hour and until_hour must differ")
    minute = 60_000
    return Rules(
        version=version.strip(),
        content_hash="sha256:" + hashlib.sha256(text.encode()).hexdigest(),
        night_from_hour=night_from,
        night_until_hour=night_until,
        code_keywords=_words(codes, "codes", "keywords_zh") + _words(codes, "codes", "keywords_en"),
        code_min_digits=min_digits,
        code_max_digits=max_digits,
        code_window_ms=_int(bombing, "code_bombing", "window_minutes", 1, 24 * 60) * minute,
        code_min_count=_int(bombing, "code_bombing", "min_count", 2, 10**6),
        code_min_senders=_int(bombing, "code_bombing", "min_senders", 1, 10**6),
        flood_number_max_gap_ms=_int(by_number, "call_flood_number", "max_gap_minutes", 1, 7 * 24 * 60)
        * minute,
        flood_number_min_count=_int(by_number, "call_flood_number", "min_count", 2, 10**6),
        flood_many_window_ms=_int(many, "call_flood_many", "window_minutes", 1, 7 * 24 * 60) * minute,
        flood_many_min_count=_int(many, "call_flood_many", "min_count", 2, 10**6),
        flood_many_min_numbers=_int(many, "call_flood_many", "min_numbers", 2, 10**6),
        night_min_nights=_int(late, "late_night", "min_nights", 2, 366),
        night_max_gap_nights=_int(late, "late_night", "max_gap_nights", 1, 366),
        baseline_days=_int(report, "report", "baseline_days", 1, 366),
        keep_records=_int(report, "report", "keep_records", 1, 10_000),
        max_findings=_int(report, "report", "max_findings", 1, 1_000),
        tiers=_tier_rules(data),
    )


def load(path: Path = SHIPPED) -> Rules:
    """Read and validate a rules file (the shipped one by default)."""
    return parse(path.read_text(encoding="utf-8"))


@cache
def default_rules() -> Rules:
    """The shipped rules, loaded once per process."""
    return load()
