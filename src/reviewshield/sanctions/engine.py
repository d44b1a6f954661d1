"""The pure sanctions core: from a shop's upheld decisions to its points ledger and node penalties.

No Django, no clock. The database keeps an append-only ledger and the penalties it applied; this
module says what they *should* be, given every upheld decision that still stands, the rules exams
the seller passed and the ruleset's nodes. Services compare the two and append the difference —
so a first decision, a second one at the same moment, an appeal that overturns one of them and
the year-end reset all go through the same computation, and a recompute is always safe to repeat.

The rules it encodes (reference/platform-rules.md, section 1):

- points are kept per class (A general, B serious) and per calendar year in Asia/Shanghai;
- at the year end A is cleared, B is cleared below `keep_b_from` and carried over at or above it;
- a deduction that reaches a node applies that node's penalty; crossing several nodes at once, or
  reaching one while a same-class penalty is still in force, applies only the heaviest;
- a penalty is lifted when its period has ended and the seller has passed the rules exam (an exam
  passed after the penalty began); one without a period (a sealed account) waits for a person;
- tmall-2020: from the nth upheld case of a calendar year the tier adds extra points;
- jd-2023: a year's points reaching `contract_end_points` is flagged for a person.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from operator import attrgetter, lt
from typing import Literal, NamedTuple

from reviewshield.policy.calendar import BUSINESS_TZ
from reviewshield.policy.ruleset import Node, PointsClass, Sanctions

EntryKind = Literal["deduction", "extra", "carry"]
_KIND_ORDER = {"carry": 0, "deduction": 1, "extra": 2}


# Decision, Entry and Penalty are named tuples, not frozen dataclasses: a busy shop has a thousand
# decisions and entries and a few hundred penalties per recompute, and a frozen dataclass costs
# three times as much to build.


class Decision(NamedTuple):
    """An upheld decision that stands, with what its tier gives."""

    case_id: int
    at: datetime
    points: int
    points_class: PointsClass
    extra_from_nth: int | None = None
    extra_points: int = 0
    extra_class: PointsClass | None = None


class Entry(NamedTuple):
    """One line of the ledger as it should be. `key` is stable, so the database can tell which
    lines it already holds and append only corrections."""

    kind: EntryKind
    case_id: int | None
    points_class: PointsClass
    year: int
    points: int
    at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.case_id or 0}:{self.points_class}:{self.year}"


class Penalty(NamedTuple):
    """A node penalty as it should be. `absorbed_by` names the running penalty that made this node
    apply nothing (only the heaviest applies); `superseded_at` is when a heavier one replaced it."""

    key: str
    node: Node
    entry_key: str
    case_id: int | None
    year: int
    points_after: int
    started_at: datetime
    ends_at: datetime | None
    lifted_at: datetime | None = None
    superseded_at: datetime | None = None
    absorbed_by: str | None = None

    def in_force(self, at: datetime) -> bool:
        if self.absorbed_by is not None or self.started_at > at:
            return False
        if self.superseded_at is not None and self.superseded_at <= at:
            return False
        return not (self.lifted_at is not None and self.lifted_at <= at)

    def awaiting_exam(self, at: datetime) -> bool:
        """Its period is over, but the seller has not passed the exam yet."""
        return self.in_force(at) and self.ends_at is not None and self.ends_at <= at


@dataclass(frozen=True)
class Flag:
    """Something the rules leave to a person (JD: the contract may be ended)."""

    key: str
    kind: Literal["contract_end"]
    year: int
    points: int
    at: datetime


@dataclass(frozen=True)
class ShopStatus:
    at: datetime
    measures: frozenset[str]
    penalties: tuple[Penalty, ...]  # in force at `at`, heaviest first
    until: datetime | None  # when the last running period ends; None if indefinite or nothing runs
    indefinite: bool  # a penalty without a period (a sealed account) is in force
    awaiting_exam: bool
    points: dict[str, int] = field(default_factory=dict)  # this year's tally by class

    @property
    def hidden(self) -> bool:
        return bool(self.measures & {"hidden", "closed", "sealed"})

    @property
    def may_list(self) -> bool:
        return not self.measures & {"no_new_listings", "listing_restricted", "closed", "sealed"}

    @property
    def may_message(self) -> bool:
        return not self.measures & {"no_site_messages", "sealed"}

    @property
    def may_open_shop(self) -> bool:
        return not self.measures & {"no_new_shop", "sealed"}

    @property
    def closed(self) -> bool:
        return bool(self.measures & {"closed", "sealed"})

    @property
    def sealed(self) -> bool:
        return "sealed" in self.measures

    @property
    def public_warning(self) -> bool:
        return "public_warning" in self.measures


def local_year(at: datetime) -> int:
    return at.astimezone(BUSINESS_TZ).year


def year_end(year: int) -> datetime:
    """24:00 on 31 December of `year`, local — the instant the year-end reset happens."""
    return datetime(year + 1, 1, 1, tzinfo=BUSINESS_TZ)


def _local_years() -> Callable[[datetime], int]:
    """`local_year` for many instants, most of them in the same year: the year's bounds are
    converted to UTC once, and a UTC instant inside them is only compared (an `astimezone` per
    decision cost more than the rest of its ledger line). Other instants take the plain conversion."""
    start = end = datetime.min.replace(tzinfo=UTC)  # [start, end) in UTC of `known`: none yet
    known = 0

    def of(at: datetime) -> int:
        nonlocal start, end, known
        # Compared only when both sides are UTC: Python compares same-tzinfo datetimes by wall
        # clock, which is exact for UTC and not for a zone with daylight saving.
        if at.tzinfo is UTC and start <= at < end:
            return known
        year = local_year(at)
        if at.tzinfo is UTC:
            start, end, known = year_end(year - 1).astimezone(UTC), year_end(year).astimezone(UTC), year
        return year

    return of


_BY_TIME = attrgetter("at", "case_id")


def ledger(decisions: Iterable[Decision], rules: Sanctions, *, until: datetime) -> list[Entry]:
    """Every ledger line the standing decisions give, with the B carry-overs of year ends before `until`."""
    ordered = list(decisions)
    if not _in_time_order(ordered):
        ordered.sort(key=_BY_TIME)
    entries: list[Entry] = []
    nth_in_year: dict[int, int] = defaultdict(int)
    b_by_year: dict[int, int] = defaultdict(int)  # each year's B points, for the carry-overs
    year_of = _local_years()
    # Built with `tuple.__new__`: the named tuple's own constructor is a Python call that costs
    # twice the tuple, and a busy shop has a thousand lines.
    new, entry = tuple.__new__, Entry
    for d in ordered:
        year = year_of(d.at)
        nth_in_year[year] += 1
        if d.points > 0:
            entries.append(new(entry, ("deduction", d.case_id, d.points_class, year, d.points, d.at)))
            if d.points_class == "B":
                b_by_year[year] += d.points
        if _gives_extra(d, nth_in_year[year]):
            entries.append(new(entry, ("extra", d.case_id, d.extra_class, year, d.extra_points, d.at)))
            if d.extra_class == "B":
                b_by_year[year] += d.extra_points
    if not entries:
        return entries
    # Carry B over each year end that has passed: a year's closing B tally (its carry-in included)
    # at or above keep_b_from opens the next year.
    carries: list[Entry] = []
    carry = 0
    year = entries[0].year  # the earliest: lines are made in time order, and years follow time
    while year_end(year) <= until:
        closing = carry + b_by_year.get(year, 0)
        carry = closing if closing >= rules.keep_b_from else 0
        if carry:
            carries.append(Entry("carry", None, "B", year + 1, carry, year_end(year)))
        year += 1
    if carries:
        entries += carries
    return _put_in_entry_order(entries)


def _gives_extra(d: Decision, nth_in_year: int) -> bool:
    return (
        d.extra_from_nth is not None
        and d.extra_class is not None
        and d.extra_points > 0
        and nth_in_year >= d.extra_from_nth
    )


def decision_entries(d: Decision, *, nth_in_year: int) -> list[Entry]:
    """The ledger lines `ledger` gives decision `d` when it is the `nth_in_year` standing decision
    of its local year (for a decision appended after every other: `penalties_after`)."""
    year = local_year(d.at)
    out = []
    if d.points > 0:
        out.append(Entry("deduction", d.case_id, d.points_class, year, d.points, d.at))
    if _gives_extra(d, nth_in_year):
        assert d.extra_class is not None
        out.append(Entry("extra", d.case_id, d.extra_class, year, d.extra_points, d.at))
    return out


def by_key(entries: Iterable[Entry]) -> dict[str, Entry]:
    """`{e.key: e for e in entries}`, with the key written out: a busy shop's thousand lines are
    keyed on every sync, and the property's call costs half as much as the key itself."""
    return {f"{e.kind}:{e.case_id or 0}:{e.points_class}:{e.year}": e for e in entries}


def _entry_order(e: Entry) -> tuple[datetime, int, int, str]:
    return (e.at, _KIND_ORDER[e.kind], e.case_id or 0, e.points_class)


# The decisions come from the database in time order, and the ledger leaves in entry order. Checking
# the order first spares the sort's key tuple per item (a thousand on each walk of a busy shop's
# ledger), where a sort of data already in order would move nothing.


def _increasing(instants: Sequence[datetime]) -> bool:
    """Whether each instant is strictly after the one before (compared in C, not a loop of Python)."""
    return all(map(lt, instants, islice(instants, 1, None)))


def _in_time_order(decisions: Sequence[Decision]) -> bool:
    if _increasing([d.at for d in decisions]):  # the usual case: no two at the same instant
        return True
    for i in range(1, len(decisions)):
        a, b = decisions[i - 1], decisions[i]
        if a.at > b.at or (a.at == b.at and a.case_id > b.case_id):
            return False
    return True


def _in_entry_order(entries: Iterable[Entry]) -> list[Entry]:
    """The entries sorted by `_entry_order` (a new list)."""
    return _put_in_entry_order(list(entries))


def _put_in_entry_order(out: list[Entry]) -> list[Entry]:
    """`out` sorted by `_entry_order`, in place."""
    if _increasing([e.at for e in out]):  # the usual case: no two at the same instant
        return out
    for i in range(1, len(out)):
        a, b = out[i - 1], out[i]
        if a.at < b.at:
            continue
        if a.at > b.at or _entry_order(a) > _entry_order(b):
            out.sort(key=_entry_order)
            break
    return out


def tallies(entries: Iterable[Entry]) -> dict[tuple[int, str], int]:
    """Points per (year, class)."""
    out: dict[tuple[int, str], int] = defaultdict(int)
    for e in entries:
        out[(e.year, e.points_class)] += e.points
    return dict(out)


def _crossed(nodes: Sequence[Node], points_class: str, before: int, after: int) -> list[Node]:
    found = []
    for node in nodes:
        if node.points_class != points_class:
            continue
        if node.repeats:
            if after // node.at > before // node.at:
                found.append(node)
        elif before < node.at <= after:
            found.append(node)
    return found


def _lift_time(
    start: datetime, node: Node, exams: Sequence[datetime], exam_required: bool
) -> datetime | None:
    if node.days is None:
        return None  # a sealed account waits for a person (or an appeal that overturns its basis)
    end = start + timedelta(days=node.days)
    if not exam_required:
        return end
    i = bisect.bisect_left(exams, start)
    if i == len(exams):
        return None
    return max(end, exams[i])


_NEVER = float("inf")


def _next_node_at(nodes: Sequence[Node], tally: int) -> float:
    """The lowest tally above `tally` at which one of `nodes` (of one class) is reached — so that
    `_crossed(nodes, cls, tally, after)` is empty for every `after` from `tally` up to below it."""
    lowest = _NEVER
    for node in nodes:
        if node.repeats:
            if node.at <= 0:
                return tally  # no such bound: every entry goes through `_crossed`
            reached = (tally // node.at + 1) * node.at
        elif node.at > tally:
            reached = node.at
        else:
            continue
        if reached < lowest:
            lowest = reached
    return lowest


def penalties(entries: Sequence[Entry], rules: Sanctions, *, exams: Iterable[datetime] = ()) -> list[Penalty]:
    """Walk the ledger in time order and say which node penalties apply, which were absorbed by a
    heavier running one, and when each ends, is superseded or lifted."""
    return _walk(_in_entry_order(entries), rules, sorted(exams), [], {}, defaultdict(int))


def penalties_after(
    entries: Sequence[Entry],
    rules: Sanctions,
    *,
    exams: Iterable[datetime] = (),
    tally: dict[tuple[int, str], int],
    running: Sequence[Penalty],
) -> list[Penalty]:
    """`penalties` resumed: the walk goes on from a ledger whose points per (year, class) are
    `tally` and whose last applied (not absorbed) penalty of each class is in `running`, with
    `entries`, which all come after every line that ledger holds. Returns the running penalties as
    the walk leaves them (a heavier one may supersede them), then the new ones, in walk order — so
    a decision appended after every other costs its own lines, not the shop's whole history."""
    out = list(running)
    by_class: dict[str, int] = {p.node.points_class: i for i, p in enumerate(out)}
    if len(by_class) != len(out):
        raise ValueError("give at most one running penalty per class")
    return _walk(_in_entry_order(entries), rules, sorted(exams), out, by_class, defaultdict(int, tally))


def _walk(
    ordered: Sequence[Entry],
    rules: Sanctions,
    exam_times: Sequence[datetime],
    out: list[Penalty],
    running: dict[str, int],  # class -> index in `out` of the penalty last applied in that class
    tally: dict[tuple[int, str], int],
) -> list[Penalty]:
    # For each tally, the next points at which a node of its class is reached: most entries stay
    # below it and need no look at the nodes (a busy shop's thousand lines reach a node every few).
    next_node: dict[tuple[int, str], float] = {}
    nodes_of: dict[str, list[Node]] = {}  # the ruleset's nodes of each class, in its order
    for node in rules.nodes:
        nodes_of.setdefault(node.points_class, []).append(node)
    for e in ordered:
        bucket = (e.year, e.points_class)
        before = tally[bucket]
        after = before + e.points
        tally[bucket] = after
        bound = next_node.get(bucket)
        if bound is not None and before <= after < bound:
            continue  # no node between `before` and `after` (a carry-over reaches none anyway)
        nodes = nodes_of.get(e.points_class, ())
        next_node[bucket] = _next_node_at(nodes, after)
        if e.kind == "carry":
            continue  # a carry-over continues last year's tally; it reaches no node by itself
        crossed = _crossed(nodes, e.points_class, before, after)
        if not crossed:
            continue
        node = max(crossed, key=lambda n: n.severity)
        entry_key = e.key
        key = f"{node.key}@{entry_key}"
        index = running.get(e.points_class)
        current = None if index is None else out[index]
        if current is not None and current.in_force(e.at) and current.node.severity >= node.severity:
            out.append(
                Penalty(key, node, entry_key, e.case_id, e.year, after, e.at, None, absorbed_by=current.key)
            )
            continue
        if index is not None and current is not None and current.in_force(e.at):
            out[index] = _replace(current, superseded_at=e.at)
        penalty = Penalty(
            key,
            node,
            entry_key,
            e.case_id,
            e.year,
            after,
            e.at,
            None if node.days is None else e.at + timedelta(days=node.days),
            _lift_time(e.at, node, exam_times, rules.exam_required),
        )
        running[e.points_class] = len(out)
        out.append(penalty)
    return out


def _replace(p: Penalty, *, superseded_at: datetime) -> Penalty:
    return Penalty(
        key=p.key,
        node=p.node,
        entry_key=p.entry_key,
        case_id=p.case_id,
        year=p.year,
        points_after=p.points_after,
        started_at=p.started_at,
        ends_at=p.ends_at,
        lifted_at=p.lifted_at,
        superseded_at=superseded_at,
        absorbed_by=p.absorbed_by,
    )


def flags(entries: Iterable[Entry], *, contract_end_points: int | None) -> list[Flag]:
    """JD: the first moment each year's points (both classes) reach the contract-end threshold."""
    if contract_end_points is None:
        return []
    out: list[Flag] = []
    total: dict[int, int] = defaultdict(int)
    for e in _in_entry_order(entries):
        before = total[e.year]
        total[e.year] = before + e.points
        if before < contract_end_points <= total[e.year]:
            out.append(Flag(f"contract_end:{e.year}", "contract_end", e.year, total[e.year], e.at))
    return out


def status(penalties_: Iterable[Penalty], entries: Iterable[Entry], *, at: datetime) -> ShopStatus:
    """What a shop may and may not do at `at`."""
    active = sorted(
        (p for p in penalties_ if p.in_force(at)),
        key=lambda p: (p.node.severity, p.started_at),
        reverse=True,
    )
    measures = frozenset(m for p in active for m in p.node.measures)
    indefinite = any(p.ends_at is None for p in active)
    ends = [p.ends_at for p in active if p.ends_at is not None and p.ends_at > at]
    year = local_year(at)
    points = {"A": 0, "B": 0}
    for e in entries:
        if e.year == year and e.at <= at:
            points[e.points_class] += e.points
    return ShopStatus(
        at=at,
        measures=measures,
        penalties=tuple(active),
        until=None if indefinite or not ends else max(ends),
        indefinite=indefinite,
        awaiting_exam=any(p.awaiting_exam(at) for p in active),
        points=points,
    )
