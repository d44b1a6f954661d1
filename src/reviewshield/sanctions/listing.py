"""The seller credit blacklist (信用黑名单), pure: which shops are listed, why, from when and until when.

No Django, no clock. A shop is listed on a *ground*; each ground comes from upheld decisions that
are **final** — the appeal window has passed with no appeal waiting, or the seller's own appeal
was decided (the seller may appeal only once):

- `serious`: one final upheld decision at a tier the ruleset counts as serious
  (`sanctions.blacklist_serious_tiers`);
- `repeated`: at least N final upheld decisions (`sanctions.blacklist_upheld_threshold`, default 2)
  decided within 12 calendar months of each other, local time.

A ground lists the shop from the moment its last decision became final, for `blacklist_days`
calendar days (entries expire by rule). Grounds overlap: the shop stays listed until the last one
in force ends. Overturning a decision on appeal removes every ground built on it; the next
computation simply no longer returns it.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice
from operator import attrgetter, itemgetter, lt
from typing import Any, Literal, NamedTuple

from reviewshield.policy.calendar import BUSINESS_TZ

GroundReason = Literal["serious", "repeated"]


class Upheld(NamedTuple):
    """An upheld decision that stands. `final_at` is when it can no longer be appealed by the
    seller, or None while an appeal on it is waiting for a decision. (A named tuple: a busy shop
    has a thousand per sync, and a frozen dataclass costs three times as much to build.)"""

    case_id: int
    decided_at: datetime
    tier: str
    final_at: datetime | None


@dataclass(frozen=True)
class Ground:
    key: str  # stable: "serious:<case>" or "repeated:<case that completed the count>"
    reason: GroundReason
    cases: tuple[int, ...]  # the decisions it rests on, oldest first
    listed_from: datetime
    until: datetime

    def in_force(self, at: datetime) -> bool:
        return self.listed_from <= at < self.until


@dataclass(frozen=True)
class Listing:
    """Where a shop stands on the blacklist at one instant."""

    grounds: tuple[Ground, ...]  # in force at that instant
    upcoming: tuple[Ground, ...]  # will list the shop later (its decisions become final then)

    @property
    def listed(self) -> bool:
        return bool(self.grounds)

    @property
    def since(self) -> datetime | None:
        return min((g.listed_from for g in self.grounds), default=None)

    @property
    def until(self) -> datetime | None:
        """When the shop leaves the list — the end of the last ground in force, carried on through
        any ground that starts before it ends."""
        if not self.grounds:
            return None
        end = max(g.until for g in self.grounds)
        for g in sorted(self.upcoming, key=lambda g: g.listed_from):
            if g.listed_from <= end:
                end = max(end, g.until)
        return end


def months_later(at: datetime, months: int) -> datetime:
    """The same local wall-clock time `months` calendar months later (31 Jan + 1 → 28/29 Feb)."""
    local = at.astimezone(BUSINESS_TZ)
    if months % 12 == 0 and not (local.month == 2 and local.day == 29):
        return local.replace(year=local.year + months // 12)  # the common case, without the search
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = local.day
    while True:
        try:
            return local.replace(year=year, month=month, day=day)
        except ValueError:  # no such day in that month
            day -= 1


# A ground as it is computed and merged: a plain tuple, in the order the list sorts grounds by
# (a thousand Ground objects would be built only to be merged into a handful of entries).
_Row = tuple[datetime, str, GroundReason, tuple[int, ...], datetime]  # listed_from, key, reason, cases, until
_BY_START = itemgetter(0, 1)  # (listed_from, key): as `Listing` orders grounds
_BY_DECISION = attrgetter("decided_at", "case_id")
_BY_FINALITY = attrgetter("final_at", "decided_at", "case_id")

# Twelve calendar months are 365 or 366 days of local wall clock (29 February clamps to the 28th);
# a change of UTC offset moves the instant by less than a day. A gap clearly inside or outside
# these bounds needs no calendar arithmetic.
_SURELY_WITHIN = timedelta(days=362)
_SURELY_BEYOND = timedelta(days=369)


def _within_12_months(first: datetime, last: datetime) -> bool:
    """`months_later(first, 12) > last`, computed in full only near the boundary: the zone
    conversion and the cross-zone comparison cost microseconds a pair, and a busy shop has a
    thousand pairs, nearly all of them days apart."""
    gap = last - first
    if gap < _SURELY_WITHIN:
        return True
    if gap > _SURELY_BEYOND:
        return False
    return months_later(first, 12) > last


def _ground_rows(
    decisions: Iterable[Upheld], *, serious_tiers: Sequence[str], threshold: int, days: int
) -> list[_Row]:
    span = timedelta(days=days)
    final = [d for d in decisions if d.final_at is not None]
    if not _in_order_of_finality(final):
        final.sort(key=_BY_FINALITY)
    rows: list[_Row] = []
    done: list[tuple[datetime, int]] = []  # (decided_at, case_id) of the decisions final so far, sorted
    done_ids: list[int] = []  # their case ids, in the same order
    for d in final:
        final_at = d.final_at
        assert final_at is not None
        if d.tier in serious_tiers:
            rows.append((final_at, f"serious:{d.case_id}", "serious", (d.case_id,), final_at + span))
        if threshold < 1:
            continue
        key = (d.decided_at, d.case_id)
        if not done or done[-1] < key:
            # Usually decisions become final in the order they were made: the new one is the last,
            # and the only stretch it can complete is the N - 1 before it and itself.
            done.append(key)
            done_ids.append(d.case_id)
            first = len(done) - threshold
            if first >= 0 and _within_12_months(done[first][0], key[0]):
                rows.append(
                    (final_at, f"repeated:{d.case_id}", "repeated", tuple(done_ids[first:]), final_at + span)
                )
            continue
        pos = bisect.bisect_left(done, key)
        done.insert(pos, key)
        done_ids.insert(pos, d.case_id)
        for first in range(max(0, pos - threshold + 1), pos + 1):
            last = first + threshold - 1
            if last >= len(done):
                break
            if _within_12_months(done[first][0], done[last][0]):  # all N within 12 months
                cases = tuple(done_ids[first : last + 1])
                rows.append((final_at, f"repeated:{d.case_id}", "repeated", cases, final_at + span))
                break
    # Made in order of finality, so by listing date: only grounds listed at the same instant may
    # need the sort (by key). Checked first, as sorting would build a key tuple per ground.
    for i in range(1, len(rows)):
        if rows[i - 1][0] > rows[i][0] or (rows[i - 1][0] == rows[i][0] and rows[i - 1][1] > rows[i][1]):
            rows.sort(key=_BY_START)
            break
    return rows


def _in_order_of_finality(decisions: Sequence[Upheld]) -> bool:
    """Whether `decisions` (all final) are already sorted by `_BY_FINALITY`: usually they are, as
    they come in order of decision and become final a fixed window later."""
    for i in range(1, len(decisions)):
        a, b = decisions[i - 1], decisions[i]
        assert a.final_at is not None and b.final_at is not None
        if a.final_at != b.final_at:
            if a.final_at > b.final_at:
                return False
        elif a.decided_at > b.decided_at or (a.decided_at == b.decided_at and a.case_id > b.case_id):
            return False
    return True


def grounds(
    decisions: Iterable[Upheld], *, serious_tiers: Sequence[str], threshold: int, days: int
) -> list[Ground]:
    """Every ground the decisions give; decisions not yet final give none and count for none.

    Repeated: the decisions are taken in the order they became final; each one that, with those
    already final, completes N decided within 12 months of each other gives a ground from that
    moment (`repeated:<that decision>`, resting on the N closest). Kept sorted by decision date,
    so only the N-wide stretches around the new one need checking: O(n log n) for a busy shop."""
    if threshold < 1:  # serious grounds only, which then come in order of decision
        span = timedelta(days=days)
        final = sorted((d for d in decisions if d.final_at is not None), key=_BY_DECISION)
        return [
            Ground(f"serious:{d.case_id}", "serious", (d.case_id,), d.final_at, d.final_at + span)
            for d in final
            if d.tier in serious_tiers and d.final_at is not None
        ]
    rows = _ground_rows(decisions, serious_tiers=serious_tiers, threshold=threshold, days=days)
    return [Ground(key, reason, cases, listed_from, until) for listed_from, key, reason, cases, until in rows]


def _merge(rows: Iterable[_Row]) -> list[Ground]:
    """Rows sorted by `_BY_START` merged per reason (see `entries`)."""
    runs: list[list[Any]] = []  # [key, reason, cases as an ordered set, listed_from, until] of each run
    current: dict[str, list[Any]] = {}  # reason -> its open run
    for listed_from, key, reason, cases, until in rows:
        run = current.get(reason)
        if run is not None and listed_from <= run[4]:
            run[2].update(dict.fromkeys(cases))
            if until > run[4]:
                run[4] = until
        else:
            run = [key, reason, dict.fromkeys(cases), listed_from, until]
            current[reason] = run
            runs.append(run)
    return [
        Ground(key, reason, tuple(cases), listed_from, until)
        for key, reason, cases, listed_from, until in runs
    ]


def entries(all_grounds: Iterable[Ground]) -> list[Ground]:
    """The grounds as the list keeps them: per reason, a ground that starts while an earlier one
    still runs extends it (one entry, the decisions of both, the later end). A shop with a
    thousand upheld decisions has a handful of entries, not a thousand overlapping ones."""
    rows = [(g.listed_from, g.key, g.reason, g.cases, g.until) for g in all_grounds]
    rows.sort(key=_BY_START)
    return _merge(rows)


def merged_grounds(
    decisions: Iterable[Upheld], *, serious_tiers: Sequence[str], threshold: int, days: int
) -> list[Ground]:
    """`entries(grounds(...))`, without building the Ground of every decision on the way."""
    final = [d for d in decisions if d.final_at is not None]
    if threshold >= 1 and _in_step(final):
        return _merged_in_step(final, serious_tiers=serious_tiers, threshold=threshold, days=days)
    return _merge(_ground_rows(final, serious_tiers=serious_tiers, threshold=threshold, days=days))


def _in_step(final: Sequence[Upheld]) -> bool:
    """Whether the decisions (all final) became final strictly one after another, in the order they
    were made — as a busy shop's do, each a fixed window after its decision. Then no two grounds
    share a listing date but the two of one decision, and each decision only extends the stretch."""
    finals = [d.final_at for d in final if d.final_at is not None]  # all of them
    if not all(map(lt, finals, islice(finals, 1, None))):  # compared in C, not a loop of Python
        return False
    decided = [d.decided_at for d in final]
    if all(map(lt, decided, islice(decided, 1, None))):
        return True
    for i in range(1, len(final)):  # some made at the same instant: their case ids decide
        a, b = final[i - 1], final[i]
        if a.decided_at > b.decided_at or (a.decided_at == b.decided_at and a.case_id >= b.case_id):
            return False
    return True


def _merged_in_step(
    final: Sequence[Upheld], *, serious_tiers: Sequence[str], threshold: int, days: int
) -> list[Ground]:
    """`_merge(_ground_rows(final))` for decisions `_in_step`, in one pass and without a row per ground.

    The rows would come sorted by listing date, a decision's `repeated:` before its `serious:`, so
    each is merged as it is found. A repeated ground rests on the N decisions up to its own; the
    next one's window overlaps it, so an open entry only takes the decisions it does not hold yet.
    Cases stay a list until the end: the ordered set `_merge` builds is its first occurrences."""
    span = timedelta(days=days)
    decided = [d.decided_at for d in final]
    ids = [d.case_id for d in final]
    runs: list[list[Any]] = []  # [key, reason, case ids (in order, maybe repeated), listed_from, until]
    repeated: list[Any] | None = None  # the open run of each reason
    serious: list[Any] | None = None
    held = -1  # the last position of `final` the open repeated run holds
    for i, d in enumerate(final):
        final_at: datetime = d.final_at  # type: ignore[assignment]  # all final
        first = i - threshold + 1
        if first >= 0:
            gap = d.decided_at - decided[first]
            if gap < _SURELY_WITHIN or (
                gap <= _SURELY_BEYOND and months_later(decided[first], 12) > d.decided_at
            ):
                until = final_at + span
                if repeated is not None and final_at <= repeated[4]:
                    repeated[2].extend(ids[first if first > held else held + 1 : i + 1])
                    if until > repeated[4]:
                        repeated[4] = until
                else:
                    repeated = [f"repeated:{d.case_id}", "repeated", ids[first : i + 1], final_at, until]
                    runs.append(repeated)
                held = i
        if d.tier in serious_tiers:
            until = final_at + span
            if serious is not None and final_at <= serious[4]:
                serious[2].append(d.case_id)
                if until > serious[4]:
                    serious[4] = until
            else:
                serious = [f"serious:{d.case_id}", "serious", [d.case_id], final_at, until]
                runs.append(serious)
    return [
        Ground(key, reason, tuple(dict.fromkeys(cases)), listed_from, until)
        for key, reason, cases, listed_from, until in runs
    ]


def listing(all_grounds: Iterable[Ground], *, at: datetime) -> Listing:
    gs = list(all_grounds)
    return Listing(
        grounds=tuple(sorted((g for g in gs if g.in_force(at)), key=lambda g: (g.listed_from, g.key))),
        upcoming=tuple(sorted((g for g in gs if g.listed_from > at), key=lambda g: (g.listed_from, g.key))),
    )
