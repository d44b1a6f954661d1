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
from typing import Literal

from reviewshield.policy.calendar import BUSINESS_TZ

GroundReason = Literal["serious", "repeated"]


@dataclass(frozen=True)
class Upheld:
    """An upheld decision that stands. `final_at` is when it can no longer be appealed by the
    seller, or None while an appeal on it is waiting for a decision."""

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


def grounds(
    decisions: Iterable[Upheld], *, serious_tiers: Sequence[str], threshold: int, days: int
) -> list[Ground]:
    """Every ground the decisions give; decisions not yet final give none and count for none.

    Repeated: the decisions are taken in the order they became final; each one that, with those
    already final, completes N decided within 12 months of each other gives a ground from that
    moment (`repeated:<that decision>`, resting on the N closest). Kept sorted by decision date,
    so only the N-wide stretches around the new one need checking: O(n log n) for a busy shop."""
    span = timedelta(days=days)
    final = [d for d in decisions if d.final_at is not None]
    out: list[Ground] = []
    for d in sorted(final, key=lambda d: (d.decided_at, d.case_id)):
        if d.tier in serious_tiers:
            assert d.final_at is not None
            out.append(Ground(f"serious:{d.case_id}", "serious", (d.case_id,), d.final_at, d.final_at + span))
    if threshold < 1:
        return out
    horizon = {d.case_id: months_later(d.decided_at, 12) for d in final}
    done: list[tuple[datetime, int]] = []  # (decided_at, case_id) of the decisions final so far, sorted
    for d in sorted(final, key=lambda d: (d.final_at, d.decided_at, d.case_id)):
        assert d.final_at is not None
        key = (d.decided_at, d.case_id)
        pos = bisect.bisect_left(done, key)
        done.insert(pos, key)
        for first in range(max(0, pos - threshold + 1), pos + 1):
            last = first + threshold - 1
            if last >= len(done):
                break
            if horizon[done[first][1]] > done[last][0]:  # all N within 12 months
                cases = tuple(c for _at, c in done[first : last + 1])
                out.append(Ground(f"repeated:{d.case_id}", "repeated", cases, d.final_at, d.final_at + span))
                break
    out.sort(key=lambda g: (g.listed_from, g.key))
    return out


def entries(all_grounds: Iterable[Ground]) -> list[Ground]:
    """The grounds as the list keeps them: per reason, a ground that starts while an earlier one
    still runs extends it (one entry, the decisions of both, the later end). A shop with a
    thousand upheld decisions has a handful of entries, not a thousand overlapping ones."""
    runs: list[tuple[Ground, dict[int, None], datetime]] = []  # first ground, its cases, its end
    current: dict[str, int] = {}  # reason -> index of its open run
    for g in sorted(all_grounds, key=lambda g: (g.listed_from, g.key)):
        i = current.get(g.reason)
        if i is not None and g.listed_from <= runs[i][2]:
            first, cases, until = runs[i]
            cases.update(dict.fromkeys(g.cases))
            runs[i] = (first, cases, max(until, g.until))
        else:
            current[g.reason] = len(runs)
            runs.append((g, dict.fromkeys(g.cases), g.until))
    return [Ground(g.key, g.reason, tuple(cases), g.listed_from, until) for g, cases, until in runs]


def listing(all_grounds: Iterable[Ground], *, at: datetime) -> Listing:
    gs = list(all_grounds)
    return Listing(
        grounds=tuple(sorted((g for g in gs if g.in_force(at)), key=lambda g: (g.listed_from, g.key))),
        upcoming=tuple(sorted((g for g in gs if g.listed_from > at), key=lambda g: (g.listed_from, g.key))),
    )
