"""The sync's append path: a decision upheld after every other decision of its shop.

The full sync (`services._sync`) recomputes the shop's whole history on every change, then writes
the difference. A busy shop's history grows with each decision; so did each decision's cost. But
when the stored state is that of the inputs before this decision (`SyncState`: same fingerprint
without it, no time-driven change due), and the decision comes after every other, the difference
is known without the history:

- the ledger gains this decision's lines (`engine.decision_entries`, its rank in the year counted);
- the penalty walk resumes from the stored tallies and each class's last applied penalty
  (`engine.penalties_after`): a node this decision reaches is applied, absorbed or supersedes;
- its compensation order, if its tier gives the buyer money;
- the blacklist's open ground of each reason extends to it, or a new one opens (it becomes final
  after every other decision: same calendar appeal window, decided later).

Anything outside that — an earlier decision, a change of ruleset, a JD contract-end threshold
reached, a row already there for this case, two penalties applied at one instant — returns None,
and the caller runs the full sync. The tests hold the two paths to the same rows, events, webhooks
and notifications on the same histories (`tests/sanctions/test_append.py`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction

from reviewshield import rawsql
from reviewshield.accounts.models import User
from reviewshield.cases.models import Case, CaseStatus
from reviewshield.marketplace.models import Shop
from reviewshield.policystore.services import ruleset_registry
from reviewshield.rawsql import stored_time
from reviewshield.sanctions import engine, listing
from reviewshield.sanctions.blacklist import entry_event
from reviewshield.sanctions.models import (
    Appeal,
    AppealStatus,
    BlacklistEntry,
    Compensation,
    ExamPass,
    LedgerEntry,
    Penalty,
    PenaltyState,
    ShopEvent,
)
from reviewshield.webhooks.models import WebhookEndpoint

ENABLED = True  # the tests switch it off to compare with the full sync

_CASE = Case._meta.db_table
_UPHELD = CaseStatus.UPHELD.value


def sync_append(
    *,
    shop: Shop,
    case_id: int,
    now: datetime,
    reason: str,
    actor: User | None,
    sellers: list[int] | None,
    endpoints: list[WebhookEndpoint] | None,
) -> tuple[Any, datetime, str] | None:
    """What upholding `case_id` adds to the shop's sanctions, written as the full sync would write
    it, with the next moment time matters and the fingerprint of the inputs now; None when the
    append path does not apply (nothing written then)."""
    from reviewshield.sanctions import services  # the full sync's writers, shared

    if not ENABLED:
        return None
    # 1. The stored state is that of the inputs without this case, and no time-driven change is due.
    # (One query: the fingerprints now and without the case, the case's row, the decision before it.)
    # The other decisions of this local year are counted from its start: the case's own year must
    # be now's (below), and its rank in that year is theirs plus one.
    year_start = engine.year_end(engine.local_year(now) - 1)
    after, around, state = services._inputs_fingerprint_around(shop.pk, case_id, year_start)
    if around.case is None or state is None or state.inputs != around.before:
        return None
    if not (state.synced_at <= now < state.valid_until):
        return None
    pk, reference, decided_raw, tier_name, ruleset_id, points, points_class, buyer_id, money_raw, order_id = (
        around.case
    )
    decided_at = stored_time(decided_raw)  # SQLite's UTC text, read as `shop_facts` reads it
    registry = ruleset_registry()
    ruleset = registry.get(ruleset_id)
    tier = ruleset.tiers.get(tier_name)
    money = None if money_raw is None else Decimal(str(money_raw)).quantize(services.CENTS)
    decision = engine.Decision(
        pk,
        decided_at,
        points or 0,
        points_class or "A",
        tier.extra_points_from_nth_case if tier else None,
        tier.extra_points if tier else 0,
        tier.extra_points_class if tier else None,
    )
    upheld = services.UpheldCase(pk, reference, buyer_id, order_id, money, decided_at, tier_name, ruleset_id)
    # 2. Decided after every other standing decision, in this local year, under the same ruleset as
    # the latest of them (the ruleset whose nodes the stored penalties were walked with).
    year = engine.local_year(decided_at)
    if decided_at > now or year != engine.local_year(now):
        return None
    latest = around.latest
    if latest and (stored_time(latest[0]) >= decided_at or latest[1] != ruleset_id):
        return None
    rules = ruleset.sanctions
    entries = engine.decision_entries(decision, nth_in_year=around.since + 1)

    # 3. What the database holds that the walk resumes from.
    ledger = LedgerEntry._meta.db_table
    tally = {
        (year, cls): total or 0
        for cls, total in rawsql.rows(
            f"SELECT points_class, SUM(points) FROM {ledger} WHERE shop_id = %s AND year = %s GROUP BY points_class",
            shop.pk,
            year,
        )
    }
    # A decision's lines are written with its case (and corrected under the same key and case):
    # read by the case's index, not through every line of the shop (a case is of one shop).
    held = dict(
        rawsql.rows(
            f'SELECT "key", SUM(points) FROM {ledger} WHERE case_id = %s AND "key" IN %s GROUP BY "key"',
            pk,
            [e.key for e in entries] or [""],
        )
    )
    if ruleset.contract_end_points is not None:
        total = sum(tally.values())
        if total < ruleset.contract_end_points <= total + sum(e.points for e in entries):
            return None  # a JD contract-end flag to raise: the full sync handles flags
    exams = sorted(
        stored_time(at)
        for (at,) in rawsql.rows(
            f"SELECT passed_at FROM {ExamPass._meta.db_table} WHERE shop_id = %s", shop.pk
        )
    )
    running = _running(shop.pk, rules, exams, now)
    if running is None:
        return None
    planned = engine.penalties_after(
        entries, rules, exams=exams, tally=tally, running=[p for p, _state in running]
    )
    new_keys = [p.key for p in planned[len(running) :]]
    if new_keys and rawsql.rows(
        f'SELECT "key" FROM {Penalty._meta.db_table} WHERE shop_id = %s AND "key" IN %s', shop.pk, new_keys
    ):
        return None  # this case's penalties were applied once before (an appeal overturned it)
    (compensations, case_appeals) = rawsql.rows(
        f"SELECT (SELECT COUNT(*) FROM {Compensation._meta.db_table} WHERE case_id = %s),"
        f" (SELECT COUNT(*) FROM {Appeal._meta.db_table} WHERE case_id = %s)",
        pk,
        pk,
    )[0]
    if compensations or case_appeals:
        return None  # upheld before, or appealed: the full sync sorts out what stands
    grounds = _grounds(shop, upheld, ruleset, now, around.rulesets)
    if grounds is None:
        return None

    # 4. Written as the full sync writes it, in its order.
    result = services.SyncResult()
    lines = [
        LedgerEntry(
            shop_id=shop.pk,
            key=e.key,
            kind=e.kind,
            reason=reason,
            case_id=e.case_id,
            appeal=None,
            year=e.year,
            points_class=e.points_class,
            points=e.points - (held.get(e.key) or 0),
            effective_at=e.at,
            recorded_at=now,
        )
        for e in entries
        if e.points != (held.get(e.key) or 0)
    ]
    rawsql.insert_rows(LedgerEntry, lines)  # nobody needs their ids back
    result.ledger_lines = len(lines)
    refs = {pk: reference}
    others = [p.case_id for p, _ in running if p.case_id and p.case_id != pk]
    if others:
        refs.update(
            rawsql.rows(f"SELECT id, reference FROM {_CASE} WHERE id IN %s AND status = %s", others, _UPHELD)
        )
    events: list[ShopEvent] = []
    hooks: list[tuple[str, Any]] = []
    stored_states = {p.key: state for p, state in running}
    services._apply_penalties(
        shop, planned, stored_states, now=now, actor=actor, ruleset_id=ruleset.id,
        references=refs, result=result, events=events, hooks=hooks,  # a dict: case id -> reference
    )  # fmt: skip
    if money and money > 0:
        services._compensation_new(shop, upheld, now, actor, result, events, hooks)
    listed = _blacklist_write(shop, grounds, upheld, now, actor)
    events.extend(listed)
    services._finish(
        shop, now=now, reason=reason, appeal=None, actor=actor, lines=lines, events=events, hooks=hooks,
        listed=listed, result=result, sellers=sellers, endpoints=endpoints,
    )  # fmt: skip
    return result, min(state.valid_until, services._valid_until(planned, now)), after


def _running(
    shop_id: int, rules: Any, exams: list[datetime], now: datetime
) -> list[tuple[engine.Penalty, str]] | None:
    """The last applied (not absorbed, not reversed) penalty of each class, as the walk left it,
    with its stored state; None when that cannot be told from the rows (two at one instant)."""
    from reviewshield.sanctions import services

    nodes = {node.key: node for node in rules.nodes}
    out = []
    for cls in ("A", "B"):
        rows = rawsql.rows(
            'SELECT "key", node, year, points_after, case_id, started_at, ends_at, ended_at, state'
            f" FROM {Penalty._meta.db_table} WHERE shop_id = %s AND points_class = %s AND absorbed_by = ''"
            " AND state <> %s ORDER BY started_at DESC LIMIT 2",
            shop_id,
            cls,
            PenaltyState.REVERSED.value,
        )
        if not rows:
            continue
        key, node_key, year, points_after, case_id, started, ends, _ended, state = rows[0]
        started_at = stored_time(started)
        if len(rows) > 1 and stored_time(rows[1][5]) == started_at:
            return None
        node = nodes.get(node_key)
        if node is None or state in (PenaltyState.SUPERSEDED, PenaltyState.ABSORBED):
            return None
        penalty = engine.Penalty(
            key,
            node,
            key.split("@", 1)[1],
            case_id,
            year,
            points_after,
            started_at,
            None if ends is None else stored_time(ends),
            engine._lift_time(started_at, node, exams, rules.exam_required),
        )
        if services._state(penalty, now) != state:
            return None  # the rows say something the walk would not: let the full sync decide
        out.append((penalty, state))
    return out


# A ground as the merge makes it: [key, reason, cases (ordered), listed_from, until]
_Run = list[Any]


def _grounds(
    shop: Shop, upheld: Any, ruleset: Any, now: datetime, rulesets: tuple[Any, Any]
) -> list[tuple[_Run, bool, Any]] | None:
    """The blacklist grounds this decision opens or extends: (run, opened, stored row or None)
    each, in the order the full sync writes them; None when the append path cannot tell.
    `rulesets`: the least and greatest ruleset id of the shop's decisions, this one included."""
    window = ruleset.windows["appeal"]
    if window.kind != "calendar":
        return None
    length = timedelta(days=window.amount) if window.unit == "days" else timedelta(hours=window.amount)
    final_at = upheld.decided_at + length
    if final_at <= now:
        return None
    registry = ruleset_registry()
    # Every decision under this one's ruleset (the bounds say so: nearly always), or the others'
    # rulesets read.
    previous = (
        [(upheld.ruleset_id,)]
        if rulesets == (upheld.ruleset_id, upheld.ruleset_id)
        else rawsql.rows(
            f"SELECT DISTINCT ruleset_id FROM {_CASE} WHERE shop_id = %s AND status = %s"
            " AND decided_at IS NOT NULL AND id <> %s",
            shop.pk,
            _UPHELD,
            upheld.pk,
        )
    )
    if any(registry.get(rid).windows["appeal"] != window for (rid,) in previous):
        return None  # another window: this decision might not become final after every other
    rules = ruleset.sanctions
    threshold = ruleset.blacklist_upheld_threshold
    span = timedelta(days=rules.blacklist_days)
    rows: list[tuple[datetime, str, str, tuple[int, ...], datetime]] = []
    if threshold >= 1:
        appeal = Appeal._meta.db_table
        done = rawsql.rows(
            f"SELECT c.id, c.decided_at FROM {_CASE} c WHERE c.shop_id = %s AND c.status = %s"
            " AND c.decided_at IS NOT NULL AND c.id <> %s"
            f" AND NOT EXISTS (SELECT 1 FROM {appeal} a WHERE a.case_id = c.id AND a.status = %s)"
            " ORDER BY c.decided_at DESC, c.id DESC LIMIT %s",
            shop.pk,
            _UPHELD,
            upheld.pk,
            AppealStatus.PENDING.value,
            max(threshold - 1, 0),
        )[::-1]
        if len(done) + 1 >= threshold:
            first = done[0] if threshold > 1 else (upheld.pk, upheld.decided_at)
            if listing._within_12_months(stored_time(first[1]), upheld.decided_at):
                cases = (
                    (*(c for c, _ in done[len(done) - (threshold - 1) :]), upheld.pk)
                    if threshold > 1
                    else (upheld.pk,)
                )
                rows.append((final_at, f"repeated:{upheld.pk}", "repeated", cases, final_at + span))
    if upheld.tier in rules.blacklist_serious_tiers:
        rows.append((final_at, f"serious:{upheld.pk}", "serious", (upheld.pk,), final_at + span))
    if not rows:
        return []
    # Keys and bounds only (a long-running entry holds hundreds of case ids); the entry this
    # decision extends is then loaded to be written.
    stored = rawsql.rows(
        f'SELECT id, "key", reason, listed_from, until, withdrawn_at IS NULL FROM {BlacklistEntry._meta.db_table}'
        " WHERE shop_id = %s",
        shop.pk,
    )
    if any(row[1] == key for _, key, *_rest in rows for row in stored):
        return None  # this case grounded a listing before (an appeal overturned it)
    live = sorted(
        ((stored_time(row[3]), row[1], row[2], row[0]) for row in stored if row[5]),
    )  # (listed_from, key, reason, id), as the merge orders entries
    out: list[tuple[_Run, bool, Any]] = []
    for listed_from, key, reason, cases, until in rows:
        found = next((row for row in reversed(live) if row[2] == reason), None)
        current = None if found is None else rawsql.instance(BlacklistEntry, found[3])
        if found is not None and current is None:
            return None  # gone since the read above: the full sync sorts it out
        if current is not None and listed_from < current.listed_from:
            return None
        if current is not None and listed_from <= current.until:
            run = [current.key, reason, list(dict.fromkeys([*current.cases, *cases])), current.listed_from,
                   max(current.until, until)]  # fmt: skip
            out.append((run, False, current))
        else:
            out.append(([key, reason, list(cases), listed_from, until], True, None))
    # The full sync writes the entries in the order they were opened: extended ones first (they
    # opened earlier), by their start, then the new ones.
    out.sort(key=lambda item: (item[1], item[0][3], item[0][0]))
    return out


def _blacklist_write(
    shop: Shop, grounds: list[tuple[_Run, bool, Any]], upheld: Any, now: datetime, actor: User | None
) -> list[ShopEvent]:
    """Write the grounds as `blacklist.blacklist_sync` does, with its events."""
    if not grounds:
        return []
    # The event names every standing decision the entry rests on, as the full sync's does. Each of
    # them stands (the fingerprint says no decision changed but this one), so only the references
    # are wanted: kept by the process, as a case's reference never changes once filed.
    refs = _references(
        shop.pk, [c for run, _opened, _row in grounds for c in run[2]], {upheld.pk: upheld.reference}
    )
    events = []
    for run, opened, row in grounds:
        key, reason, cases, listed_from, until = run
        if opened:
            row = BlacklistEntry(
                shop=shop,
                key=key,
                reason=reason,
                cases=list(cases),
                listed_from=listed_from,
                until=until,
                created_at=now,
                updated_at=now,
            )
            rawsql.insert_rows(BlacklistEntry, [row], returning_ids=True)
        else:
            row.withdrawn_at = None
            row.listed_from, row.until, row.cases, row.updated_at = listed_from, until, list(cases), now
            rawsql.update_rows(
                BlacklistEntry, [row], ["withdrawn_at", "listed_from", "until", "cases", "updated_at"]
            )
        events.append(entry_event(shop, "blacklist_listed", row, actor=actor, now=now, references=refs))
    return events


# Case id → reference, kept by the process: an entry of a busy shop rests on hundreds of
# decisions, and every decision that extends it names them all again. A case's reference never
# changes once filed, and only what a committed transaction read is kept (`on_commit`), so a kept
# reference is the case's own for good — as long as ids are never reused: a process that outlives
# a restore of the database from a backup must be restarted, as for the other per-process caches.
_REFERENCES: dict[int, str] = {}
_REFERENCES_KEPT = 200_000


def _references(shop_id: int, ids: list[int], known: dict[int, str]) -> dict[int, str]:
    """The references of these cases of the shop, read only for those not kept yet: for the whole
    shop when many are missing (one IN list of hundreds costs more), else by their ids. Built in a
    dict of its own, so another thread clearing the kept ones cannot drop one from the answer."""
    kept = _REFERENCES
    out = {**{c: r for c in ids if (r := kept.get(c)) is not None}, **known}
    missing = [c for c in ids if c not in out]
    found: dict[int, str] = {}
    if missing:
        found = dict(
            rawsql.rows(f"SELECT id, reference FROM {_CASE} WHERE shop_id = %s", shop_id)
            if len(missing) > 50
            else rawsql.rows(f"SELECT id, reference FROM {_CASE} WHERE id IN %s", missing)
        )
        out.update((c, found[c]) for c in missing if c in found)
    transaction.on_commit(partial(_keep, {**found, **known}))
    return out


def _keep(found: dict[int, str]) -> None:
    if len(_REFERENCES) + len(found) > _REFERENCES_KEPT:
        _REFERENCES.clear()  # bounded: the next decisions read theirs again
    _REFERENCES.update(found)
