"""The seller credit blacklist and the public warnings, on the database side.

`blacklist_sync` runs inside `services.sanctions_sync` (so under the shop's row lock, in the
transaction of the decision, appeal or exam that changed something): it asks the pure `listing`
which grounds the shop's final upheld decisions give, and stores the difference as
`BlacklistEntry` rows with a shop event each. A ground's `listed_from` may lie ahead — the day the
appeal window ends — so the public list needs no worker: it shows the rows whose time has come.

The public reads (`blacklist_public`, `warnings_public`) name the shop, the platform, what was
decided and when — never a buyer, an order or a case number.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from reviewshield.localtime import iso_local
from reviewshield.marketplace.models import Shop
from reviewshield.policy import Window, WorkCalendar, window_end
from reviewshield.policystore.services import ruleset_registry, work_calendar
from reviewshield.sanctions import listing
from reviewshield.sanctions.models import (
    ACTIVE_STATES,
    Appeal,
    AppealStatus,
    BlacklistEntry,
    Penalty,
    ShopEvent,
)

# A long-running entry may rest on many decisions; pages and the API show the latest few and the count.
SHOWN_DECISIONS = 10

if TYPE_CHECKING:
    from reviewshield.accounts.models import User
    from reviewshield.sanctions.services import ShopFacts


def _upheld_for_listing(facts: ShopFacts) -> list[listing.Upheld]:
    """Each standing upheld decision with the moment it became final (None: an appeal is waiting).

    Final = the appeal window has passed, or the seller's own appeal was decided (the seller may
    appeal once); a later decided appeal of the buyer's moves it to that moment."""
    if not facts.upheld:
        return []
    registry = ruleset_registry()
    calendar: WorkCalendar | None = None  # read (one query) only for a window in working time
    pending: set[int] = set()
    decided: dict[int, datetime] = {}
    seller_appealed: set[int] = set()
    for case_id, side, status, decided_at in Appeal.objects.filter(case__shop_id=facts.shop.pk).values_list(
        "case_id", "side", "status", "decided_at"
    ):
        if status == AppealStatus.PENDING:
            pending.add(case_id)
            continue
        if side == "seller":
            seller_appealed.add(case_id)
        if decided_at is not None:
            decided[case_id] = max(decided.get(case_id, decided_at), decided_at)
    appealed = pending | seller_appealed | decided.keys()
    # Per ruleset: its appeal window, and the window's length when it is plain calendar time. A
    # shop's decisions are nearly all under one ruleset: the last one's window is kept at hand.
    windows: dict[str, tuple[Window, timedelta | None]] = {}
    last_ruleset, window, length = "", None, None
    # Built with `tuple.__new__`: the named tuple's own constructor is a Python call that costs
    # twice the tuple, and a busy shop has a thousand decisions.
    new, upheld = tuple.__new__, listing.Upheld
    out: list[listing.Upheld] = []
    append = out.append
    for c in facts.upheld.values():
        if appealed and c.pk in appealed:  # the few with an appeal; the rest skip these lookups
            if c.pk in pending:
                append(new(upheld, (c.pk, c.decided_at, c.tier, None)))
                continue
            if c.pk in seller_appealed:
                append(new(upheld, (c.pk, c.decided_at, c.tier, decided[c.pk])))
                continue
        if c.ruleset_id != last_ruleset or window is None:
            if c.ruleset_id not in windows:
                rule_window = registry.get(c.ruleset_id).windows["appeal"]
                rule_length = None
                if rule_window.kind == "calendar":  # what window_end does for these, without its checks
                    rule_length = (
                        timedelta(days=rule_window.amount)
                        if rule_window.unit == "days"
                        else timedelta(hours=rule_window.amount)
                    )
                windows[c.ruleset_id] = (rule_window, rule_length)
            last_ruleset = c.ruleset_id
            window, length = windows[c.ruleset_id]
        if length is not None:
            final = c.decided_at + length
        else:
            if calendar is None:
                calendar = work_calendar()
            final = window_end(window, c.decided_at, calendar).at
        if c.pk in decided:
            final = max(final, decided[c.pk])
        append(new(upheld, (c.pk, c.decided_at, c.tier, final)))
    return out


def blacklist_grounds(facts: ShopFacts) -> list[listing.Ground]:
    rules = facts.ruleset.sanctions
    return listing.merged_grounds(
        _upheld_for_listing(facts),
        serious_tiers=rules.blacklist_serious_tiers,
        threshold=facts.ruleset.blacklist_upheld_threshold,
        days=rules.blacklist_days,
    )


def entry_event(
    shop: Shop,
    kind: str,
    row: BlacklistEntry,
    *,
    actor: User | None,
    now: datetime,
    references: dict[int, str],
) -> ShopEvent:
    """The shop event of an entry listed or withdrawn: its ground, the standing decisions it rests
    on (`references`: case id -> reference of each standing upheld decision), its bounds."""
    return ShopEvent(
        shop=shop,
        kind=kind,
        actor=actor,
        at=now,
        case_id=row.cases[-1] if row.cases else None,
        data={
            "ground": row.key,
            "reason": row.reason,
            "cases": [references[c] for c in row.cases if c in references],
            "listed_from": row.listed_from.isoformat(),
            "until": row.until.isoformat(),
        },
    )


def blacklist_sync(shop: Shop, facts: ShopFacts, now: datetime, actor: User | None) -> list[ShopEvent]:
    """Store the grounds the shop's final decisions give now; return the shop events to write."""
    wanted = {g.key: g for g in blacklist_grounds(facts)}
    stored = {row.key: row for row in BlacklistEntry.objects.filter(shop_id=shop.pk)}
    events: list[ShopEvent] = []

    references = {pk: c.reference for pk, c in facts.upheld.items()}

    def event(kind: str, row: BlacklistEntry) -> None:
        events.append(entry_event(shop, kind, row, actor=actor, now=now, references=references))

    for key, g in wanted.items():
        row = stored.get(key)
        if row is None:
            row = BlacklistEntry.objects.create(
                shop=shop,
                key=key,
                reason=g.reason,
                cases=list(g.cases),
                listed_from=g.listed_from,
                until=g.until,
                created_at=now,
                updated_at=now,
            )
            event("blacklist_listed", row)
        elif (
            row.withdrawn_at is not None
            or row.listed_from != g.listed_from
            or row.until != g.until
            or row.cases != list(g.cases)
        ):
            row.withdrawn_at = None
            row.listed_from, row.until, row.cases, row.updated_at = g.listed_from, g.until, list(g.cases), now
            row.save(update_fields=["withdrawn_at", "listed_from", "until", "cases", "updated_at"])
            event("blacklist_listed", row)
    for key, row in stored.items():
        if key not in wanted and row.withdrawn_at is None:
            row.withdrawn_at, row.updated_at = now, now
            row.save(update_fields=["withdrawn_at", "updated_at"])
            event("blacklist_withdrawn", row)
    return events


@dataclass(frozen=True)
class ShopListing:
    shop: Shop
    listing: listing.Listing
    rows: dict[str, BlacklistEntry]


def shop_listing(shop: Shop, now: datetime) -> ShopListing:
    """Where the shop stands on the blacklist now, from its stored grounds (past ones left out)."""
    rows = {
        r.key: r
        for r in BlacklistEntry.objects.filter(shop_id=shop.pk, withdrawn_at__isnull=True, until__gt=now)
    }
    grounds = [listing.Ground(r.key, r.reason, tuple(r.cases), r.listed_from, r.until) for r in rows.values()]  # type: ignore[arg-type]
    return ShopListing(shop, listing.listing(grounds, at=now), rows)


def _case_facts(case_ids: set[int]) -> dict[int, dict[str, Any]]:
    from reviewshield.cases.models import Case

    return {
        pk: {"decided_at": decided_at, "tier": tier, "types": types, "reference": reference}
        for pk, decided_at, tier, types, reference in Case.objects.filter(pk__in=case_ids).values_list(
            "pk", "decided_at", "tier", "harassment_types", "reference"
        )
    }


def ground_out(g: listing.Ground, cases: dict[int, dict[str, Any]], *, references: bool) -> dict[str, Any]:
    """One ground as the pages show it (datetimes). `references` only for the shop's own people."""
    shown = [c for c in g.cases if c in cases][-SHOWN_DECISIONS:]
    return {
        "reason": g.reason,
        "listed_from": g.listed_from,
        "until": g.until,
        "count": len(g.cases),
        "decisions": [
            {
                "decided_at": cases[c]["decided_at"],
                "tier": cases[c]["tier"],
                "harassment_types": list(cases[c]["types"]),
                **({"case": cases[c]["reference"]} if references else {}),
            }
            for c in shown
        ],
    }


def _iso(value: Any) -> Any:
    """The same structure with every datetime as local ISO text (for the API)."""
    if isinstance(value, datetime):
        return iso_local(value)
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


def shop_listing_view(shop: Shop, now: datetime, *, references: bool) -> dict[str, Any]:
    """The shop's place on the blacklist for its own people: why, since, until, and what is coming."""
    sl = shop_listing(shop, now)
    lst = sl.listing
    cases = _case_facts({c for g in (*lst.grounds, *lst.upcoming) for c in g.cases[-SHOWN_DECISIONS:]})
    return {
        "listed": lst.listed,
        "since": lst.since,
        "until": lst.until,
        "grounds": [ground_out(g, cases, references=references) for g in lst.grounds],
        "upcoming": [ground_out(g, cases, references=references) for g in lst.upcoming],
    }


def shop_listing_out(shop: Shop, now: datetime, *, references: bool) -> dict[str, Any]:
    return dict(_iso(shop_listing_view(shop, now, references=references)))


def public_out(entry: dict[str, Any]) -> dict[str, Any]:
    """A public list entry for the API: local ISO times, no model objects."""
    return dict(_iso({k: v for k, v in entry.items() if k != "platform_obj"}))


def blacklist_public(now: datetime, *, platform: str | None = None) -> list[dict[str, Any]]:
    """Every shop on the blacklist now, newest listing first: shop, platform, grounds, since, until."""
    rows = BlacklistEntry.objects.filter(withdrawn_at__isnull=True, until__gt=now).select_related(
        "shop", "shop__platform"
    )
    if platform:
        rows = rows.filter(shop__platform_id=platform)
    by_shop: dict[int, list[BlacklistEntry]] = defaultdict(list)
    for r in rows:
        by_shop[r.shop_id].append(r)
    cases = _case_facts({c for rs in by_shop.values() for r in rs for c in r.cases[-SHOWN_DECISIONS:]})
    out = []
    for rs in by_shop.values():
        grounds = [listing.Ground(r.key, r.reason, tuple(r.cases), r.listed_from, r.until) for r in rs]  # type: ignore[arg-type]
        lst = listing.listing(grounds, at=now)
        if not lst.listed:
            continue
        shop = rs[0].shop
        out.append(
            {
                "shop": shop.pk,
                "external_id": shop.external_id,
                "name": shop.name,
                "platform": shop.platform_id,
                "platform_obj": shop.platform,
                "since": lst.since,
                "until": lst.until,
                "grounds": [ground_out(g, cases, references=False) for g in lst.grounds],
            }
        )
    out.sort(key=lambda e: (e["since"], e["shop"]), reverse=True)
    return out


def warnings_public(now: datetime, *, platform: str | None = None) -> list[dict[str, Any]]:
    """Shops under a public warning (公示警告) now: a penalty in force whose measures include it."""
    rows = (
        Penalty.objects.filter(state__in=ACTIVE_STATES, started_at__lte=now)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("shop", "shop__platform")
        .order_by("-started_at", "id")
    )
    if platform:
        rows = rows.filter(shop__platform_id=platform)
    out: dict[int, dict[str, Any]] = {}
    for p in rows:
        if "public_warning" not in p.measures:
            continue
        entry = out.setdefault(
            p.shop_id,
            {
                "shop": p.shop_id,
                "external_id": p.shop.external_id,
                "name": p.shop.name,
                "platform": p.shop.platform_id,
                "platform_obj": p.shop.platform,
                "penalties": [],
            },
        )
        entry["penalties"].append(
            {
                "node": p.node,
                "points_class": p.points_class,
                "points": p.points_after,
                "year": p.year,
                "measures": list(p.measures),
                "started_at": p.started_at,
                "ends_at": p.ends_at,
            }
        )
    return list(out.values())
