"""The pure sanctions engine, table-driven per ruleset, plus properties that must hold for any history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.policy import BUSINESS_TZ, RulesetRegistry
from reviewshield.policy.ruleset import Node, Sanctions
from reviewshield.sanctions import engine
from reviewshield.sanctions.engine import Decision

REGISTRY = RulesetRegistry.load()
TAOBAO = REGISTRY.get("taobao-2013")
T2021 = REGISTRY.get("taobao-2021")
TMALL = REGISTRY.get("tmall-2020")
JD = REGISTRY.get("jd-2023")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BUSINESS_TZ)


def decision(ruleset, tier: str, when: str, case_id: int) -> Decision:
    t = ruleset.tiers[tier]
    return Decision(
        case_id=case_id,
        at=at(when),
        points=t.points,
        points_class=t.points_class,
        extra_from_nth=t.extra_points_from_nth_case,
        extra_points=t.extra_points,
        extra_class=t.extra_points_class,
    )


def run(ruleset, decisions, *, until: str = "2026-12-31 12:00", exams=()):
    entries = engine.ledger(decisions, ruleset.sanctions, until=at(until))
    return entries, engine.penalties(entries, ruleset.sanctions, exams=[at(e) for e in exams])


def applied(penalties):
    return [(p.node.key, p.started_at) for p in penalties if p.absorbed_by is None]


# (ruleset, tiers decided in order a day apart, the node keys applied, the node keys absorbed)
NODE_TABLE = [
    ("taobao-2013", ["ordinary"], ["Aevery12"], []),
    ("taobao-2013", ["serious"], ["B48"], []),  # 0 → 48 crosses 12, 24, 36 and 48: only the heaviest
    ("taobao-2021", ["ordinary"] * 5, [], []),  # 2 points each: 10 points reach no node
    ("taobao-2021", ["ordinary"] * 6, ["Aevery12"], []),  # the sixth makes 12
    ("taobao-2021", ["serious"], ["Aevery12"], []),
    ("taobao-2021", ["especially_serious"], ["B48"], []),
    ("tmall-2020", ["ordinary", "ordinary"], [], []),  # money only for the first two cases
    ("tmall-2020", ["ordinary"] * 3, ["Aevery12"], []),  # the third case adds 12 points (A)
    ("jd-2023", ["serious", "serious", "serious"], [], []),  # no nodes known for JD
]


@pytest.mark.parametrize(("ruleset_id", "tiers", "keys", "absorbed"), NODE_TABLE)
def test_nodes_per_ruleset(ruleset_id, tiers, keys, absorbed):
    ruleset = REGISTRY.get(ruleset_id)
    decisions = [
        decision(ruleset, tier, f"2026-03-{i + 1:02d} 10:00", case_id=i + 1) for i, tier in enumerate(tiers)
    ]
    _entries, penalties = run(ruleset, decisions)
    assert [k for k, _ in applied(penalties)] == keys
    assert [p.node.key for p in penalties if p.absorbed_by] == absorbed


def test_b_nodes_one_by_one_with_exam_between():
    """B 12 → 7 days, 24 → 14 days, 36 → 21 days (closed), 48 → sealed, each when the last was lifted."""
    sanctions = TAOBAO.sanctions
    decisions = [
        Decision(1, at("2026-02-02 10:00"), 12, "B"),
        Decision(2, at("2026-03-02 10:00"), 12, "B"),
        Decision(3, at("2026-04-02 10:00"), 12, "B"),
        Decision(4, at("2026-06-02 10:00"), 12, "B"),
    ]
    exams = [at("2026-02-03 09:00"), at("2026-03-03 09:00"), at("2026-04-03 09:00")]
    entries = engine.ledger(decisions, sanctions, until=at("2026-12-01 00:00"))
    penalties = engine.penalties(entries, sanctions, exams=exams)
    got = [(p.node.key, p.ends_at, p.lifted_at) for p in penalties]
    assert got == [
        ("B12", at("2026-02-09 10:00"), at("2026-02-09 10:00")),
        ("B24", at("2026-03-16 10:00"), at("2026-03-16 10:00")),
        ("B36", at("2026-04-23 10:00"), at("2026-04-23 10:00")),
        ("B48", None, None),
    ]
    status = engine.status(penalties, entries, at=at("2026-04-10 00:00"))
    assert status.closed and status.hidden and not status.may_message and not status.sealed
    assert status.until == at("2026-04-23 10:00")
    sealed = engine.status(penalties, entries, at=at("2026-11-01 00:00"))
    assert sealed.sealed and sealed.indefinite and sealed.until is None
    assert sealed.points == {"A": 0, "B": 48}


def test_period_over_but_no_exam_keeps_the_penalty():
    entries, penalties = run(TAOBAO, [decision(TAOBAO, "ordinary", "2026-05-01 10:00", 1)])
    (p,) = penalties
    assert p.ends_at == at("2026-05-08 10:00") and p.lifted_at is None
    after = engine.status(penalties, entries, at=at("2026-05-20 00:00"))
    assert after.hidden and after.awaiting_exam and after.until is None
    # An exam passed before the penalty began does not count; one after it lifts at the period end.
    _e, with_old_exam = run(
        TAOBAO, [decision(TAOBAO, "ordinary", "2026-05-01 10:00", 1)], exams=["2026-04-01"]
    )
    assert with_old_exam[0].lifted_at is None
    _e, with_exam = run(TAOBAO, [decision(TAOBAO, "ordinary", "2026-05-01 10:00", 1)], exams=["2026-05-02"])
    assert with_exam[0].lifted_at == at("2026-05-08 10:00")
    _e, late_exam = run(TAOBAO, [decision(TAOBAO, "ordinary", "2026-05-01 10:00", 1)], exams=["2026-05-30"])
    assert late_exam[0].lifted_at == at("2026-05-30 00:00")


def test_node_during_a_running_penalty_only_heaviest_applies():
    # B 12 on 1 March (7 days); B 24 reached on 3 March while it runs: B 24 is heavier and replaces it.
    decisions = [Decision(1, at("2026-03-01 10:00"), 12, "B"), Decision(2, at("2026-03-03 10:00"), 12, "B")]
    entries = engine.ledger(decisions, TAOBAO.sanctions, until=at("2026-04-01 00:00"))
    penalties = engine.penalties(entries, TAOBAO.sanctions)
    first, second = penalties
    assert first.node.key == "B12" and first.superseded_at == at("2026-03-03 10:00")
    assert second.node.key == "B24" and second.ends_at == at("2026-03-17 10:00")
    status = engine.status(penalties, entries, at=at("2026-03-05 00:00"))
    assert [p.node.key for p in status.penalties] == ["B24"]
    # A every 12: a second 12 while the first A penalty runs is no heavier, so it is absorbed.
    decisions = [Decision(1, at("2026-03-01 10:00"), 12, "A"), Decision(2, at("2026-03-03 10:00"), 12, "A")]
    entries = engine.ledger(decisions, TAOBAO.sanctions, until=at("2026-04-01 00:00"))
    first, second = engine.penalties(entries, TAOBAO.sanctions)
    assert first.superseded_at is None and second.absorbed_by == first.key
    # Classes run independently: an A penalty does not absorb a B node.
    decisions = [Decision(1, at("2026-03-01 10:00"), 12, "A"), Decision(2, at("2026-03-02 10:00"), 12, "B")]
    entries = engine.ledger(decisions, TAOBAO.sanctions, until=at("2026-04-01 00:00"))
    assert [p.node.key for p in engine.penalties(entries, TAOBAO.sanctions) if not p.absorbed_by] == [
        "Aevery12",
        "B12",
    ]


@pytest.mark.parametrize(
    ("b_points", "carried"),
    [(12, 0), (36, 0), (47, 0), (48, 48), (60, 60)],
)
def test_year_end_reset(b_points, carried):
    decisions = [
        Decision(1, at("2026-06-01 10:00"), b_points, "B"),
        Decision(2, at("2026-06-02 10:00"), 24, "A"),
    ]
    before = engine.ledger(decisions, TAOBAO.sanctions, until=at("2026-12-31 23:59"))
    after = engine.ledger(decisions, TAOBAO.sanctions, until=at("2027-01-01 00:00"))
    assert [e.kind for e in before].count("carry") == 0
    carries = [e for e in after if e.kind == "carry"]
    assert sum(e.points for e in carries) == carried
    tallies = engine.tallies(after)
    assert tallies.get((2027, "A"), 0) == 0  # A is always cleared
    assert tallies.get((2027, "B"), 0) == carried
    assert tallies[(2026, "B")] == b_points  # the history stays
    # Carried B reaches no new node in the new year, and a sealed account stays sealed.
    penalties = engine.penalties(after, TAOBAO.sanctions)
    assert all(p.year == 2026 for p in penalties)
    status = engine.status(penalties, after, at=at("2027-01-02 00:00"))
    assert status.sealed == (b_points >= 48)
    assert status.points == {"A": 0, "B": carried}


def test_carry_continues_over_several_years_only_while_high():
    decisions = [Decision(1, at("2026-06-01 10:00"), 48, "B")]
    entries = engine.ledger(decisions, TAOBAO.sanctions, until=at("2029-06-01 00:00"))
    assert [(e.year, e.points) for e in entries if e.kind == "carry"] == [(2027, 48), (2028, 48), (2029, 48)]


def test_year_is_local_time():
    # 31 Dec 2026 20:00 UTC is already 1 Jan 2027 in Beijing.
    from datetime import UTC

    d = Decision(1, datetime(2026, 12, 31, 20, 0, tzinfo=UTC), 12, "A")
    (entry,) = engine.ledger([d], TAOBAO.sanctions, until=at("2027-01-02 00:00"))
    assert entry.year == 2027


def test_third_tmall_case_of_the_year_adds_twelve_points_and_not_across_years():
    decisions = [
        decision(TMALL, "ordinary", "2026-11-01 10:00", 1),
        decision(TMALL, "ordinary", "2026-12-01 10:00", 2),
        decision(TMALL, "ordinary", "2027-01-05 10:00", 3),  # the first of 2027
        decision(TMALL, "ordinary", "2027-02-05 10:00", 4),
        decision(TMALL, "ordinary", "2027-03-05 10:00", 5),  # the third of 2027
        decision(TMALL, "ordinary", "2027-04-05 10:00", 6),
    ]
    entries = engine.ledger(decisions, TMALL.sanctions, until=at("2027-06-01 00:00"))
    assert [(e.case_id, e.points) for e in entries if e.kind == "extra"] == [(5, 12), (6, 12)]


def test_jd_hundred_points_flags_the_contract_for_a_person():
    decisions = [Decision(i, at(f"2026-0{i}-01 10:00"), 48, "B") for i in (1, 2, 3)]
    entries = engine.ledger(decisions, JD.sanctions, until=at("2026-12-01 00:00"))
    (flag,) = engine.flags(entries, contract_end_points=JD.contract_end_points)
    assert flag.year == 2026 and flag.points == 144 and flag.at == at("2026-03-01 10:00")
    assert engine.flags(entries, contract_end_points=None) == []


def test_overturn_recompute_lifts_what_no_longer_holds_and_keeps_what_does():
    # Two B 12 decisions: B24 replaced B12. Overturning the second leaves B12 only.
    both = [Decision(1, at("2026-03-01 10:00"), 12, "B"), Decision(2, at("2026-03-03 10:00"), 12, "B")]
    _e, before = run(TAOBAO, both)
    _e, after = run(TAOBAO, both[:1])
    assert {p.key for p in before} - {p.key for p in after} == {"B24@deduction:2:B:2026"}
    (kept,) = after
    assert kept.superseded_at is None  # B12 runs again for its own period
    # Overturning the first instead: the second alone reaches B12, a different penalty.
    _e, other = run(TAOBAO, both[1:])
    assert [p.key for p in other] == ["B12@deduction:2:B:2026"]


# --- properties over any history -----------------------------------------------------------------

tiers_strategy = st.lists(
    st.tuples(
        st.sampled_from(["taobao-2013", "taobao-2021", "tmall-2020"]),
        st.sampled_from(["ordinary", "serious", "especially_serious"]),
        st.integers(min_value=0, max_value=900 * 24),  # hours after 2026-01-01
    ),
    max_size=25,
)


def _decisions(items):
    out = []
    for i, (rid, tier, hours) in enumerate(items):
        ruleset = REGISTRY.get(rid)
        if tier not in ruleset.tiers:
            tier = "ordinary"
        t = ruleset.tiers[tier]
        out.append(
            Decision(
                case_id=i + 1,
                at=at("2026-01-01 00:00") + timedelta(hours=hours),
                points=t.points,
                points_class=t.points_class,
                extra_from_nth=t.extra_points_from_nth_case,
                extra_points=t.extra_points,
                extra_class=t.extra_points_class,
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(tiers_strategy, st.lists(st.integers(min_value=0, max_value=900), max_size=5), st.randoms())
def test_properties(items, exam_days, rnd):
    decisions = _decisions(items)
    exams = [at("2026-01-01 00:00") + timedelta(days=d) for d in exam_days]
    until = at("2028-12-31 00:00")
    entries = engine.ledger(decisions, TAOBAO.sanctions, until=until)
    shuffled = list(decisions)
    rnd.shuffle(shuffled)
    # The input order does not matter: the same history gives the same ledger and penalties.
    assert engine.ledger(shuffled, TAOBAO.sanctions, until=until) == entries
    penalties = engine.penalties(entries, TAOBAO.sanctions, exams=exams)
    assert engine.penalties(list(reversed(entries)), TAOBAO.sanctions, exams=exams) == penalties
    # Deductions add up to what the decisions gave.
    given_points = sum(d.points for d in decisions)
    assert sum(e.points for e in entries if e.kind == "deduction") == given_points
    # At any moment at most one penalty per class is in force, and nothing lifts before its period ends.
    for p in penalties:
        for moment in (p.started_at, p.started_at + timedelta(days=3), p.started_at + timedelta(days=30)):
            active = [q for q in penalties if q.in_force(moment)]
            for cls in "AB":
                assert len([q for q in active if q.node.points_class == cls]) <= 1
        if p.lifted_at is not None and p.ends_at is not None:
            assert p.lifted_at >= p.ends_at
    # A sealed account (48 B in a year) stays sealed through the following years.
    for (year, cls), total in engine.tallies(entries).items():
        if cls == "B" and total >= 48 and year < 2028:
            assert engine.tallies(entries).get((year + 1, "B"), 0) >= 48


# The engine's walks skip work on the usual history (lines already in order, tallies below the next
# node); a plain walk over the same rules is the reference they must agree with on any history.


def _reference_penalties(entries, rules, exams=()):
    exam_times = sorted(exams)
    running, out, tally = {}, [], {}
    for e in sorted(
        entries,
        key=lambda e: (
            e.at,
            {"carry": 0, "deduction": 1, "extra": 2}[e.kind],
            e.case_id or 0,
            e.points_class,
        ),
    ):
        bucket = (e.year, e.points_class)
        before = tally.get(bucket, 0)
        tally[bucket] = before + e.points
        if e.kind == "carry":
            continue
        crossed = engine._crossed(rules.nodes, e.points_class, before, before + e.points)
        if not crossed:
            continue
        node = max(crossed, key=lambda n: n.severity)
        key = f"{node.key}@{e.key}"
        index = running.get(e.points_class)
        current = None if index is None else out[index]
        if current is not None and current.in_force(e.at) and current.node.severity >= node.severity:
            out.append(
                engine.Penalty(
                    key,
                    node,
                    e.key,
                    e.case_id,
                    e.year,
                    before + e.points,
                    e.at,
                    None,
                    absorbed_by=current.key,
                )
            )
            continue
        if current is not None and current.in_force(e.at):
            out[index] = current._replace(superseded_at=e.at)
        running[e.points_class] = len(out)
        out.append(
            engine.Penalty(
                key,
                node,
                e.key,
                e.case_id,
                e.year,
                before + e.points,
                e.at,
                None if node.days is None else e.at + timedelta(days=node.days),
                engine._lift_time(e.at, node, exam_times, rules.exam_required),
            )
        )
    return out


_nodes = st.lists(
    st.builds(
        Node,
        st.sampled_from(["A", "B"]),
        st.integers(-2, 30),
        st.sampled_from([("hidden",), ("hidden", "no_new_listings"), ("sealed",)]),
        st.one_of(st.none(), st.integers(1, 40)),
        st.booleans(),
    ).filter(lambda n: n.at != 0 or not n.repeats),  # every 0 points would divide by zero
    max_size=6,
)
_entries = st.lists(
    st.builds(
        lambda kind, case_id, cls, year, points, hours: engine.Entry(
            kind,
            None if kind == "carry" else case_id,
            cls,
            year,
            points,
            at("2026-01-01 00:00") + timedelta(hours=hours),
        ),
        st.sampled_from(["deduction", "extra", "carry"]),
        st.integers(1, 50),
        st.sampled_from(["A", "B"]),
        st.sampled_from([2026, 2027]),
        st.integers(-8, 12),
        st.integers(0, 24 * 60),
    ),
    max_size=40,
)


@settings(max_examples=500, deadline=None)
@given(_entries, _nodes, st.booleans(), st.lists(st.integers(0, 24 * 60), max_size=4))
def test_penalties_agree_with_a_plain_walk(entries, nodes, exam_required, exam_hours):
    rules = Sanctions(nodes=tuple(nodes), exam_required=exam_required)
    exams = [at("2026-01-01 00:00") + timedelta(hours=h) for h in exam_hours]
    assert engine.penalties(entries, rules, exams=exams) == _reference_penalties(entries, rules, exams)
    assert engine.by_key(entries) == {e.key: e for e in entries}


@settings(max_examples=150, deadline=None)
@given(tiers_strategy, st.lists(st.integers(min_value=0, max_value=900), max_size=5))
def test_ledger_penalties_of_a_busy_history_agree_with_a_plain_walk(items, exam_days):
    """Taobao 2021's repeating node over histories with and without decisions at the same instant."""
    decisions = [d._replace(at=d.at.replace(minute=0)) for d in _decisions(items)]
    exams = [at("2026-01-01 00:00") + timedelta(days=d) for d in exam_days]
    for ruleset in (TAOBAO, T2021):
        entries = engine.ledger(decisions, ruleset.sanctions, until=at("2028-12-31 00:00"))
        assert engine.penalties(entries, ruleset.sanctions, exams=exams) == _reference_penalties(
            entries, ruleset.sanctions, exams
        )


# The append path of the sync resumes the walk from what the database holds: the tallies and the
# last applied penalty of each class. Resumed, it must give what the whole walk gives.


def _resumed(entries, rules, exams, split):
    """The whole walk's result, computed as: the walk up to `split`, then resumed for the rest."""
    ordered = engine._in_entry_order(entries)
    head, tail = ordered[:split], ordered[split:]
    before = engine.penalties(head, rules, exams=exams)
    last: dict[str, int] = {}
    for i, p in enumerate(before):
        if p.absorbed_by is None:
            last[p.node.points_class] = i
    running = [before[i] for i in sorted(last.values())]
    resumed = engine.penalties_after(tail, rules, exams=exams, tally=engine.tallies(head), running=running)
    merged = list(before)
    for i, p in zip(sorted(last.values()), resumed, strict=False):
        merged[i] = p
    return merged + resumed[len(running) :]


@settings(max_examples=500, deadline=None)
@given(_entries, _nodes, st.booleans(), st.lists(st.integers(0, 24 * 60), max_size=4), st.integers(0, 40))
def test_a_walk_resumed_after_any_line_gives_the_whole_walk(entries, nodes, exam_required, exam_hours, split):
    rules = Sanctions(nodes=tuple(nodes), exam_required=exam_required)
    exams = [at("2026-01-01 00:00") + timedelta(hours=h) for h in exam_hours]
    ordered = engine._in_entry_order(entries)
    split = min(split, len(ordered))
    # Resumed only where the lines after the split all come later than those before (as a decision
    # appended after every other does); lines at the same instant may sit on either side.
    if 0 < split < len(ordered) and ordered[split - 1].at == ordered[split].at:
        split = 0
    assert _resumed(entries, rules, exams, split) == engine.penalties(entries, rules, exams=exams)


@settings(max_examples=150, deadline=None)
@given(tiers_strategy, st.lists(st.integers(min_value=0, max_value=900), max_size=5))
def test_appending_the_latest_decision_gives_its_lines_and_resumes_the_walk(items, exam_days):
    decisions = _decisions(items)
    if not decisions:
        return
    latest = max(decisions, key=lambda d: (d.at, d.case_id))
    others = [d for d in decisions if d is not latest]
    if any(d.at >= latest.at for d in others):
        return  # the append path takes only a decision strictly after every other
    exams = [at("2026-01-01 00:00") + timedelta(days=d) for d in exam_days]
    for ruleset in (TAOBAO, T2021, TMALL):
        rules = ruleset.sanctions
        whole = engine.ledger(decisions, rules, until=latest.at)
        year = engine.local_year(latest.at)
        nth = 1 + sum(1 for d in others if engine.local_year(d.at) == year)
        new = engine.decision_entries(latest, nth_in_year=nth)
        assert [e for e in whole if e.case_id == latest.case_id] == new
        assert engine._in_entry_order(whole)[len(whole) - len(new) :] == new  # the last lines
        assert _resumed(whole, rules, exams, len(whole) - len(new)) == engine.penalties(
            whole, rules, exams=exams
        )
