"""Find the harassment in a phone export: code bombing, call floods, late-night contact.

PURE: no Django, no clock; the time zone, the rules and the case's anchors are passed in.

Streaming, in two passes that never hold the export:

1. Every record is read once and counted (`parse.ExportReader.scan`, which builds no object per
   record). Each one the buyer received adds to an hourly tally (SMS and calls received, from
   unknown numbers, codes, unwanted calls) and, if it is a *signal* — a received verification
   code, an unwanted call (from an unknown number, or one the buyer rejected or blocked), contact
   from an unknown number late at night — its time, a hash of its number, its flags and its byte
   offset go into flat arrays (about 25 bytes a signal, no objects).
2. The signals are put in time order (exports come ascending, descending or grouped by
   conversation; already-ordered input is not sorted again) and clustered: stretches where at
   least N codes (or N unwanted calls from several numbers) fall within a window, one number's
   unwanted calls no more than M minutes apart, one number's late-night contact across nights. Each cluster above its threshold is a `Finding`, with at most `keep_records`
   of its records read back from the file by their offsets; its count is always exact.

Correlation with the case: for each anchor (the review, the complaint) the time from the anchor to
the first finding that starts at or after it, and the daily average of SMS and calls from unknown
numbers in the `baseline_days` before the anchor against the same span after it (only days the
export covers count).

The suggested tier (`suggest`) maps each finding to a tier with the first matching rule of
`rules.toml` and suggests the highest, within the tiers the case's ruleset has. It is a
suggestion the agent confirms, never a decision.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, tzinfo
from typing import IO, Final, NamedTuple

from reviewshield.forensics.parse import ExportError, ExportReader
from reviewshield.forensics.records import IN, SMS, UNWANTED_CALL_TYPES, Record, number_key
from reviewshield.forensics.rules import Rules, default_rules
from reviewshield.policy.ruleset import TIER_ORDER

HOUR_MS: Final = 3_600_000
DAY_MS: Final = 24 * HOUR_MS

# The hourly series, in this order in `Analysis.hours` values.
SERIES: Final = ("sms_in", "calls_in", "sms_unknown", "calls_unknown", "codes", "unwanted_calls")
_SMS_IN, _CALLS_IN, _SMS_UNKNOWN, _CALLS_UNKNOWN, _CODES, _UNWANTED = range(6)

# Signal flags.
CODE: Final = 1
UNWANTED: Final = 2
NIGHT: Final = 4

CODE_BOMBING: Final = "code_bombing"
CALL_FLOOD: Final = "call_flood"
LATE_NIGHT: Final = "late_night"

Opener = Callable[[], AbstractContextManager[IO[bytes]]]


class Source(NamedTuple):
    """One export file: a name to show and how to open it (twice: to read, then to read back)."""

    name: str
    open: Opener


class Anchor(NamedTuple):
    """A moment of the case the anomalies are measured from: "review", "complaint", …"""

    name: str
    at_ms: int


class FileSummary(NamedTuple):
    name: str
    format: str
    sms: int
    calls: int
    mms: int
    declared_count: int | None


class Finding(NamedTuple):
    """One anomaly: what, when, how much, from whom, the records behind it, the tier it suggests.

    `total` is the exact number of records in it; `records` at most `keep_records` of them.

    `scope` is "number" (one number) or "many" (a burst across numbers); `numbers` are the
    distinct numbers among the kept records (in order of first appearance); `nights` counts the
    nights of late-night contact (0 for other kinds).
    """

    kind: str
    scope: str
    start_ms: int
    end_ms: int
    total: int
    senders: int
    nights: int
    numbers: tuple[str, ...]
    records: tuple[Record, ...]
    tier: str
    rule: str


class Correlation(NamedTuple):
    anchor: str
    at_ms: int
    first_finding_ms: int | None  # the first finding starting at or after the anchor
    delay_ms: int | None
    before_per_day: float | None  # unknown-number SMS and calls per day; None: no day covered
    after_per_day: float | None
    ratio: float | None  # after / before; None when either side is missing or before is 0
    before_days: int
    after_days: int


class Suggestion(NamedTuple):
    tier: str
    rule: str
    finding: int  # index into Analysis.findings of the finding that decided it


class Analysis(NamedTuple):
    files: tuple[FileSummary, ...]
    first_ms: int
    last_ms: int
    sms: int
    calls: int
    mms: int
    hours: dict[int, tuple[int, ...]]  # UTC hour (ms // HOUR_MS) → counts in SERIES order
    findings: tuple[Finding, ...]
    correlations: tuple[Correlation, ...]
    suggestion: Suggestion | None
    rules_version: str
    rules_hash: str


class _Draft(NamedTuple):
    kind: str
    scope: str
    start_ms: int
    end_ms: int
    total: int
    senders: int
    nights: int
    kept: list[int]  # signal indexes


class _Signals:
    """The flat arrays of pass 1."""

    def __init__(self) -> None:
        self.ats = array("q")
        self.senders = array("q")
        self.flags = array("B")
        self.offsets = array("q")
        self.sources = array("H")
        self.ordered = True
        self._last = -(1 << 62)

    def add(self, at: int, sender: int, flags: int, offset: int, source: int) -> None:
        if at < self._last:
            self.ordered = False
        self._last = at
        self.ats.append(at)
        self.senders.append(sender)
        self.flags.append(flags)
        self.offsets.append(offset)
        self.sources.append(source)

    def time_order(self) -> Sequence[int]:
        if self.ordered:
            return range(len(self.ats))
        return sorted(range(len(self.ats)), key=self.ats.__getitem__)


class _Offsets:
    """UTC offset of the time zone per UTC hour, worked out once per hour seen."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.cache: dict[int, int] = {}

    def __call__(self, hour: int) -> int:
        offset = self.cache.get(hour)
        if offset is None:
            delta = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.tz).utcoffset()
            offset = self.cache[hour] = int(delta.total_seconds() * 1000) if delta else 0
        return offset


def code_matcher(rules: Rules) -> Callable[[str], bool]:
    """Whether an SMS text is a verification code under `rules` (what `_scan` does inline)."""
    keyword = rules.code_pattern().search
    digits = rules.digits_pattern().search
    return lambda body: bool(body and digits(body) and keyword(body))


def _scan(
    reader: ExportReader,
    source: int,
    rules: Rules,
    signals: _Signals,
    hours: dict[int, list[int]],
    local: _Offsets,
) -> None:
    """Pass 1 over one file: tally every record the buyer received, keep the signals.

    The reader counts every record and calls `visit` only for the received ones, with their
    fields (no `Record` is built): this runs a million times on a large export. The hour's row
    of the tally, and whether the hour is at night (when the zone's offset is whole hours, as
    Beijing's is), are looked up once per hour, not per record."""
    keyword = rules.code_pattern().search
    digits = rules.digits_pattern().search
    is_night = rules.is_night
    add = signals.add
    offset = reader.offset
    unwanted_types = UNWANTED_CALL_TYPES
    last_hour, row, hour_is_night = -1, [0] * len(SERIES), False
    night_varies = True  # a zone at a half-hour offset: whether it is night depends on the minute

    def visit(
        kind: str,
        at: int,
        number: str,
        direction: str,
        call_type: str,
        _duration: int,
        body: str,
        contact: str,
    ) -> None:
        nonlocal last_hour, row, hour_is_night, night_varies
        if direction != IN:
            return  # what the buyer sent or dialled is not harassment of the buyer
        hour = at // HOUR_MS
        if hour != last_hour:
            got = hours.get(hour)
            if got is None:
                got = hours[hour] = [0] * len(SERIES)
            row, last_hour = got, hour
            shift = local(hour)
            night_varies = shift % HOUR_MS != 0
            hour_is_night = is_night((hour + shift // HOUR_MS) % 24)
        flags = 0
        if kind == SMS:
            row[_SMS_IN] += 1
            if not contact:
                row[_SMS_UNKNOWN] += 1
            if body and digits(body) and keyword(body):
                row[_CODES] += 1
                flags = CODE
        else:
            row[_CALLS_IN] += 1
            if not contact:
                row[_CALLS_UNKNOWN] += 1
            if not contact or call_type in unwanted_types:
                row[_UNWANTED] += 1
                flags = UNWANTED
        if not contact and (
            is_night(((at + local(hour)) // HOUR_MS) % 24) if night_varies else hour_is_night
        ):
            flags |= NIGHT
        if flags:
            add(at, hash(number_key(number)), flags, offset(), source)

    reader.scan(visit, received_only=True)


def _dense_runs(
    signals: _Signals, order: Iterable[int], flag: int, window: int, min_count: int, keep: int
) -> Iterable[tuple[int, int, int, set[int], list[int]]]:
    """(start, end, count, senders, kept) of each stretch where at least `min_count` `flag` signals
    fall within `window` ms of each other: the union of every such window, so a burst is found
    whole, while the buyer's ordinary trickle (a code or an unknown caller now and then) never
    adds up however long the export is."""
    ats, flags, senders = signals.ats, signals.flags, signals.senders
    recent: deque[tuple[int, int]] = deque()  # (sequence number, signal index) within the window
    seq = 0
    included = -1  # sequence number of the last signal put in the open stretch
    start = end = count = 0
    who: set[int] = set()
    kept: list[int] = []
    for i in order:
        if not flags[i] & flag:
            continue
        at = ats[i]
        recent.append((seq, i))
        seq += 1
        while at - ats[recent[0][1]] > window:
            recent.popleft()
        if len(recent) < min_count:
            continue
        if count and ats[recent[0][1]] > end:  # this window does not touch the open stretch
            yield start, end, count, who, kept
            count, who, kept = 0, set(), []
        if not count:
            start = ats[recent[0][1]]
        for n, j in recent:
            if n > included:
                count += 1
                who.add(senders[j])
                if len(kept) < keep:
                    kept.append(j)
                included = n
        end = at
    if count:
        yield start, end, count, who, kept


class _Run:
    """One number's open run of signals."""

    __slots__ = ("count", "end", "kept", "last_night", "nights", "start")

    def __init__(self, at: int) -> None:
        self.start = self.end = at
        self.count = self.nights = 0
        self.last_night: int | None = None
        self.kept: list[int] = []


def _per_number_clusters(
    signals: _Signals, order: Iterable[int], flag: int, max_gap: int, keep: int
) -> Iterable[_Run]:
    """Each run of one number's `flag` signals no more than `max_gap` apart."""
    ats, flags, senders = signals.ats, signals.flags, signals.senders
    runs: dict[int, _Run] = {}
    for i in order:
        if not flags[i] & flag:
            continue
        at, sender = ats[i], senders[i]
        run = runs.get(sender)
        if run is not None and at - run.end > max_gap:
            yield run
            run = None
        if run is None:
            run = runs[sender] = _Run(at)
        run.end = at
        run.count += 1
        if len(run.kept) < keep:
            run.kept.append(i)
    yield from runs.values()


def _night_runs(signals: _Signals, order: Iterable[int], rules: Rules, local: _Offsets) -> Iterable[_Run]:
    """Each number's run of late-night contact, nights at most `max_gap_nights` apart. A night is
    named by the local date of its evening."""
    ats, flags, senders = signals.ats, signals.flags, signals.senders
    shift = rules.night_until_hour * HOUR_MS if rules.night_from_hour > rules.night_until_hour else 0
    max_gap, keep = rules.night_max_gap_nights, rules.keep_records
    runs: dict[int, _Run] = {}
    for i in order:
        if not flags[i] & NIGHT:
            continue
        at, sender = ats[i], senders[i]
        night = (at + local(at // HOUR_MS) - shift) // DAY_MS
        run = runs.get(sender)
        if run is not None and run.last_night is not None and night - run.last_night > max_gap:
            yield run
            run = None
        if run is None:
            run = runs[sender] = _Run(at)
        run.end = at
        run.count += 1
        if run.last_night != night:
            run.nights += 1
            run.last_night = night
        if len(run.kept) < keep:
            run.kept.append(i)
    yield from runs.values()


def _drafts(signals: _Signals, rules: Rules, local: _Offsets) -> list[_Draft]:
    order = signals.time_order()
    keep = rules.keep_records
    drafts: list[_Draft] = []
    bombing = [
        _Draft(CODE_BOMBING, "many" if len(who) > 1 else "number", start, end, count, len(who), 0, kept)
        for start, end, count, who, kept in _dense_runs(
            signals, order, CODE, rules.code_window_ms, rules.code_min_count, keep
        )
        if len(who) >= rules.code_min_senders
    ]
    floods = [
        _Draft(CALL_FLOOD, "number", run.start, run.end, run.count, 1, 0, run.kept)
        for run in _per_number_clusters(signals, order, UNWANTED, rules.flood_number_max_gap_ms, keep)
        if run.count >= rules.flood_number_min_count
    ]
    floods += [
        _Draft(CALL_FLOOD, "many", start, end, count, len(who), 0, kept)
        for start, end, count, who, kept in _dense_runs(
            signals, order, UNWANTED, rules.flood_many_window_ms, rules.flood_many_min_count, keep
        )
        if len(who) >= rules.flood_many_min_numbers
    ]
    nights = [
        _Draft(LATE_NIGHT, "number", run.start, run.end, run.count, 1, run.nights, run.kept)
        for run in _night_runs(signals, order, rules, local)
        if run.nights >= rules.night_min_nights
    ]
    for group in (bombing, floods, nights):
        group.sort(key=lambda d: (-d.total, d.start_ms))
        drafts += group[: rules.max_findings]
    drafts.sort(key=lambda d: (d.start_ms, d.kind, -d.total))
    return drafts


def tier_for(finding_kind: str, count: int, nights: int, rules: Rules) -> tuple[str, str]:
    """(tier, rule) of the first `rules.toml` tier rule this finding meets."""
    for rule in rules.tiers:
        if rule.finding == finding_kind and count >= rule.min_count and nights >= rule.min_nights:
            return rule.tier, rule.rule
    return "", ""  # unreachable with validated rules: every kind has a rule without minimums


def suggest(findings: Sequence[Finding], available_tiers: Sequence[str] = TIER_ORDER) -> Suggestion | None:
    """The highest tier the findings suggest, stepped down to the highest tier the ruleset has."""
    best: Suggestion | None = None
    rank = {tier: n for n, tier in enumerate(TIER_ORDER)}
    for n, finding in enumerate(findings):
        if finding.tier in rank and (best is None or rank[finding.tier] > rank[best.tier]):
            best = Suggestion(finding.tier, finding.rule, n)
    if best is None:
        return None
    allowed = [t for t in TIER_ORDER if t in available_tiers and rank[t] <= rank[best.tier]]
    return best._replace(tier=allowed[-1]) if allowed else None


def _unknown_per_day(
    hours: dict[int, tuple[int, ...]], start: int, end: int, first: int, last: int
) -> tuple[float | None, int]:
    """Unknown-number SMS and calls per day in [start, end), counting only days the export covers."""
    lo, hi = max(start, first - first % DAY_MS), min(end, last + 1)
    days = max(0, -(-(hi - lo) // DAY_MS))
    if days == 0:
        return None, 0
    total = 0
    for hour, row in hours.items():
        if lo // HOUR_MS <= hour < -(-hi // HOUR_MS):
            total += row[_SMS_UNKNOWN] + row[_CALLS_UNKNOWN]
    return total / days, days


def correlate(
    anchors: Sequence[Anchor],
    findings: Sequence[Finding],
    hours: dict[int, tuple[int, ...]],
    first_ms: int,
    last_ms: int,
    baseline_days: int,
) -> tuple[Correlation, ...]:
    """How each anchor relates to the findings and to the buyer's usual traffic."""
    out = []
    span = baseline_days * DAY_MS
    for anchor in anchors:
        after = [f.start_ms for f in findings if f.start_ms >= anchor.at_ms]
        first = min(after) if after else None
        before_rate, before_days = _unknown_per_day(
            hours, anchor.at_ms - span, anchor.at_ms, first_ms, last_ms
        )
        after_rate, after_days = _unknown_per_day(hours, anchor.at_ms, anchor.at_ms + span, first_ms, last_ms)
        ratio = (
            after_rate / before_rate
            if before_rate is not None and after_rate is not None and before_rate > 0
            else None
        )
        out.append(
            Correlation(
                anchor=anchor.name,
                at_ms=anchor.at_ms,
                first_finding_ms=first,
                delay_ms=None if first is None else first - anchor.at_ms,
                before_per_day=before_rate,
                after_per_day=after_rate,
                ratio=ratio,
                before_days=before_days,
                after_days=after_days,
            )
        )
    return tuple(out)


def analyse(
    sources: Sequence[Source],
    *,
    tz: tzinfo,
    anchors: Sequence[Anchor] = (),
    rules: Rules | None = None,
    available_tiers: Sequence[str] = TIER_ORDER,
) -> Analysis:
    """Read every source, find the anomalies, correlate them with the anchors, suggest a tier.

    Raises `ExportError` (with `params["file"]` naming the source) when a file cannot be read.
    """
    rules = rules or default_rules()
    signals = _Signals()
    hours: dict[int, list[int]] = {}
    local = _Offsets(tz)
    readers: list[ExportReader] = []
    files: list[FileSummary] = []
    first, last, sms, calls = 1 << 62, -(1 << 62), 0, 0
    for n, source in enumerate(sources):
        try:
            with source.open() as stream:
                reader = ExportReader(stream, tz=tz)
                _scan(reader, n, rules, signals, hours, local)
        except ExportError as exc:
            exc.params["file"] = source.name
            raise
        readers.append(reader)
        files.append(
            FileSummary(
                source.name, reader.format, reader.sms, reader.calls, reader.mms, reader.declared_count
            )
        )
        first, last = min(first, reader.first_ms), max(last, reader.last_ms)
        sms, calls = sms + reader.sms, calls + reader.calls
    frozen = {hour: tuple(row) for hour, row in hours.items()}
    drafts = _drafts(signals, rules, local)
    records = _read_back(sources, readers, signals, drafts)
    findings = []
    for draft in drafts:
        behind = tuple(records[(signals.sources[i], signals.offsets[i])] for i in draft.kept)
        numbers = tuple(dict.fromkeys(r.number for r in behind))
        tier, rule = tier_for(draft.kind, draft.total, draft.nights, rules)
        findings.append(
            Finding(
                kind=draft.kind,
                scope=draft.scope,
                start_ms=draft.start_ms,
                end_ms=draft.end_ms,
                total=draft.total,
                senders=draft.senders,
                nights=draft.nights,
                numbers=numbers,
                records=behind,
                tier=tier,
                rule=rule,
            )
        )
    return Analysis(
        files=tuple(files),
        first_ms=first,
        last_ms=last,
        sms=sms,
        calls=calls,
        mms=sum(f.mms for f in files),
        hours=frozen,
        findings=tuple(findings),
        correlations=correlate(anchors, findings, frozen, first, last, rules.baseline_days),
        suggestion=suggest(findings, available_tiers),
        rules_version=rules.version,
        rules_hash=rules.content_hash,
    )


def _read_back(
    sources: Sequence[Source], readers: Sequence[ExportReader], signals: _Signals, drafts: Sequence[_Draft]
) -> dict[tuple[int, int], Record]:
    """Pass 2: the records behind the findings, read again from their files by byte offset."""
    wanted: dict[int, set[int]] = {}
    for draft in drafts:
        for i in draft.kept:
            wanted.setdefault(signals.sources[i], set()).add(signals.offsets[i])
    found: dict[tuple[int, int], Record] = {}
    for n, offsets in wanted.items():
        with sources[n].open() as stream:
            for offset, record in readers[n].records_at(stream, sorted(offsets)).items():
                found[(n, offset)] = record
    return found
