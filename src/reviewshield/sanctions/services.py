"""Sanctions: the only writer of the ledger, penalties, flags and compensation orders.

`sanctions_sync` is the heart: inside the caller's transaction, with the shop row locked, it asks
the pure engine what the ledger and the penalties *should* be (every upheld decision that stands,
every exam passed, the ruleset's nodes), appends the difference to the ledger, moves penalties
between states, schedules the end of each new period, writes the shop's audit events and the
marketplace's webhooks. A decision, an appeal, a recorded exam, a period's end and the year-end
reset all call it; calling it again changes nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import Role, User
from reviewshield.cases.models import Case, CaseStatus
from reviewshield.deadlines.scheduling import deadline_schedule
from reviewshield.errors import NotFound, PermissionDenied, ValidationFailed
from reviewshield.evidence.log import log_enqueue
from reviewshield.marketplace.models import Order, Shop
from reviewshield.outbox.services import notify
from reviewshield.policy import Ruleset
from reviewshield.policystore.services import ruleset_registry
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
)
from reviewshield.webhooks.services import webhook_emit

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


@dataclass(frozen=True)
class UpheldCase:
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


def shop_facts(shop: Shop, now: datetime) -> ShopFacts:
    registry = ruleset_registry()
    query = (
        Case.objects.filter(shop_id=shop.pk, status=CaseStatus.UPHELD, decided_at__isnull=False)
        .order_by("decided_at", "id")
        .values_list(
            "id",
            "reference",
            "decided_at",
            "tier",
            "ruleset_id",
            "points",
            "points_class",
            "buyer_id",
            "money_to_buyer",
            "order_id",
        )
    )
    # The ORM builds the query; the rows are read raw, because Django's per-value converters
    # (SQLite datetimes and decimals) cost more than the whole recompute for a busy shop.
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            (
                r[0],
                r[1],
                _aware(r[2]),
                r[3],
                r[4],
                r[5],
                r[6],
                r[7],
                None if r[8] is None else Decimal(str(r[8])).quantize(CENTS),
                r[9],
            )
            for r in cursor.fetchall()
        ]
    decisions = []
    upheld = {}
    tiers: dict[tuple[str, str], Any] = {}
    for (
        pk,
        reference,
        decided_at,
        tier_name,
        ruleset_id,
        points,
        points_class,
        buyer_id,
        money,
        order_id,
    ) in rows:
        key = (ruleset_id, tier_name)
        if key not in tiers:
            tiers[key] = registry.get(ruleset_id).tiers.get(tier_name)
        tier = tiers[key]
        decisions.append(
            engine.Decision(
                case_id=pk,
                at=decided_at,
                points=points or 0,
                points_class=points_class or "A",
                extra_from_nth=tier.extra_points_from_nth_case if tier else None,
                extra_points=tier.extra_points if tier else 0,
                extra_class=tier.extra_points_class if tier else None,
            )
        )
        upheld[pk] = UpheldCase(pk, reference, buyer_id, order_id, money, decided_at, tier_name, ruleset_id)
    # The nodes are those of the ruleset of the shop's latest decision, or the one in force now.
    ruleset = (
        registry.get(rows[-1][4])
        if rows
        else registry.in_force(platform=shop.platform_id, filed_at=now, paid_at=None)
    )
    exams = list(ExamPass.objects.filter(shop_id=shop.pk).values_list("passed_at", flat=True))
    return ShopFacts(shop, ruleset, decisions, sorted(exams), upheld)


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)  # SQLite keeps UTC without an offset


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


def _penalty_payload(row: Penalty, cases: dict[int, str]) -> dict[str, Any]:
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
) -> SyncResult:
    """Bring the shop's ledger, penalties, flags and compensation in line with what stands now."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("sanctions_sync must run inside the transaction of the change that caused it")
    shop = Shop.objects.select_for_update().get(pk=shop_id)  # two decisions on one shop queue here
    facts = shop_facts(shop, now)
    rules = facts.ruleset.sanctions
    entries = engine.ledger(facts.decisions, rules, until=now)
    result = SyncResult()
    references = {pk: c.reference for pk, c in facts.upheld.items()}

    # 1. The ledger: append what is missing, with the opposite sign what no longer stands.
    held = dict(
        LedgerEntry.objects.filter(shop_id=shop.pk)
        .values("key")
        .annotate(total=Sum("points"))
        .values_list("key", "total")
    )
    wanted = {e.key: e for e in entries}
    gone = [key for key, total in held.items() if total and key not in wanted]
    meta = {}
    for row in LedgerEntry.objects.filter(shop_id=shop.pk, key__in=gone).values(
        "key", "kind", "case_id", "year", "points_class", "effective_at"
    ):
        meta.setdefault(row["key"], row)
    lines = []
    for key in wanted.keys() | held.keys():
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
    LedgerEntry.objects.bulk_create(lines)
    result.ledger_lines = len(lines)

    # 2. Penalties: what should exist, in which state now.
    planned = engine.penalties(entries, rules, exams=facts.exams)
    # Only keys and states are read (cheap); the few rows that change are loaded one by one.
    stored_states = dict(Penalty.objects.filter(shop_id=shop.pk).values_list("key", "state"))
    events: list[ShopEvent] = []
    hooks: list[tuple[str, dict[str, Any]]] = []
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
                ruleset_id=facts.ruleset.id,
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
    for flag in Flag.objects.filter(shop_id=shop.pk, withdrawn_at__isnull=True).exclude(
        key__in=list(wanted_flags)
    ):
        flag.withdrawn_at = now
        flag.save(update_fields=["withdrawn_at"])
        events.append(
            ShopEvent(shop=shop, kind="flag_withdrawn", actor=actor, at=now, data={"flag": flag.key})
        )
    known_flags = {f.key: f for f in Flag.objects.filter(shop_id=shop.pk, key__in=list(wanted_flags))}
    for key, f in wanted_flags.items():
        existing = known_flags.get(key)
        if existing is None:
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
        elif existing.withdrawn_at is not None:
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
    for kind, data in hooks:
        webhook_emit(event=kind, payload={"shop": shop_ref(shop), **data}, now=now)
    if listed:
        notify(
            recipients=list(shop.sellers.values_list("pk", flat=True)),
            kind="shop.blacklist_changed",
            now=now,
            params={"shop": shop.pk},
            channels=("in_app",),
        )
    if result.applied or result.lifted:
        notify(
            recipients=list(shop.sellers.values_list("pk", flat=True)),
            kind="shop.sanctions_changed",
            now=now,
            params={"shop": shop.pk, "applied": len(result.applied), "lifted": len(result.lifted)},
            channels=("in_app",),
        )
    result.blacklist_changes = len(listed)
    return result


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
    for event in events:
        event.save()
        log_enqueue(
            ref=f"shop_event:{event.pk}",
            record={
                "type": "shop_event",
                "id": event.pk,
                "shop": event.shop_id,
                "kind": event.kind,
                "actor": event.actor_id,
                "at": event.at.isoformat(),
                "data": event.data,
            },
            now=event.at,
        )


def _compensation_sync(
    shop: Shop, facts: ShopFacts, now: datetime, actor: User | None, result: SyncResult
) -> tuple[list[ShopEvent], list[tuple[str, dict[str, Any]]]]:
    events: list[ShopEvent] = []
    hooks: list[tuple[str, dict[str, Any]]] = []
    wanted = {pk: c for pk, c in facts.upheld.items() if (c.money_to_buyer or Decimal(0)) > 0}
    existing = {c.case_id: c for c in Compensation.objects.filter(shop_id=shop.pk)}
    for case_id, case in wanted.items():
        comp = existing.get(case_id)
        if comp is None:
            comp = Compensation.objects.create(
                case_id=case.pk,
                shop=shop,
                buyer_id=case.buyer_id,
                amount=case.money_to_buyer,
                status=CompensationStatus.DUE,
                created_at=now,
            )
        elif comp.status == CompensationStatus.REVERSED:
            comp.status = CompensationStatus.DUE
            comp.amount = case.money_to_buyer
            comp.reversed_at = None
            comp.version += 1
            comp.save(update_fields=["status", "amount", "reversed_at", "version"])
        elif comp.amount != case.money_to_buyer and comp.status == CompensationStatus.DUE:
            comp.amount = case.money_to_buyer
            comp.version += 1
            comp.save(update_fields=["amount", "version"])
            continue
        else:
            continue
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
        hooks.append(("compensation.due", _compensation_payload(comp, case.reference)))
    for case_id, comp in existing.items():
        if case_id in wanted or comp.status == CompensationStatus.REVERSED:
            continue
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


def _compensation_payload(comp: Compensation, reference: str) -> dict[str, Any]:
    return {
        "compensation": {
            "id": comp.pk,
            "case": reference,
            "order": Order.objects.filter(cases=comp.case_id).values_list("external_id", flat=True).first(),
            "amount": str(comp.amount),
            "currency": comp.currency,
            "status": comp.status,
        }
    }


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
