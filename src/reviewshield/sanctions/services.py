"""Sanctions: the only writer of the ledger, penalties, flags and compensation orders.

`sanctions_sync` is the heart: inside the caller's transaction, with the shop row locked, it asks
the pure engine what the ledger and the penalties *should* be (every upheld decision that stands,
every exam passed, the ruleset's nodes), appends the difference to the ledger, moves penalties
between states, schedules the end of each new period, writes the shop's audit events and the
marketplace's webhooks. A decision, an appeal, a recorded exam, a period's end and the year-end
reset all call it; calling it again changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import islice
from operator import itemgetter, lt
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from reviewshield import rawsql
from reviewshield.accounts.models import Role, User
from reviewshield.cases.models import Case, CaseStatus
from reviewshield.deadlines.scheduling import deadline_schedule
from reviewshield.errors import NotFound, PermissionDenied, ValidationFailed
from reviewshield.evidence.log import log_enqueue_many
from reviewshield.marketplace.models import Order, Shop
from reviewshield.outbox.services import notify
from reviewshield.policy import Ruleset
from reviewshield.policy.ruleset import PointsClass
from reviewshield.policystore.models import HolidayOverride
from reviewshield.policystore.services import ruleset_registry
from reviewshield.rawsql import stored_time
from reviewshield.runtime import gc_paused
from reviewshield.sanctions import engine
from reviewshield.sanctions.blacklist import blacklist_sync
from reviewshield.sanctions.models import (
    ACTIVE_STATES,
    Appeal,
    Compensation,
    CompensationStatus,
    ExamPass,
    Flag,
    LedgerEntry,
    Penalty,
    PenaltyState,
    ShopEvent,
    SyncState,
)
from reviewshield.webhooks.models import WebhookEndpoint
from reviewshield.webhooks.services import Payload, webhook_emit_many

log = logging.getLogger(__name__)

PERIOD_ENDS = "sanctions.period_ends"
CENTS = Decimal("0.01")
EXAM_RECORDERS = (Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN, Role.SYSTEM)


@dataclass
class SyncResult:
    ledger_lines: int = 0
    applied: list[str] = field(default_factory=list)
    lifted: list[str] = field(default_factory=list)
    compensations_due: list[int] = field(default_factory=list)
    compensations_reversed: list[int] = field(default_factory=list)
    blacklist_changes: int = 0


class UpheldCase(NamedTuple):
    """A standing upheld decision as the sync needs it. A named tuple, not a frozen dataclass:
    a busy shop builds a thousand of these per sync, and a frozen dataclass costs three times as
    much to build."""

    pk: int
    reference: str
    buyer_id: int
    order_id: int
    money_to_buyer: Decimal | None
    decided_at: datetime
    tier: str
    ruleset_id: str


@dataclass(frozen=True)
class ShopFacts:
    """What the engine needs about a shop, read in a fixed number of queries (tuples, not models:
    a shop with a thousand decisions is recomputed in a few milliseconds)."""

    shop: Shop
    ruleset: Ruleset
    decisions: list[engine.Decision]
    exams: list[datetime]
    upheld: dict[int, UpheldCase]


_MISSING: Any = object()
_BY_DECISION = itemgetter(2, 0)  # (decided_at, id) of a `shop_facts` row


def shop_facts(shop: Shop, now: datetime) -> ShopFacts:
    registry = ruleset_registry()
    # Written by hand and read raw: for a busy shop Django takes nearly as long to build this query
    # as the database to run it, and its per-value converters (SQLite datetimes and decimals) cost
    # more than the whole recompute. SQLite keeps a datetime as UTC text: read as text, it skips
    # the driver's conversion to a naive datetime that `_aware` would then copy with a time zone.
    decided = "CAST(decided_at AS text)" if connection.vendor == "sqlite" else "decided_at"
    sql = (
        f"SELECT id, reference, {decided}, tier, ruleset_id, points, points_class, buyer_id, money_to_buyer,"
        f" order_id FROM {Case._meta.db_table}"
        " WHERE shop_id = %s AND status = %s AND decided_at IS NOT NULL ORDER BY id"
    )
    rows = rawsql.rows(sql, shop.pk, CaseStatus.UPHELD.value)
    # Wanted in order of decision (decided_at, id). In order of id the database reads them straight
    # from the shop's index, where ordering by decided_at has it sort every row; cases are nearly
    # always decided in the order they were filed, so here the order is only checked. The raw
    # values compare as the database orders them (UTC text on SQLite, timestamps on PostgreSQL).
    decided_raws = [row[2] for row in rows]
    if not all(map(lt, decided_raws, islice(decided_raws, 1, None))):
        rows.sort(key=_BY_DECISION)
    decisions: list[engine.Decision] = []
    upheld: dict[int, UpheldCase] = {}
    # What each (ruleset, tier) adds from the nth case of a year, looked up once per pair (and the
    # last pair kept at hand: a shop's cases run in long stretches of one ruleset and tier).
    extras: dict[tuple[str, str], tuple[int | None, int, PointsClass | None]] = {}
    last_pair: tuple[str, str] | None = None
    extra_from_nth: int | None = None
    extra_points = 0
    extra_class: PointsClass | None = None
    # A shop's cases share a few amounts: each raw value is converted to cents once.
    amounts: dict[Any, Decimal | None] = {None: None}
    # The named tuples are built with `tuple.__new__`: their own constructor is a Python function
    # call that costs twice the tuple (two of them per decision, a thousand decisions per sync).
    new, decision, upheld_case = tuple.__new__, engine.Decision, UpheldCase
    parse = datetime.fromisoformat
    for (
        pk,
        reference,
        decided_raw,
        tier_name,
        ruleset_id,
        points,
        points_class,
        buyer_id,
        money_raw,
        order_id,
    ) in rows:
        if type(decided_raw) is str:
            try:
                decided_at = parse(decided_raw + "+00:00")  # as `_aware`, without its call
            except ValueError:
                decided_at = stored_time(decided_raw)
        else:
            decided_at = stored_time(decided_raw)
        if last_pair is None or last_pair[0] != ruleset_id or last_pair[1] != tier_name:
            last_pair = (ruleset_id, tier_name)
            extra = extras.get(last_pair)
            if extra is None:
                tier = registry.get(ruleset_id).tiers.get(tier_name)
                extra = extras[last_pair] = (
                    (tier.extra_points_from_nth_case, tier.extra_points, tier.extra_points_class)
                    if tier
                    else (None, 0, None)
                )
            extra_from_nth, extra_points, extra_class = extra
        money = amounts.get(money_raw, _MISSING)
        if money is _MISSING:
            money = amounts[money_raw] = Decimal(str(money_raw)).quantize(CENTS)
        decisions.append(
            new(
                decision,
                (pk, decided_at, points or 0, points_class or "A", extra_from_nth, extra_points, extra_class),
            )
        )
        upheld[pk] = new(
            upheld_case, (pk, reference, buyer_id, order_id, money, decided_at, tier_name, ruleset_id)
        )
    # The nodes are those of the ruleset of the shop's latest decision, or the one in force now.
    ruleset = (
        registry.get(rows[-1][4])
        if rows
        else registry.in_force(platform=shop.platform_id, filed_at=now, paid_at=None)
    )
    # By hand as well: building the query cost more than running it (a shop has a few exams).
    exams = [
        stored_time(passed_at)
        for (passed_at,) in rawsql.rows(
            f"SELECT passed_at FROM {ExamPass._meta.db_table} WHERE shop_id = %s", shop.pk
        )
    ]
    return ShopFacts(shop, ruleset, decisions, sorted(exams), upheld)


def _state(p: engine.Penalty, now: datetime) -> str:
    if p.absorbed_by is not None:
        return PenaltyState.ABSORBED
    if p.superseded_at is not None and p.superseded_at <= now:
        return PenaltyState.SUPERSEDED
    if p.lifted_at is not None and p.lifted_at <= now:
        return PenaltyState.LIFTED
    if p.ends_at is not None and p.ends_at <= now:
        return PenaltyState.AWAITING_EXAM
    return PenaltyState.IN_FORCE


def _ended_at(p: engine.Penalty, state: str) -> datetime | None:
    if state == PenaltyState.SUPERSEDED:
        return p.superseded_at
    if state == PenaltyState.LIFTED:
        return p.lifted_at
    return None


def shop_ref(shop: Shop) -> dict[str, Any]:
    return {"id": shop.pk, "external_id": shop.external_id, "platform": shop.platform_id}


def _penalty_payload(row: Penalty, cases: _References) -> dict[str, Any]:
    return {
        "key": row.key,
        "node": row.node,
        "points_class": row.points_class,
        "measures": row.measures,
        "started_at": row.started_at.isoformat(),
        "ends_at": row.ends_at.isoformat() if row.ends_at else None,
        "state": row.state,
        "case": cases.get(row.case_id) if row.case_id else None,
    }


def sanctions_sync(
    *,
    shop_id: int,
    now: datetime,
    reason: str,
    actor: User | None = None,
    appeal: Appeal | None = None,
    sellers: list[int] | None = None,
    endpoints: list[WebhookEndpoint] | None = None,
    inputs_changed: bool = False,
    upheld_case: int | None = None,
) -> SyncResult:
    """Bring the shop's ledger, penalties, flags and compensation in line with what stands now.

    Returns at once, after two reads, when the shop's inputs are those of its last sync and no
    period, lift or year end has come since (`SyncState`). `inputs_changed`: the caller has just
    changed them, so that check is skipped. `upheld_case`: the caller has just upheld this case;
    when it was decided after every other of the shop and the stored state is that of the inputs
    before it, only what it adds is computed and written (`append.sync_append`), else the whole
    history is recomputed. `sellers` (ids) and `endpoints` (`webhook_endpoints()`): when the caller
    read them in this transaction already, for the notifications and webhooks."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sanctions_sync must run inside the transaction of the change that caused it")
    shop = rawsql.instance(Shop, shop_id, lock=True)  # two decisions on one shop queue here
    if shop is None:
        raise Shop.DoesNotExist(f"no shop {shop_id}")
    if upheld_case is not None:
        from reviewshield.sanctions.append import sync_append

        with gc_paused():
            appended = sync_append(
                shop=shop,
                case_id=upheld_case,
                now=now,
                reason=reason,
                actor=actor,
                sellers=sellers,
                endpoints=endpoints,
            )
        if appended is not None:
            result, valid_until, inputs = appended
            _state_save(shop.pk, now, valid_until, inputs)  # a state was stored: the append needs one
            return result
        inputs_changed = True
    if not inputs_changed:
        inputs, state = _inputs_fingerprint(shop.pk)
        if state is not None and state.inputs == inputs and state.synced_at <= now < state.valid_until:
            return SyncResult()
    with gc_paused():
        result, valid_until = _sync(
            shop=shop,
            now=now,
            reason=reason,
            actor=actor,
            appeal=appeal,
            sellers=sellers,
            endpoints=endpoints,
        )
    if inputs_changed:
        # The inputs as they stand now, after the caller's change: the next decision's sync may
        # then take the append path.
        _state_save(shop.pk, now, valid_until)
    elif state is None:
        SyncState.objects.create(shop_id=shop.pk, inputs=inputs, synced_at=now, valid_until=valid_until)
    else:
        SyncState.objects.filter(shop_id=shop.pk).update(
            inputs=inputs, synced_at=now, valid_until=valid_until
        )
    return result


def _state_save(shop_id: int, now: datetime, valid_until: datetime, inputs: str | None = None) -> None:
    """Store the shop's inputs as they stand now (`inputs`, when the caller read them) as those of
    its last sync."""
    state: Any = True
    if inputs is None:
        inputs, state = _inputs_fingerprint(shop_id)
    if state is None:
        SyncState.objects.create(shop_id=shop_id, inputs=inputs, synced_at=now, valid_until=valid_until)
    else:
        rawsql.update_where(
            SyncState, {"inputs": inputs, "synced_at": now, "valid_until": valid_until}, {"shop": shop_id}
        )


class _State(NamedTuple):
    inputs: str
    synced_at: datetime
    valid_until: datetime


_registry_print: tuple[Any, str] | None = None


def _registry_fingerprint() -> str:
    """The rulesets' ids and content hashes (a process keeps its registry; worked out once per registry)."""
    global _registry_print
    registry = ruleset_registry()
    if _registry_print is None or _registry_print[0] is not registry:
        _registry_print = (registry, repr(sorted((r.id, r.content_hash) for r in registry.all())))
    return _registry_print[1]


def _inputs_fingerprint(shop_id: int) -> tuple[str, _State | None]:
    """A fingerprint of everything a sync of the shop reads, and the shop's stored `SyncState`.

    One query of aggregates, run by the database over the shop's rows without sending them: counts,
    sums and bounds of the standing upheld decisions (ids, `version` — which every change of a case
    through `cases.transitions` bumps —, points, money, decision times), of the exams and appeals
    (an appeal's `version` moves when it is decided), and the holiday overrides' count and latest
    change. A decision added, overturned or re-tiered, an exam, an appeal filed or decided all move it.
    """
    digest, state, _around = _fingerprints(shop_id, around=None)
    return digest, state


class Around(NamedTuple):
    """What `_fingerprints` reads around one case for the append path."""

    before: str | None  # the fingerprint without the case; None when it is no standing decision
    case: (
        tuple[Any, ...] | None
    )  # id, reference, decided_at, tier, ruleset, points, class, buyer, money, order
    latest: tuple[Any, Any] | None  # (decided_at, ruleset id) of the shop's latest other decision
    rulesets: tuple[Any, Any] = (None, None)  # the least and greatest ruleset id of the decisions
    since: int = 0  # the shop's other decisions made from `since` (`_fingerprints`) on


def _inputs_fingerprint_around(
    shop_id: int, case_id: int, since: datetime
) -> tuple[str, Around, _State | None]:
    """The fingerprint of the shop's inputs as they stand, what the append path reads of `case_id`
    and of the decision before it, the count of the other decisions made from `since` on, and the
    fingerprint as it was before `case_id` became a standing upheld decision — all from one query —
    with the stored `SyncState`."""
    digest, state, around = _fingerprints(shop_id, around=case_id, since=since)
    assert around is not None
    return digest, around, state


# The standing decisions' aggregates. Money is summed in cents (whole numbers) so that the sum
# without one decision is the sum less its money, exactly, on either database; the counts of
# points and money say when a sum would be NULL (no decision with any).
_DECISIONS = (
    "(SELECT COUNT(*) AS n, SUM(id) AS ids, SUM(version) AS versions, SUM(id * version) AS mixed,"
    " COUNT(points) AS pn, SUM(points) AS points, COUNT(money_to_buyer) AS mn,"
    " SUM(ROUND(money_to_buyer * 100)) AS money, MIN(decided_at) AS first, MAX(decided_at) AS last,"
    " MIN(ruleset_id) AS rmin, MAX(ruleset_id) AS rmax{since}"
    " FROM {case} WHERE shop_id = %s AND status = %s AND decided_at IS NOT NULL) c"
)
_OTHERS = "FROM {case} WHERE shop_id = %s AND status = %s AND decided_at IS NOT NULL AND id <> %s"
_DECIDED = "CAST(decided_at AS text)"  # SQLite: the stored text, as the aggregates return it


def _fingerprints(
    shop_id: int, *, around: int | None, since: datetime | None = None
) -> tuple[str, _State | None, Around | None]:
    case, exam, appeal = Case._meta.db_table, ExamPass._meta.db_table, Appeal._meta.db_table
    holiday, state = HolidayOverride._meta.db_table, SyncState._meta.db_table
    upheld = CaseStatus.UPHELD.value
    columns = "c.n, c.ids, c.versions, c.mixed, c.pn, c.points, c.mn, c.money, c.first, c.last"
    sources = _DECISIONS.format(
        case=case, since=", SUM(CASE WHEN decided_at >= %s THEN 1 ELSE 0 END) AS since" if around else ""
    )
    if around is not None:
        # The decision before it (bounds of the others, read down the `case_shop_decided_v2` index
        # from either end) and the case's own row; the sums without it are the sums less its values.
        decided = _DECIDED if connection.vendor == "sqlite" else "decided_at"
        others = _OTHERS.format(case=case)
        columns += (
            ", c.rmin, c.rmax, c.since"
            f", (SELECT {decided} {others} ORDER BY decided_at, id LIMIT 1),"
            f" (SELECT {decided} {others} ORDER BY decided_at DESC, id DESC LIMIT 1),"
            f" (SELECT ruleset_id {others} ORDER BY decided_at DESC, id DESC LIMIT 1),"
            " k.id, k.reference, k.decided, k.tier, k.ruleset_id, k.points, k.points_class, k.buyer_id,"
            " k.money_to_buyer, k.order_id, k.version, k.cents"
        )
        sources += (
            f" LEFT JOIN (SELECT id, reference, {decided} AS decided, tier, ruleset_id, points, points_class,"
            " buyer_id, money_to_buyer, order_id, version, ROUND(money_to_buyer * 100) AS cents"
            f" FROM {case} WHERE id = %s AND shop_id = %s AND status = %s AND decided_at IS NOT NULL) k ON 1 = 1"
        )
    sql = (
        f"SELECT {columns},"
        " e.n, e.ids, e.first, e.last, a.n, a.ids, a.versions, h.n, h.latest,"
        f" (SELECT inputs FROM {state} WHERE shop_id = %s),"
        f" (SELECT synced_at FROM {state} WHERE shop_id = %s),"
        f" (SELECT valid_until FROM {state} WHERE shop_id = %s)"
        f" FROM {sources},"
        " (SELECT COUNT(*) AS n, SUM(id) AS ids, MIN(passed_at) AS first, MAX(passed_at) AS last"
        f" FROM {exam} WHERE shop_id = %s) e,"
        " (SELECT COUNT(*) AS n, SUM(ap.id) AS ids, SUM(ap.version) AS versions"
        f" FROM {appeal} ap JOIN {case} ac ON ac.id = ap.case_id WHERE ac.shop_id = %s) a,"
        f" (SELECT COUNT(*) AS n, MAX(updated_at) AS latest FROM {holiday}) h"
    )
    # The placeholders in the order of the text: the others' bounds, the state's reads, the
    # decisions, the case's row, the exams and the appeals.
    params: list[Any] = [shop_id, upheld, around] * 3 if around is not None else []
    params += [shop_id, shop_id, shop_id]
    if around is not None:
        params.append(connection.ops.adapt_datetimefield_value(since))
    params += [shop_id, upheld]
    if around is not None:
        params += [around, shop_id, upheld]
    row = rawsql.rows(sql, *params, shop_id, shop_id)[0]
    decided = row[:10]
    tail = row[10:]
    found = None
    if around is not None:
        found, tail = tail[:18], tail[18:]
    rest, (stored, synced_at, valid_until) = tail[:9], tail[9:]
    registry = _registry_fingerprint()

    def digest(values: tuple[Any, ...]) -> str:
        return hashlib.blake2b(repr(((*values, *rest), registry)).encode(), digest_size=16).hexdigest()

    state_now = None if stored is None else _State(stored, stored_time(synced_at), stored_time(valid_until))
    if found is None:
        return digest(decided), state_now, None
    rmin, rmax, recent, first, last, latest_ruleset, *mine = found
    if mine[0] is None:  # the case is no standing decision of the shop
        return digest(decided), state_now, Around(None, None, None)
    pk, points, version, cents = mine[0], mine[5], mine[10], mine[11]
    mine_since = since is not None and stored_time(mine[2]) >= since  # the case counted in `recent`
    n, ids, versions, mixed, pn, points_sum, mn, money, _first, _last = decided
    if n == 1:
        without: tuple[Any, ...] = (0, None, None, None, 0, None, 0, None, None, None)
    else:
        pn_w = pn - (points is not None)
        mn_w = mn - (cents is not None)
        without = (
            n - 1,
            ids - pk,
            versions - version,
            mixed - pk * version,
            pn_w,
            None if pn_w == 0 else points_sum - (points or 0),
            mn_w,
            None if mn_w == 0 else money - (cents or 0),
            first,
            last,
        )
    return (
        digest(decided),
        state_now,
        Around(
            digest(without),
            tuple(mine[:10]),
            None if last is None else (last, latest_ruleset),
            (rmin, rmax),
            (recent or 0) - mine_since,
        ),
    )


def _sync(
    *,
    shop: Shop,
    now: datetime,
    reason: str,
    actor: User | None,
    appeal: Appeal | None,
    sellers: list[int] | None,
    endpoints: list[WebhookEndpoint] | None,
) -> tuple[SyncResult, datetime]:
    """The sync itself; returns its result and the first moment after `now` at which time alone
    would change what it computed."""
    facts = shop_facts(shop, now)
    rules = facts.ruleset.sanctions
    entries = engine.ledger(facts.decisions, rules, until=now)
    result = SyncResult()
    references = _References(facts.upheld)

    # 1. The ledger: append what is missing, with the opposite sign what no longer stands.
    # Summed here rather than with GROUP BY, which has the database sort a thousand keys to group
    # lines that are nearly all alone under their key (a second line only ever corrects the first).
    rows = rawsql.rows(f'SELECT "key", points FROM {LedgerEntry._meta.db_table} WHERE shop_id = %s', shop.pk)
    held: dict[str, int] = dict(rows)  # nearly always a line per key: built in one call
    if len(held) != len(rows):  # some key has a correction: sum its lines
        held = {}
        for key, points in rows:
            held[key] = held.get(key, 0) + points
    wanted = engine.by_key(entries)
    gone = [key for key, total in held.items() if total and key not in wanted]
    meta = {}
    for row in (
        LedgerEntry.objects.filter(shop_id=shop.pk, key__in=gone).values(
            "key", "kind", "case_id", "year", "points_class", "effective_at"
        )
        if gone  # nearly always nothing is gone: not even the query is built
        else ()
    ):
        meta.setdefault(row["key"], row)
    lines = []
    # Lines for what should be, then for what no longer should (a held key that sums to zero
    # needs none, so `gone` is all of the rest). Most wanted lines are held as they are.
    changed = [key for key, e in wanted.items() if e.points != held.get(key, 0)]
    for key in [*changed, *gone]:
        e = wanted.get(key)
        diff = (e.points if e else 0) - (held.get(key) or 0)
        if diff == 0:
            continue
        src = meta.get(key, {})
        lines.append(
            LedgerEntry(
                shop_id=shop.pk,
                key=key,
                kind=e.kind if e else src["kind"],
                reason=LedgerEntry.Reason.YEAR_END if e and e.kind == "carry" else reason,
                case_id=e.case_id if e else src.get("case_id"),
                appeal=appeal,
                year=e.year if e else src["year"],
                points_class=e.points_class if e else src["points_class"],
                points=diff,
                effective_at=e.at if e else src["effective_at"],
                recorded_at=now,
            )
        )
    rawsql.insert_rows(LedgerEntry, lines)  # nobody needs their ids back
    result.ledger_lines = len(lines)

    # 2. Penalties: what should exist, in which state now.
    planned = engine.penalties(entries, rules, exams=facts.exams)
    # Only keys and states are read (cheap); the few rows that change are loaded one by one.
    stored_states = dict(
        rawsql.rows(f'SELECT "key", state FROM {Penalty._meta.db_table} WHERE shop_id = %s', shop.pk)
    )
    events: list[ShopEvent] = []
    hooks: list[tuple[str, Payload]] = []
    _apply_penalties(
        shop, planned, stored_states, now=now, actor=actor, ruleset_id=facts.ruleset.id,
        references=references, result=result, events=events, hooks=hooks,
    )  # fmt: skip
    gone = [key for key, state in stored_states.items() if state != PenaltyState.REVERSED]
    for row in Penalty.objects.filter(shop_id=shop.pk, key__in=gone) if gone else ():
        # no standing decision gives these any more
        was_active = row.state in ACTIVE_STATES
        row.state = PenaltyState.REVERSED
        row.ended_at = now
        row.updated_at = now
        row.save(update_fields=["state", "ended_at", "updated_at"])
        if was_active:
            result.lifted.append(row.key)
            events.append(_event(shop, "sanction_lifted", actor, now, row.case_id, row, references))
            hooks.append(("sanction.lifted", {"penalty": _penalty_payload(row, references)}))

    # 3. Flags for a person (JD: the contract may be ended).
    wanted_flags = {
        f.key: f for f in engine.flags(entries, contract_end_points=facts.ruleset.contract_end_points)
    }
    # One read for both steps below: a shop has a flag a year at most, and the two steps touch
    # different keys (those no longer wanted, those wanted). Read by hand as plain values: nearly
    # every sync changes none, and the ORM cost more than the query; a flag that changes is loaded.
    stored_flags = rawsql.rows(
        f'SELECT id, "key", withdrawn_at IS NOT NULL FROM {Flag._meta.db_table} WHERE shop_id = %s', shop.pk
    )
    for pk, key, withdrawn in stored_flags:
        if withdrawn or key in wanted_flags:
            continue
        flag = Flag.objects.get(pk=pk)
        flag.withdrawn_at = now
        flag.save(update_fields=["withdrawn_at"])
        events.append(ShopEvent(shop=shop, kind="flag_withdrawn", actor=actor, at=now, data={"flag": key}))
    known_flags = {key: (pk, withdrawn) for pk, key, withdrawn in stored_flags if key in wanted_flags}
    for key, f in wanted_flags.items():
        known = known_flags.get(key)
        if known is None:
            Flag.objects.create(shop=shop, key=key, kind=f.kind, year=f.year, points=f.points, raised_at=now)
            events.append(
                ShopEvent(
                    shop=shop,
                    kind="flag_raised",
                    actor=actor,
                    at=now,
                    data={"flag": key, "kind": f.kind, "year": f.year, "points": f.points},
                )
            )
        elif known[1]:  # withdrawn: raised again
            existing = Flag.objects.get(pk=known[0])
            existing.withdrawn_at = None
            existing.points = f.points
            existing.save(update_fields=["withdrawn_at", "points"])
            events.append(ShopEvent(shop=shop, kind="flag_raised", actor=actor, at=now, data={"flag": key}))

    # 4. Compensation: one order per standing upheld case that gives the buyer money.
    comp_events, comp_hooks = _compensation_sync(shop, facts, now, actor, result)
    events.extend(comp_events)
    hooks.extend(comp_hooks)

    # 5. The seller credit blacklist: grounds from final upheld decisions (`blacklist`).
    listed = blacklist_sync(shop, facts, now, actor)
    events.extend(listed)

    # 6. The audit trail (also in the tamper-evident log), the seller's notifications, the webhooks.
    _finish(
        shop, now=now, reason=reason, appeal=appeal, actor=actor, lines=lines, events=events, hooks=hooks,
        listed=listed, result=result, sellers=sellers, endpoints=endpoints,
    )  # fmt: skip
    return result, _valid_until(planned, now)


def _finish(
    shop: Shop,
    *,
    now: datetime,
    reason: str,
    appeal: Appeal | None,
    actor: User | None,
    lines: list[LedgerEntry],
    events: list[ShopEvent],
    hooks: list[tuple[str, Payload]],
    listed: list[ShopEvent],
    result: SyncResult,
    sellers: list[int] | None,
    endpoints: list[WebhookEndpoint] | None,
) -> None:
    """The end of a sync, full or appended: the ledger's event, the shop events and their log
    records, the webhooks, the sellers' notifications."""
    if lines:
        events.append(
            ShopEvent(
                shop=shop,
                kind="ledger_changed",
                actor=actor,
                at=now,
                data={
                    "reason": reason,
                    "appeal": appeal.pk if appeal else None,
                    "lines": [
                        {
                            "key": line.key,
                            "points": line.points,
                            "year": line.year,
                            "class": line.points_class,
                        }
                        for line in lines
                    ],
                },
            )
        )
    _events_write(events)
    ref = shop_ref(shop)
    webhook_emit_many(
        events=[(kind, _with_shop(ref, data)) for kind, data in hooks],
        now=now,
        endpoints=endpoints,
    )
    if (listed or result.applied or result.lifted) and sellers is None:
        sellers = list(shop.sellers.values_list("pk", flat=True))
    if listed:
        notify(
            recipients=sellers or (),
            kind="shop.blacklist_changed",
            now=now,
            params={"shop": shop.pk},
            channels=("in_app",),
        )
    if result.applied or result.lifted:
        notify(
            recipients=sellers or (),
            kind="shop.sanctions_changed",
            now=now,
            params={"shop": shop.pk, "applied": len(result.applied), "lifted": len(result.lifted)},
            channels=("in_app",),
        )
    result.blacklist_changes = len(listed)


def _apply_penalties(
    shop: Shop,
    planned: Iterable[engine.Penalty],
    stored_states: dict[str, str],
    *,
    now: datetime,
    actor: User | None,
    ruleset_id: str,
    references: Any,
    result: SyncResult,
    events: list[ShopEvent],
    hooks: list[tuple[str, Payload]],
) -> None:
    """Write each planned penalty's state now (a row for a new one, the state of a stored one that
    moved), with its shop event and webhook; `stored_states` (key -> state) loses the keys planned."""
    for p in planned:
        state = _state(p, now)
        old_state = stored_states.pop(p.key, None)
        if old_state == state:
            continue
        was_active = old_state in ACTIVE_STATES
        if old_state is None:
            row = Penalty(
                shop_id=shop.pk,
                key=p.key,
                node=p.node.key,
                points_class=p.node.points_class,
                measures=list(p.node.measures),
                year=p.year,
                points_after=p.points_after,
                case_id=p.case_id,
                ruleset_id=ruleset_id,
                state=state,
                started_at=p.started_at,
                ends_at=p.ends_at,
                ended_at=_ended_at(p, state),
                absorbed_by=p.absorbed_by or "",
                created_at=now,
                updated_at=now,
            )
            row.save()
            if state in ACTIVE_STATES and p.ends_at is not None and p.ends_at > now:
                deadline_schedule(kind=PERIOD_ENDS, due_at=p.ends_at, payload={"shop": shop.pk, "key": p.key})
        else:
            row = Penalty.objects.get(shop_id=shop.pk, key=p.key)
            row.state = state
            row.ended_at = _ended_at(p, state)
            row.updated_at = now
            row.save(update_fields=["state", "ended_at", "updated_at"])
        is_active = state in ACTIVE_STATES
        if is_active and not was_active:
            result.applied.append(p.key)
            events.append(_event(shop, "sanction_applied", actor, now, p.case_id, row, references))
            hooks.append(("sanction.applied", {"penalty": _penalty_payload(row, references)}))
        elif was_active and not is_active:
            result.lifted.append(p.key)
            events.append(_event(shop, "sanction_lifted", actor, now, p.case_id, row, references))
            hooks.append(("sanction.lifted", {"penalty": _penalty_payload(row, references)}))
        elif state == PenaltyState.AWAITING_EXAM:
            events.append(_event(shop, "sanction_awaiting_exam", actor, now, p.case_id, row, references))


def _with_shop(ref: dict[str, Any], data: Payload) -> Payload:
    """A webhook payload with the shop in front (built only when somebody subscribes)."""
    if callable(data):
        return lambda: {"shop": ref, **data()}
    return {"shop": ref, **data}


def _valid_until(planned: Iterable[engine.Penalty], now: datetime) -> datetime:
    """The first moment after `now` at which a penalty's state moves by time alone, or the year ends
    (B points carry over then)."""
    until = engine.year_end(engine.local_year(now))
    for p in planned:
        for at in (p.ends_at, p.lifted_at, p.superseded_at):
            if at is not None and now < at < until:
                until = at
    return until


class _References:
    """Case references by case id, looked up only for the few cases a sync writes events about
    (a dict of every standing decision would be built on every sync for nothing)."""

    def __init__(self, upheld: dict[int, UpheldCase]) -> None:
        self.upheld = upheld

    def get(self, case_id: int) -> str | None:
        case = self.upheld.get(case_id)
        return case.reference if case else None


def _event(shop, kind, actor, now, case_id, row: Penalty, references) -> ShopEvent:  # type: ignore[no-untyped-def]
    return ShopEvent(
        shop=shop,
        kind=kind,
        actor=actor,
        at=now,
        case_id=case_id,
        data={
            "penalty": row.key,
            "node": row.node,
            "state": row.state,
            "measures": row.measures,
            "ends_at": row.ends_at.isoformat() if row.ends_at else None,
            "case": references.get(case_id) if case_id else None,
        },
    )


def _events_write(events: Iterable[ShopEvent]) -> None:
    """Write the shop events and queue their log records: two INSERTs however many there are."""
    rows = list(events)
    if not rows:
        return
    rawsql.insert_rows(ShopEvent, rows, returning_ids=True)  # each event gets its pk
    log_enqueue_many(
        (
            f"shop_event:{event.pk}",
            {
                "type": "shop_event",
                "id": event.pk,
                "shop": event.shop_id,
                "kind": event.kind,
                "actor": event.actor_id,
                "at": event.at.isoformat(),
                "data": event.data,
            },
            event.at,
            None,
        )
        for event in rows
    )


def _compensation_sync(
    shop: Shop, facts: ShopFacts, now: datetime, actor: User | None, result: SyncResult
) -> tuple[list[ShopEvent], list[tuple[str, Payload]]]:
    events: list[ShopEvent] = []
    hooks: list[tuple[str, Payload]] = []
    wanted = {pk: c for pk, c in facts.upheld.items() if c.money_to_buyer and c.money_to_buyer > 0}
    # What is stored, as tuples: a busy shop has an order per case, and nearly every sync changes
    # none of them. A row is loaded as a model only to be changed.
    # Read raw: the ORM's decimal converter per row cost more than the rest of the step; the shop's
    # orders share a few amounts, each raw value converted once.
    amounts: dict[Any, Decimal] = {}
    existing = {}
    for case_id, pk, status, raw in rawsql.query_rows(
        Compensation.objects.filter(shop_id=shop.pk).values_list("case_id", "pk", "status", "amount")
    ):
        amount = amounts.get(raw)
        if amount is None:
            amount = amounts[raw] = Decimal(str(raw)).quantize(CENTS)
        existing[case_id] = (pk, status, amount)
    for case_id, case in wanted.items():
        stored = existing.get(case_id)
        if stored is None:
            _compensation_new(shop, case, now, actor, result, events, hooks)
            continue
        if stored[1] == CompensationStatus.REVERSED:
            comp = Compensation.objects.get(pk=stored[0])
            comp.status = CompensationStatus.DUE
            comp.amount = case.money_to_buyer
            comp.reversed_at = None
            comp.version += 1
            comp.save(update_fields=["status", "amount", "reversed_at", "version"])
        elif stored[2] != case.money_to_buyer and stored[1] == CompensationStatus.DUE:
            comp = Compensation.objects.get(pk=stored[0])
            comp.amount = case.money_to_buyer
            comp.version += 1
            comp.save(update_fields=["amount", "version"])
            continue
        else:
            continue
        _compensation_announce(shop, comp, case, now, actor, result, events, hooks)
    for case_id, (pk, status, _amount) in existing.items():
        if case_id in wanted or status == CompensationStatus.REVERSED:
            continue
        comp = Compensation.objects.get(pk=pk)
        comp.status = CompensationStatus.REVERSED
        comp.reversed_at = now
        comp.version += 1
        comp.save(update_fields=["status", "reversed_at", "version"])
        result.compensations_reversed.append(comp.pk)
        events.append(
            ShopEvent(
                shop=shop,
                kind="compensation_reversed",
                actor=actor,
                at=now,
                case_id=case_id,
                data={
                    "compensation": comp.pk,
                    "amount": str(comp.amount),
                    "was_paid": comp.paid_at is not None,
                },
            )
        )
    return events, hooks


def _compensation_new(
    shop: Shop,
    case: UpheldCase,
    now: datetime,
    actor: User | None,
    result: SyncResult,
    events: list[ShopEvent],
    hooks: list[tuple[str, Payload]],
) -> None:
    """The compensation order of an upheld case that has none yet (the case gives the buyer money)."""
    comp = Compensation(
        case_id=case.pk,
        shop=shop,
        buyer_id=case.buyer_id,
        amount=case.money_to_buyer,
        status=CompensationStatus.DUE,
        created_at=now,
    )
    rawsql.insert_rows(Compensation, [comp], returning_ids=True)
    _compensation_announce(shop, comp, case, now, actor, result, events, hooks)


def _compensation_announce(
    shop: Shop,
    comp: Compensation,
    case: UpheldCase,
    now: datetime,
    actor: User | None,
    result: SyncResult,
    events: list[ShopEvent],
    hooks: list[tuple[str, Payload]],
) -> None:
    result.compensations_due.append(comp.pk)
    events.append(
        ShopEvent(
            shop=shop,
            kind="compensation_due",
            actor=actor,
            at=now,
            case_id=case.pk,
            data={"compensation": comp.pk, "amount": str(comp.amount), "case": case.reference},
        )
    )
    hooks.append(("compensation.due", _compensation_payload(comp, case.reference)))  # built if sent


def _compensation_payload(comp: Compensation, reference: str) -> Callable[[], dict[str, Any]]:
    """The `compensation.due` payload, as a function: its order's outside id costs a query, asked
    only when an endpoint subscribes."""
    amount, currency, status = str(comp.amount), comp.currency, comp.status

    def build() -> dict[str, Any]:
        order = Order.objects.filter(cases=comp.case_id).values_list("external_id", flat=True).first()
        return {
            "compensation": {
                "id": comp.pk,
                "case": reference,
                "order": order,
                "amount": amount,
                "currency": currency,
                "status": status,
            }
        }

    return build


def shop_status(shop: Shop, now: datetime) -> tuple[engine.ShopStatus, ShopFacts]:
    """What the shop may do right now, computed from what stands (never stale between worker ticks)."""
    facts = shop_facts(shop, now)
    entries = engine.ledger(facts.decisions, facts.ruleset.sanctions, until=now)
    planned = engine.penalties(entries, facts.ruleset.sanctions, exams=facts.exams)
    return engine.status(planned, entries, at=now), facts


def exam_record(
    *, shop_id: int, user: User, passed_at: datetime, now: datetime, reference: str = ""
) -> ExamPass:
    """An agent or the marketplace records that the seller passed the rules exam; ended periods lift."""
    if user.role not in EXAM_RECORDERS:
        raise PermissionDenied()
    if passed_at > now:
        raise ValidationFailed(
            details={"passed_at": str(_("The exam cannot have been passed in the future."))}
        )
    with transaction.atomic():
        if not Shop.objects.filter(pk=shop_id).exists():
            raise NotFound()
        exam = ExamPass.objects.create(
            shop_id=shop_id, passed_at=passed_at, recorded_by=user, recorded_at=now, reference=reference[:100]
        )
        _events_write(
            [
                ShopEvent(
                    shop_id=shop_id,
                    kind="exam_passed",
                    actor=user,
                    at=now,
                    data={"passed_at": passed_at.isoformat(), "reference": reference[:100]},
                )
            ]
        )
        sanctions_sync(shop_id=shop_id, now=now, reason=LedgerEntry.Reason.DECISION, actor=user)
        return exam


def compensation_mark_paid(
    *, compensation_id: int, user: User, now: datetime, payment_reference: str = ""
) -> Compensation:
    if user.role not in (Role.ADMIN, Role.SYSTEM, Role.AGENT, Role.SENIOR_AGENT):
        raise PermissionDenied()
    with transaction.atomic():
        comp = Compensation.objects.select_for_update().filter(pk=compensation_id).first()
        if comp is None:
            raise NotFound()
        if comp.status != CompensationStatus.DUE:
            raise ValidationFailed(
                _("Only a compensation that is due can be marked paid (this one is %(status)s).")
                % {"status": comp.get_status_display()}
            )
        comp.status = CompensationStatus.PAID
        comp.paid_at = now
        comp.payment_reference = payment_reference[:100]
        comp.version += 1
        comp.save(update_fields=["status", "paid_at", "payment_reference", "version"])
        _events_write(
            [
                ShopEvent(
                    shop_id=comp.shop_id,
                    kind="compensation_paid",
                    actor=user,
                    at=now,
                    case_id=comp.case_id,
                    data={"compensation": comp.pk, "amount": str(comp.amount)},
                )
            ]
        )
        return comp


def year_end_shops(year: int) -> list[int]:
    """Shops with points in `year` (their B may carry over)."""
    return list(
        LedgerEntry.objects.filter(year=year).values_list("shop_id", flat=True).distinct().order_by("shop_id")
    )


def points_by_year(shop_id: int) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = defaultdict(lambda: {"A": 0, "B": 0})
    for year, cls, total in (
        LedgerEntry.objects.filter(shop_id=shop_id)
        .values("year", "points_class")
        .annotate(total=Sum("points"))
        .values_list("year", "points_class", "total")
    ):
        out[year][cls] = total or 0
    return dict(out)
