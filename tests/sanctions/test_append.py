"""The sync's append path against the full recompute.

The same history — decisions on three marketplaces' rulesets, a second at one instant, exams,
appeals filed and decided, syncs as time passes, across a year end — is played twice, once with
the append path and once with every decision recomputing the shop's whole history. What a person
or the marketplace can see must be the same: ledger lines, penalties and their states, flags,
compensation orders, blacklist entries, shop events, webhooks, notifications, deadlines.
"""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from reviewshield.cases.models import Case, CaseStatus
from reviewshield.errors import ReviewShieldError
from reviewshield.marketplace.models import Shop
from reviewshield.sanctions import appeals, append
from reviewshield.sanctions import services as sanctions
from reviewshield.sanctions.models import (
    Appeal,
    BlacklistEntry,
    Compensation,
    Flag,
    LedgerEntry,
    Penalty,
    ShopEvent,
    SyncState,
)
from tests.sanctions.conftest import START, decide


class Rollback(Exception):
    pass


class _Counting:
    """`append.sync_append`, counting the decisions that took the append path."""

    def __init__(self) -> None:
        self.taken = 0
        self.real = append.sync_append

    def __call__(self, **kwargs: Any) -> Any:
        out = self.real(**kwargs)
        self.taken += out is not None
        return out

    def __enter__(self) -> _Counting:
        append.sync_append = self  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        append.sync_append = self.real


def _play(cast: Any, seed: int, shops: list[Any], steps: int) -> tuple[dict[str, Any], int]:
    """Play the seed's history; returns what it left, and how many decisions took the append path."""
    rng = random.Random(seed)
    with _Counting() as counting:
        t = START
        for _ in range(steps):
            t += timedelta(hours=rng.choice([0, 1, 7, 30, 24 * 3, 24 * 11, 24 * 40]))
            shop = rng.choice(shops)
            roll = rng.random()
            if roll < 0.72:
                tier = rng.choice(["ordinary", "ordinary", "serious", "especially_serious"])
                if shop.platform_id != "taobao" and tier == "especially_serious":
                    tier = "serious"
                decide(cast, tier, t, shop=shop, buyer=rng.choice([cast.bob, cast.carol]))
            elif roll < 0.8:
                sanctions.exam_record(shop_id=shop.pk, user=cast.erin, passed_at=t, now=t)
            elif roll < 0.88:
                with transaction.atomic():
                    sanctions.sanctions_sync(shop_id=shop.pk, now=t, reason="decision")
            else:
                upheld = list(
                    Case.objects.filter(shop=shop, status=CaseStatus.UPHELD, appeals__isnull=True).order_by(
                        "-id"
                    )[:3]
                )
                if not upheld:
                    continue
                case = rng.choice(upheld)
                try:
                    appeal = appeals.appeal_file(
                        case_id=case.pk, user=rng.choice([cast.bob if case.buyer_id == cast.bob.pk else cast.carol, cast.alice]),
                        reasons="New evidence.", now=t,
                    )  # fmt: skip
                    if rng.random() < 0.7:
                        t += timedelta(hours=2)
                        outcome = rng.choice(["stands", "overturned", "tier_changed"])
                        appeals.appeal_decide(
                            appeal_id=appeal.pk, senior=cast.frank, outcome=outcome, reasons="Reviewed.", now=t,
                            new_tier="serious" if outcome == "tier_changed" else None,
                        )  # fmt: skip
                except ReviewShieldError:
                    pass  # outside the window, or the tier is the same: the history goes on
    return _seen(shops), counting.taken


def _seen(shops: list[Any]) -> dict[str, Any]:
    """Everything the sync writes, with ids that differ between two runs replaced by stable names."""
    cases = list(Case.objects.filter(shop__in=shops).order_by("id").values_list("id", "reference"))
    names = {pk: f"C{i}" for i, (pk, _ref) in enumerate(cases)}
    refs = {ref: f"C{i}" for i, (_pk, ref) in enumerate(cases)}
    comps = {pk: names[case] for pk, case in Compensation.objects.values_list("id", "case_id")}
    appeal_of = {pk: names.get(case) for pk, case in Appeal.objects.values_list("id", "case_id")}
    orders = {
        external_id: names[pk] for pk, external_id in Case.objects.filter(shop__in=shops).values_list("id", "order__external_id")
    }  # fmt: skip

    def norm(value: Any) -> Any:
        text = json.dumps(value, default=str, sort_keys=True)
        for ref, name in refs.items():
            text = text.replace(ref, name)
        for external_id, name in orders.items():
            text = text.replace(f'"{external_id}"', f'"order of {name}"')
        text = re.sub(
            r"(deduction|extra|serious|repeated):(\d+)",
            lambda m: f"{m.group(1)}:{names.get(int(m.group(2)), m.group(2))}",
            text,
        )
        text = re.sub(
            r'"compensation": (\d+)', lambda m: f'"compensation": "{comps.get(int(m.group(1)))}"', text
        )
        text = re.sub(
            r'"appeal": (\d+)', lambda m: f'"appeal": "appeal on {appeal_of.get(int(m.group(1)))}"', text
        )
        text = re.sub(r'"case_id": (\d+)', lambda m: f'"case_id": "{names.get(int(m.group(1)))}"', text)
        return json.loads(text)

    def table(model: Any, fields: list[str], order: str = "id") -> list[Any]:
        rows = model.objects.filter(shop__in=shops).order_by("shop_id", order).values(*fields)
        out = []
        for row in rows:
            if "case_id" in row:
                row["case_id"] = names.get(row["case_id"], row["case_id"])
            if "cases" in row:
                row["cases"] = [names.get(c, c) for c in row["cases"]]
            out.append(norm(row))
        return out

    from reviewshield.deadlines.models import Deadline
    from reviewshield.outbox.models import Notification
    from reviewshield.webhooks.models import WebhookEvent

    return {
        "ledger": table(LedgerEntry, ["shop_id", "key", "kind", "reason", "case_id", "year", "points_class",
                                      "points", "effective_at", "recorded_at"]),
        "penalties": sorted(
            table(Penalty, ["shop_id", "key", "node", "points_class", "measures", "year", "points_after", "case_id",
                            "ruleset_id", "state", "started_at", "ends_at", "ended_at", "absorbed_by",
                            "created_at", "updated_at"]),
            key=lambda r: (r["shop_id"], r["key"]),
        ),
        "flags": table(Flag, ["shop_id", "key", "kind", "year", "points", "raised_at", "withdrawn_at"]),
        "compensation": sorted(
            table(Compensation, ["shop_id", "case_id", "buyer_id", "amount", "status", "created_at", "reversed_at"]),
            key=lambda r: (r["shop_id"], r["case_id"]),
        ),
        "blacklist": sorted(
            table(BlacklistEntry, ["shop_id", "key", "reason", "cases", "listed_from", "until", "withdrawn_at",
                                   "created_at", "updated_at"]),
            key=lambda r: (r["shop_id"], r["key"]),
        ),
        "events": table(ShopEvent, ["shop_id", "kind", "actor_id", "at", "case_id", "data"]),
        # A webhook event's id is a random UUID: compared as a set per moment, in order of time.
        "webhooks": sorted(
            (norm([e.created_at, e.event, _comp_ids(e.payload, comps)]) for e in WebhookEvent.objects.all()),
            key=lambda w: json.dumps(w, sort_keys=True),
        ),
        "notifications": [
            norm([n.recipient_id, n.kind, n.params, n.created_at])
            for n in Notification.objects.filter(kind__startswith="shop.").order_by("id")
        ],
        "deadlines": sorted(
            norm([d.kind, d.due_at, d.payload])
            for d in Deadline.objects.filter(kind=sanctions.PERIOD_ENDS)
        ),
        # The stored fingerprint sums ids, which differ between two runs on PostgreSQL: whether it is
        # that of the inputs as they stand is what must agree.
        "sync_state": sorted(
            norm([s.shop_id, s.inputs == sanctions._inputs_fingerprint(s.shop_id)[0], s.synced_at, s.valid_until])
            for s in SyncState.objects.filter(shop__in=shops)
        ),
    }  # fmt: skip


def _comp_ids(payload: dict[str, Any], comps: dict[int, str]) -> dict[str, Any]:
    comp = payload.get("compensation")
    if isinstance(comp, dict) and "id" in comp:
        return {**payload, "compensation": {**comp, "id": comps.get(comp["id"])}}
    return payload


@pytest.fixture
def shops(cast: Any) -> list[Any]:
    tmall = Shop.objects.create(platform=cast.tmall, external_id="M1", name="Alice Tmall")
    tmall.sellers.add(cast.alice)
    return [cast.shop, tmall, cast.jd_shop]


def _both(cast: Any, shops: list[Any], seed: int, steps: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    seen = {}
    taken = 0
    for enabled in (True, False):
        append.ENABLED = enabled
        try:
            with transaction.atomic():
                seen[enabled], n = _play(cast, seed, shops, steps)
                if enabled:
                    taken = n
                raise Rollback
        except Rollback:
            pass
        finally:
            append.ENABLED = True
    return seen[True], seen[False], taken


@pytest.mark.parametrize("seed", range(8))
def test_the_append_path_leaves_what_the_full_recompute_leaves(cast, shops, endpoint, seed):
    appended, full, taken = _both(cast, shops, seed, steps=40)
    decisions = len(appended["ledger"])
    assert decisions, "the history decided nothing"
    for part in full:
        assert appended[part] == full[part], part
    assert taken >= 5, f"only {taken} decisions took the append path"


def _busy(cast: Any, tier_of: Any, count: int = 30) -> tuple[dict[str, Any], dict[str, Any], int]:
    """One shop, decisions five hours apart, played with and without the append path."""
    seen = {}
    taken = 0
    for enabled in (True, False):
        append.ENABLED = enabled
        try:
            with _Counting() as counting, transaction.atomic():
                t = START
                for i in range(count):
                    t += timedelta(hours=5)
                    decide(cast, tier_of(i), t, buyer=[cast.bob, cast.carol][i % 2])
                seen[enabled] = _seen([cast.shop])
                if enabled:
                    taken = counting.taken
                raise Rollback
        except Rollback:
            pass
        finally:
            append.ENABLED = True
    return seen[True], seen[False], taken


def test_a_busy_shop_appends_every_decision_after_the_first(cast, endpoint):
    """As the lifecycle benchmark has it: after the first decision, every one takes the append path,
    and what it leaves is the full recompute's."""
    appended, full, taken = _busy(cast, lambda i: "serious" if i % 3 == 1 else "ordinary")
    assert taken == 29
    for part in full:
        assert appended[part] == full[part], part
    kinds = {e["kind"] for e in appended["events"]}
    assert {"sanction_applied", "blacklist_listed", "ledger_changed", "compensation_due"} <= kinds
    assert {p["state"] for p in appended["penalties"]} == {"in_force", "absorbed"}


def test_a_heavier_node_supersedes_the_running_penalty_on_the_append_path(cast, endpoint, tmp_path, settings):
    """A ruleset whose tier gives 12 B points: each decision reaches the next, heavier B node while
    the last one runs, so the appended decision supersedes the stored running penalty."""
    from pathlib import Path

    import reviewshield.policy

    shipped = Path(reviewshield.policy.__file__).parent / "rulesets" / "taobao-2021.toml"
    text = shipped.read_text(encoding="utf-8")
    text = text.replace('id = "taobao-2021"', 'id = "taobao-b12"')
    text = text.replace(
        "effective_from = 2021-12-28T00:00:00+08:00", "effective_from = 2026-01-01T00:00:00+08:00"
    )
    head, tiers = text.split("[tiers.especially_serious]", 1)
    tiers = tiers.replace("points = 48", "points = 12", 1)
    (tmp_path / "taobao-b12.toml").write_text(head + "[tiers.especially_serious]" + tiers, encoding="utf-8")
    settings.REVIEWSHIELD_RULESET_DIRS = [str(tmp_path)]

    appended, full, taken = _busy(cast, lambda i: "especially_serious" if i % 2 else "ordinary", count=12)
    assert taken == 11
    for part in full:
        assert appended[part] == full[part], part
    assert {p["ruleset_id"] for p in appended["penalties"]} == {"taobao-b12"}
    states = [(p["node"], p["state"]) for p in appended["penalties"] if p["points_class"] == "B"]
    assert (
        ("B12", "superseded") in states and ("B24", "superseded") in states and ("B48", "in_force") in states
    )
    assert "sanction_lifted" in {e["kind"] for e in appended["events"]}


def test_references_kept_from_committed_decisions_name_the_cases_each_entry_rests_on(
    cast, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    """The append path keeps the references it read once their transaction commits, and names the
    cases of an extended entry from them: the event must still name exactly the entry's cases."""
    monkeypatch.setattr(append, "_REFERENCES", {})  # this test's own: ids are reused after rollbacks
    read: list[int] = []  # per decision: the reads of the entry's references
    real_rows = append.rawsql.rows

    def rows(sql: str, *params: Any) -> Any:
        if sql.startswith("SELECT id, reference FROM") and "status" not in sql:
            read[-1] += 1
        return real_rows(sql, *params)

    monkeypatch.setattr(append.rawsql, "rows", rows)
    t = START
    for i in range(8):
        t += timedelta(hours=5)
        read.append(0)
        with django_capture_on_commit_callbacks(execute=True):
            decide(cast, "ordinary", t, buyer=[cast.bob, cast.carol][i % 2])
    entry = BlacklistEntry.objects.get(shop=cast.shop, reason="repeated")
    assert len(entry.cases) >= 5
    event = ShopEvent.objects.filter(shop=cast.shop, kind="blacklist_listed").order_by("-id").first()
    expected = dict(Case.objects.filter(pk__in=entry.cases).values_list("pk", "reference"))
    assert event.data["cases"] == [expected[c] for c in entry.cases]
    # read once, when the entry opened on decisions the process had not seen in an entry; then kept
    assert sum(read) == 1 and read[-4:] == [0, 0, 0, 0], read
