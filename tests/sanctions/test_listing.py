"""The pure blacklist rules: which final upheld decisions list a shop, from when and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.policy import BUSINESS_TZ
from reviewshield.sanctions import listing
from reviewshield.sanctions.listing import Upheld

SERIOUS = ("serious", "especially_serious")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BUSINESS_TZ)


def up(case_id: int, decided: str, tier: str = "ordinary", final: str | bool | None = True) -> Upheld:
    """An upheld decision; final 15 days later unless `final` names the moment (None: appeal pending)."""
    decided_at = at(decided)
    if final is True:
        final_at: datetime | None = decided_at + timedelta(days=15)
    elif final is None:
        final_at = None
    else:
        final_at = at(str(final))
    return Upheld(case_id, decided_at, tier, final_at)


def grounds(decisions, threshold=2, days=365):
    return listing.grounds(decisions, serious_tiers=SERIOUS, threshold=threshold, days=days)


# (decisions, threshold, the grounds: key, listed from, cases)
TABLE = [
    # one ordinary decision: nothing
    ([up(1, "2026-03-01 10:00")], 2, []),
    # one serious decision: listed when it becomes final, for a year
    ([up(1, "2026-03-01 10:00", "serious")], 2, [("serious:1", "2026-03-16 10:00", (1,))]),
    ([up(1, "2026-03-01 10:00", "especially_serious")], 2, [("serious:1", "2026-03-16 10:00", (1,))]),
    # serious, but an appeal is waiting: not final, not listed
    ([up(1, "2026-03-01 10:00", "serious", None)], 2, []),
    # the seller's appeal decided on 5 March: final then, before the window's end
    (
        [up(1, "2026-03-01 10:00", "serious", "2026-03-05 09:00")],
        2,
        [("serious:1", "2026-03-05 09:00", (1,))],
    ),
    # two ordinary decisions within 12 months: listed when the later of the two is final
    (
        [up(1, "2026-01-10 10:00"), up(2, "2026-11-01 10:00")],
        2,
        [("repeated:2", "2026-11-16 10:00", (1, 2))],
    ),
    # ... the first one final only later (its appeal decided late): listed from then
    (
        [up(1, "2026-01-10 10:00", final="2026-12-01 10:00"), up(2, "2026-11-01 10:00")],
        2,
        [("repeated:1", "2026-12-01 10:00", (1, 2))],  # named after the one that completed the pair
    ),
    # a decision still under appeal between two final ones does not keep the final pair apart
    (
        [up(1, "2026-01-10 10:00"), up(2, "2026-02-01 10:00", final=None), up(3, "2026-03-01 10:00")],
        2,
        [("repeated:3", "2026-03-16 10:00", (1, 3))],
    ),
    # nor does one that became final only much later: 1 and 3 list the shop when 3 is final
    (
        [
            up(1, "2026-01-10 10:00"),
            up(2, "2026-02-01 10:00", final="2026-09-01 10:00"),
            up(3, "2026-03-01 10:00"),
        ],
        2,
        [("repeated:3", "2026-03-16 10:00", (1, 3)), ("repeated:2", "2026-09-01 10:00", (1, 2))],
    ),
    # twelve months apart to the minute is not "within 12 months"
    ([up(1, "2025-03-01 10:00"), up(2, "2026-03-01 10:00")], 2, []),
    ([up(1, "2025-03-01 10:01"), up(2, "2026-03-01 10:00")], 2, [("repeated:2", "2026-03-16 10:00", (1, 2))]),
    # either of the pair waiting for an appeal keeps the pair off the list
    ([up(1, "2026-01-10 10:00", final=None), up(2, "2026-02-01 10:00")], 2, []),
    # a threshold of 3 needs three within 12 months
    ([up(1, "2026-01-10 10:00"), up(2, "2026-02-01 10:00")], 3, []),
    (
        [up(1, "2026-01-10 10:00"), up(2, "2026-02-01 10:00"), up(3, "2026-12-20 10:00")],
        3,
        [("repeated:3", "2027-01-04 10:00", (1, 2, 3))],
    ),
    # a serious one counts towards the repeat too: two grounds, overlapping
    (
        [up(1, "2026-01-10 10:00", "serious"), up(2, "2026-02-01 10:00")],
        2,
        [("serious:1", "2026-01-25 10:00", (1,)), ("repeated:2", "2026-02-16 10:00", (1, 2))],
    ),
]


@pytest.mark.parametrize(("decisions", "threshold", "expected"), TABLE)
def test_grounds_table(decisions, threshold, expected):
    got = grounds(decisions, threshold)
    assert [(g.key, g.listed_from, g.cases) for g in got] == [(k, at(f), c) for k, f, c in expected]
    assert all(g.until == g.listed_from + timedelta(days=365) for g in got)


def test_a_listing_expires_by_rule_and_overlapping_grounds_carry_it_on():
    gs = grounds([up(1, "2026-01-10 10:00", "serious"), up(2, "2026-02-01 10:00")])
    before = listing.listing(gs, at=at("2026-01-20 10:00"))
    assert not before.listed and [g.key for g in before.upcoming] == ["serious:1", "repeated:2"]
    during = listing.listing(gs, at=at("2026-01-26 00:00"))
    assert during.listed and during.since == at("2026-01-25 10:00")
    # the pair's ground starts before the serious one ends, so the shop stays listed until its end
    assert during.until == at("2026-02-16 10:00") + timedelta(days=365)
    both = listing.listing(gs, at=at("2026-03-01 00:00"))
    assert [g.key for g in both.grounds] == ["serious:1", "repeated:2"]
    after_first = listing.listing(gs, at=at("2027-01-25 10:00"))
    assert [g.key for g in after_first.grounds] == ["repeated:2"]
    gone = listing.listing(gs, at=at("2027-02-16 10:00"))
    assert not gone.listed and gone.until is None and gone.since is None


def test_blacklist_days_come_from_the_ruleset():
    (g,) = grounds([up(1, "2026-01-10 10:00", "serious")], days=30)
    assert g.until == at("2026-01-25 10:00") + timedelta(days=30)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31 10:00", 1, "2026-02-28 10:00"),
        ("2024-02-29 23:30", 12, "2025-02-28 23:30"),
        ("2026-03-15 00:00", 12, "2027-03-15 00:00"),
        ("2026-11-30 08:00", 3, "2027-02-28 08:00"),
    ],
)
def test_months_later_keeps_the_local_wall_clock(start, months, expected):
    assert listing.months_later(at(start), months) == at(expected)


_base = at("2025-01-01 00:00")
_decisions = st.lists(
    st.builds(
        lambda i, minutes, serious, pending, lag: Upheld(
            i,
            _base + timedelta(minutes=minutes),
            "serious" if serious else "ordinary",
            None if pending else _base + timedelta(minutes=minutes + lag),
        ),
        st.integers(1, 10_000),
        st.integers(0, 60 * 24 * 800),
        st.booleans(),
        st.booleans(),
        st.integers(0, 60 * 24 * 40),
    ),
    max_size=12,
    unique_by=lambda d: d.case_id,
)


@settings(max_examples=200, deadline=None)
@given(_decisions, st.integers(1, 4))
def test_properties(decisions, threshold):
    got = grounds(decisions, threshold)
    assert got == grounds(list(reversed(decisions)), threshold)  # order of input does not matter
    by_id = {d.case_id: d for d in decisions}
    for g in got:
        rests_on = [by_id[c] for c in g.cases]
        # never listed on a decision that is not final, nor before it is
        assert all(d.final_at is not None and d.final_at <= g.listed_from for d in rests_on)
        if g.reason == "repeated":
            assert len(g.cases) == threshold
            assert listing.months_later(rests_on[0].decided_at, 12) > rests_on[-1].decided_at
        else:
            assert rests_on[0].tier in SERIOUS

    # the first repeated listing starts exactly when, counting only final decisions, N of them
    # first lie within 12 months of each other (brute force over every moment a decision is final)
    def n_within_12_months(ds):
        ds = sorted(ds, key=lambda d: d.decided_at)
        return any(
            listing.months_later(ds[i].decided_at, 12) > ds[i + threshold - 1].decided_at
            for i in range(len(ds) - threshold + 1)
        )

    moments = sorted({d.final_at for d in decisions if d.final_at is not None})
    first = next(
        (t for t in moments if n_within_12_months([d for d in decisions if d.final_at and d.final_at <= t])),
        None,
    )
    assert min((g.listed_from for g in got if g.reason == "repeated"), default=None) == first
    # every final serious decision lists the shop, each once
    assert sorted(g.cases[0] for g in got if g.reason == "serious") == sorted(
        d.case_id for d in decisions if d.tier in SERIOUS and d.final_at is not None
    )


def test_entries_merge_overlapping_grounds_of_one_reason():
    decisions = [up(i, f"2026-0{i}-01 10:00") for i in range(1, 6)]  # five ordinary, a month apart
    got = grounds(decisions)
    assert [g.key for g in got] == ["repeated:2", "repeated:3", "repeated:4", "repeated:5"]
    (entry,) = listing.entries(got)  # one entry: the shop stays listed from the first pair to the last
    assert entry.key == "repeated:2" and entry.cases == (1, 2, 3, 4, 5)
    assert (entry.listed_from, entry.until) == (got[0].listed_from, got[-1].until)
    # a pair that starts after the entry ended is a new entry; a serious ground stays its own
    later = [*decisions, up(8, "2028-01-01 10:00"), up(9, "2028-02-01 10:00", "serious")]
    assert [(g.key, g.cases) for g in listing.entries(grounds(later))] == [
        ("repeated:2", (1, 2, 3, 4, 5)),
        ("repeated:9", (8, 9)),
        ("serious:9", (9,)),
    ]


@settings(max_examples=200, deadline=None)
@given(_decisions, st.integers(0, 4))
def test_merged_grounds_are_the_entries_of_the_grounds(decisions, threshold):
    """The sync uses the one-pass `merged_grounds`; it must keep exactly what `entries(grounds())` keeps."""
    kwargs = {"serious_tiers": SERIOUS, "threshold": threshold, "days": 365}
    assert listing.merged_grounds(decisions, **kwargs) == listing.entries(
        listing.grounds(decisions, **kwargs)
    )


# Decisions as a busy shop has them: made one after another and final a fixed window later, with
# gaps short and long (a stretch of N may or may not lie within 12 months; an entry may end before
# the next ground), some serious, case ids in any order and sometimes repeated.
_in_step = st.builds(
    lambda gaps, tiers, ids, window: [
        Upheld(case_id, decided, tier, decided + timedelta(days=window))
        for case_id, decided, tier in zip(
            ids,
            [_base + timedelta(minutes=sum(gaps[: i + 1])) for i in range(len(gaps))],
            tiers,
            strict=False,
        )
    ],
    st.lists(st.integers(1, 60 * 24 * 500), min_size=1, max_size=30),
    st.lists(st.sampled_from(["ordinary", "serious", "especially_serious"]), min_size=30, max_size=30),
    st.lists(st.integers(1, 40), min_size=30, max_size=30),
    st.integers(0, 30),
)


@settings(max_examples=300, deadline=None)
@given(_in_step, st.integers(1, 4), st.sampled_from([1, 30, 365, 800]))
def test_merged_grounds_in_step_are_those_of_the_general_merge(decisions, threshold, days):
    """The one-pass merge of decisions final in the order they were made keeps exactly what the
    general merge of every ground's row keeps."""
    kwargs = {"serious_tiers": SERIOUS, "threshold": threshold, "days": days}
    assert listing._in_step(decisions)
    assert listing._merged_in_step(decisions, **kwargs) == listing._merge(
        listing._ground_rows(decisions, **kwargs)
    )
    assert listing.merged_grounds(decisions, **kwargs) == listing.entries(
        listing.grounds(decisions, **kwargs)
    )
