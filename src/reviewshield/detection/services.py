"""Alerts: raised by screening (and forensics), worked by agents, answered by the buyer.

Every function is one transaction: it checks who may act and the alert's state, writes the change
through `_transition` (version check, `AlertEvent`, the event queued for the tamper-evident log),
and the notifications it causes — or raises a `ReviewShieldError` and leaves nothing behind.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from reviewshield.accounts.models import User
from reviewshield.cases import access
from reviewshield.cases.audit import event_record
from reviewshield.cases.models import OPEN_STATUSES, Case, HarassmentType
from reviewshield.detection.models import (
    OPEN_ALERT_STATUSES,
    Alert,
    AlertEvent,
    AlertStatus,
    ChatMute,
    Outcome,
    ScreenedMessage,
    Source,
)
from reviewshield.errors import (
    Conflict,
    InvalidTransition,
    NotEligible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.log import log_enqueue, log_enqueue_many
from reviewshield.freetext import LIMITS, text_checked
from reviewshield.localtime import format_local, to_local
from reviewshield.marketplace.models import Order, Review, Shop
from reviewshield.outbox.services import notify
from reviewshield.privacy.selectors import mask_for_seller
from reviewshield.rawsql import insert_rows, instances, rows, untaken, update_rows
from reviewshield.screening import CATEGORIES

S = AlertStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.OPEN: frozenset({S.AWAITING_BUYER, S.COMPLAINT_FILED, S.CLOSED}),
    S.AWAITING_BUYER: frozenset({S.OPEN, S.COMPLAINT_FILED, S.CLOSED}),
    S.COMPLAINT_FILED: frozenset(),
    S.CLOSED: frozenset(),
}
REFUSALS = {
    S.OPEN: _("The alert is open."),
    S.AWAITING_BUYER: _("The buyer has been asked and has not answered yet."),
    S.COMPLAINT_FILED: _("A complaint has been opened from this alert; work on it there."),
    S.CLOSED: _("The alert is closed."),
}
CONFLICT = _("Someone else changed this alert first. Reload it and try again.")
ACTION_RANK = {"warn": 1, "hold": 2, "block": 3}
# What each screening category or forensic finding is, in the complaint form's kinds of harassment.
HARASSMENT_FOR = {
    "threat": HarassmentType.THREATS_INSULTS,
    "insult": HarassmentType.THREATS_INSULTS,
    "funeral": HarassmentType.THREATS_INSULTS,
    "doxxing": HarassmentType.PERSONAL_DATA_LEAKED,
    "review_pressure": HarassmentType.REVIEW_PRESSURE,
    "spam": HarassmentType.OTHER,
    "sms_bombing": HarassmentType.PHONE_SMS_BOMBING,
    "call_flood": HarassmentType.PHONE_SMS_BOMBING,
    "late_night": HarassmentType.PHONE_SMS_BOMBING,
}
MAX_NOTE = LIMITS["agent_note"]


def _new_reference(now: datetime) -> str:
    return f"AL{to_local(now):%y%m%d}{secrets.token_hex(4).upper()}"


def _sellers(shop_id: int) -> list[int]:
    return list(Shop.sellers.through.objects.filter(shop_id=shop_id).values_list("user_id", flat=True))


def _event(
    alert: Alert, *, kind: str, actor: Any, role: str, now: datetime, before: str, data: dict[str, Any]
) -> None:
    event = AlertEvent.objects.create(
        alert=alert,
        kind=kind,
        actor=actor,
        actor_role=role,
        at=now,
        from_status=before,
        to_status=alert.status,
        data=data,
    )
    log_enqueue(
        ref=f"alert_event:{event.pk}",
        record=event_record(event, alert.reference, record_type="alert_event", subject="alert"),
        now=now,
        case_id=alert.case_id,
    )


def _transition(
    alert: Alert,
    *,
    kind: str,
    actor: Any,
    role: str,
    now: datetime,
    to: str | None = None,
    expected_version: int | None = None,
    updates: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Alert:
    """The one writer of `Alert.status` (and of the alert's other fields after it is raised)."""
    if expected_version is not None and expected_version != alert.version:
        raise Conflict(CONFLICT, details={"expected_version": expected_version, "version": alert.version})
    before = alert.status
    if to is not None and to != before and to not in TRANSITIONS[before]:
        raise InvalidTransition(REFUSALS[before], details={"status": before, "to": to})
    if to is None and before not in OPEN_ALERT_STATUSES:
        raise InvalidTransition(REFUSALS[before], details={"status": before})
    for name, value in (updates or {}).items():
        setattr(alert, name, value)
    if to is not None:
        alert.status = to
    alert.version += 1
    alert.save()
    _event(alert, kind=kind, actor=actor, role=role, now=now, before=before, data=data or {})
    return alert


def _worst_first(categories: set[str]) -> list[str]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(categories, key=lambda c: (order.get(c, len(order)), c))


@dataclass(frozen=True)
class PairMessages:
    """Held or blocked messages of one seller–buyer pair, from one screening batch."""

    platform_id: int
    shop_id: int
    buyer_id: int
    review_id: int | None  # the buyer's latest bad review of the shop
    review_order_id: int | None
    # Unsaved rows (a `ScreenedMessage`, or the screening batch's lighter stand-in with the same
    # attributes) get their alert set; saved rows are updated.
    messages: Sequence[Any]


def _references(count: int, now: datetime) -> list[str]:
    """`count` new alert numbers, none already taken (one query, whatever the count)."""
    refs: list[str] = []
    while len(refs) < count:
        fresh = {_new_reference(now) for _ in range(count - len(refs))} - set(refs)
        fresh -= {
            taken
            for (taken,) in rows(
                f"SELECT reference FROM {Alert._meta.db_table} WHERE reference IN %s", list(fresh)
            )
        }
        refs.extend(fresh)
    return refs


def alerts_from_screening(groups: Sequence[PairMessages], *, now: datetime) -> list[Alert]:
    """Raise an alert for each pair's held or blocked messages, or add them to the pair's alert
    still being worked; one alert per group, in order. Called inside the screening transaction.

    A batch of 1,000 messages may touch dozens of pairs: everything is read and written with a
    fixed number of queries, not a handful per pair (the API's answer time depends on it).
    """
    if not groups:
        return []
    shop_ids = {g.shop_id for g in groups}
    buyer_ids = {g.buyer_id for g in groups}
    wanted = {(g.shop_id, g.buyer_id) for g in groups}
    standing: dict[tuple[int, int], Alert] = {}
    for alert in instances(
        Alert,
        "t.shop_id IN %s AND t.buyer_id IN %s AND t.source = %s AND t.status IN %s",
        sorted(shop_ids),
        sorted(buyer_ids),
        Source.CHAT,
        sorted(OPEN_ALERT_STATUSES),
        order_by="t.raised_at, t.id",
        lock=True,
    ):
        if (alert.shop_id, alert.buyer_id) in wanted:
            standing[(alert.shop_id, alert.buyer_id)] = alert  # the latest wins
    new = [g for g in groups if (g.shop_id, g.buyer_id) not in standing]
    # The order each new alert is about: the one a message names, else the review's, else the
    # pair's latest; its review, and an open complaint on it.
    order_of: dict[tuple[int, int], int | None] = {}
    latest_needed = set()
    for g in new:
        hint = next((m.order_id for m in g.messages if m.order_id), None)
        order_of[(g.shop_id, g.buyer_id)] = hint or g.review_order_id
        if order_of[(g.shop_id, g.buyer_id)] is None:
            latest_needed.add((g.shop_id, g.buyer_id))
    if latest_needed:
        for order_id, shop_id, buyer_id in rows(
            f"SELECT id, shop_id, buyer_id FROM {Order._meta.db_table} WHERE shop_id IN %s AND buyer_id IN %s"
            " ORDER BY paid_at, id",
            sorted({s for s, _ in latest_needed}),
            sorted({b for _, b in latest_needed}),
        ):
            if (shop_id, buyer_id) in latest_needed:
                order_of[(shop_id, buyer_id)] = order_id
    order_ids = {o for o in order_of.values() if o is not None}
    review_of: dict[int, int] = {}
    case_of: dict[int, int] = {}
    if order_ids:
        wanted_orders = sorted(order_ids)
        review_of = dict(
            rows(f"SELECT order_id, id FROM {Review._meta.db_table} WHERE order_id IN %s", wanted_orders)
        )
        for order_id, case_id in rows(
            f"SELECT order_id, id FROM {Case._meta.db_table} WHERE order_id IN %s AND status IN %s"
            " ORDER BY id DESC",
            wanted_orders,
            sorted(OPEN_STATUSES),
        ):
            case_of[order_id] = case_id  # the first filed wins
    references = iter(_references(len(new), now))
    created: list[Alert] = []
    changed: list[Alert] = []
    events: list[AlertEvent] = []
    out: list[Alert] = []
    for g in groups:
        action = max((m.action for m in g.messages), key=lambda a: ACTION_RANK.get(a, 0))
        categories = {c for m in g.messages for c in m.categories}
        first = min(m.sent_at for m in g.messages)
        last = max(m.sent_at for m in g.messages)
        data = {
            "messages": [m.message_id for m in g.messages],
            "action": action,
            "categories": _worst_first(categories),
        }
        alert = standing.get((g.shop_id, g.buyer_id))
        if alert is None:
            order_id = order_of[(g.shop_id, g.buyer_id)]
            alert = Alert(
                reference=next(references),
                source=Source.CHAT,
                platform_id=g.platform_id,
                shop_id=g.shop_id,
                buyer_id=g.buyer_id,
                order_id=order_id,
                review_id=g.review_id if g.review_id is not None else review_of.get(order_id or 0),
                case_id=case_of.get(order_id or 0),
                status=S.OPEN,
                action=action,
                categories=_worst_first(categories),
                message_count=len(g.messages),
                first_at=first,
                last_at=last,
                raised_at=now,
            )
            standing[(g.shop_id, g.buyer_id)] = alert  # a later group of the same pair joins it
            created.append(alert)
            kind, before = "raised", ""
        else:
            before = alert.status
            alert.action = max(alert.action, action, key=lambda a: ACTION_RANK.get(a, 0))
            alert.categories = _worst_first(set(alert.categories) | categories)
            alert.message_count += len(g.messages)
            alert.first_at = min(alert.first_at, first)
            alert.last_at = max(alert.last_at, last)
            if alert.pk is not None:
                alert.version += 1
                changed.append(alert)
            kind = "messages_added"
        events.append(
            AlertEvent(
                alert=alert,
                kind=kind,
                actor=None,
                actor_role="system",
                at=now,
                from_status=before,
                to_status=alert.status,
                data=data,
            )
        )
        out.append(alert)
    insert_rows(Alert, created, returning_ids=True)
    if changed:
        update_rows(
            Alert,
            list({a.pk: a for a in changed}.values()),
            ["action", "categories", "message_count", "first_at", "last_at", "version"],
        )
    insert_rows(AlertEvent, events, returning_ids=True)
    log_enqueue_many(
        (
            f"alert_event:{event.pk}",
            event_record(event, event.alert.reference, record_type="alert_event", subject="alert"),
            now,
            event.alert.case_id,
        )
        for event in events
    )
    for g, alert in zip(groups, out, strict=True):
        saved = [m.pk for m in g.messages if m.pk]
        for m in g.messages:
            m.alert = alert
        if saved:
            ScreenedMessage.objects.filter(pk__in=saved).update(alert=alert)
    return out


def alert_from_screening(
    *, shop: Shop, buyer: User, review: Review | None, messages: Sequence[ScreenedMessage], now: datetime
) -> Alert:
    """Raise an alert for held or blocked messages of one pair, or add them to the pair's alert still
    being worked. Called inside the screening transaction."""
    return alerts_from_screening(
        [
            PairMessages(
                platform_id=shop.platform_id,
                shop_id=shop.pk,
                buyer_id=buyer.pk,
                review_id=review.pk if review is not None else None,
                review_order_id=review.order_id if review is not None else None,
                messages=messages,
            )
        ],
        now=now,
    )[0]


# What a forensic finding is, among the alert categories.
FINDING_CATEGORY = {"code_bombing": "sms_bombing", "call_flood": "call_flood", "late_night": "late_night"}


def alert_from_forensics(*, report: Any, findings: Sequence[dict[str, Any]], now: datetime) -> Alert | None:
    """Raise an alert for a forensic report's findings (the case's pair, order and review), inside the
    analysis's transaction; nothing when there is nothing to report."""
    if not findings:
        return None
    case = report.case
    starts = [datetime.fromisoformat(str(f["start"]).replace("Z", "+00:00")) for f in findings]
    ends = [datetime.fromisoformat(str(f["end"]).replace("Z", "+00:00")) for f in findings]
    kept = [
        {k: f.get(k) for k in ("kind", "start", "end", "total", "senders", "nights", "tier")}
        for f in findings
    ]
    categories = list(dict.fromkeys(FINDING_CATEGORY.get(str(f["kind"]), str(f["kind"])) for f in findings))
    alert = Alert.objects.create(
        reference=untaken(Alert, "reference", lambda: _new_reference(now)),
        source=Source.FORENSICS,
        platform_id=case.platform_id,
        shop_id=case.shop_id,
        buyer_id=case.buyer_id,
        order_id=case.order_id,
        review=Review.objects.filter(order_id=case.order_id).first(),
        case=case,
        status=S.OPEN,
        action="hold",
        categories=categories,
        message_count=0,
        first_at=min(starts),
        last_at=max(ends),
        raised_at=now,
        findings=kept,
        forensic_ref=f"forensic_report:{report.pk}",
    )
    _event(
        alert,
        kind="raised",
        actor=None,
        role="system",
        now=now,
        before="",
        data={"forensic_report": report.pk, "findings": len(kept), "categories": categories},
    )
    return alert


# --- what agents do ------------------------------------------------------------------------------


def _agent_lock(alert_id: int, agent: User) -> Alert:
    if not access.is_agent(agent):
        raise PermissionDenied(_("Only agents can work on alerts."))
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(_("There is no such alert."))
    return alert


def alert_warn_seller(
    *, alert_id: int, agent: User, message: str, now: datetime, expected_version: int | None = None
) -> Alert:
    """Send the shop's sellers a warning about their messages to this buyer (the buyer is not named)."""
    message = text_checked(message, text="agent_note", field="message")
    with transaction.atomic():
        alert = _agent_lock(alert_id, agent)
        _transition(
            alert,
            kind="seller_warned",
            actor=agent,
            role="agent",
            now=now,
            expected_version=expected_version,
            updates={"seller_warned_at": now, "assigned_agent": alert.assigned_agent or agent},
            data={"message": message},
        )
        notify(
            recipients=_sellers(alert.shop_id),
            kind="alert.seller_warned",
            now=now,
            params={
                "alert": alert.reference,
                "order": alert.order.external_id if alert.order else None,
                "categories": alert.categories,
                # For the shop's sellers (in the portal, by email and SMS): an agent who quotes the
                # buyer's name, number or address does not pass them on.
                "message": mask_for_seller(message, alert.buyer),
            },
        )
        return alert


def alert_mute(
    *, alert_id: int, agent: User, reason: str, now: datetime, expected_version: int | None = None
) -> ChatMute:
    """Mute the seller's chat to this buyer: every seller message to them is blocked until lifted."""
    reason = text_checked(reason, text="agent_note", field="reason")
    with transaction.atomic():
        alert = _agent_lock(alert_id, agent)
        if ChatMute.objects.filter(
            shop_id=alert.shop_id, buyer_id=alert.buyer_id, lifted_at__isnull=True
        ).exists():
            raise InvalidTransition(_("The seller's chat to this buyer is already muted."))
        try:
            with transaction.atomic():
                mute = ChatMute.objects.create(
                    shop_id=alert.shop_id,
                    buyer_id=alert.buyer_id,
                    alert=alert,
                    muted_by=agent,
                    muted_at=now,
                    reason=reason,
                )
        except IntegrityError as exc:  # another agent muted the pair at the same moment
            raise InvalidTransition(_("The seller's chat to this buyer is already muted.")) from exc
        _transition(
            alert,
            kind="chat_muted",
            actor=agent,
            role="agent",
            now=now,
            expected_version=expected_version,
            updates={"assigned_agent": alert.assigned_agent or agent},
            data={"mute": mute.pk, "reason": mute.reason},
        )
        notify(
            recipients=_sellers(alert.shop_id),
            kind="alert.chat_muted",
            now=now,
            params={"alert": alert.reference, "order": alert.order.external_id if alert.order else None},
        )
        return mute


def alert_unmute(*, alert_id: int, agent: User, now: datetime) -> ChatMute:
    """Lift the standing mute of the alert's pair (logged on the alert, even a closed one)."""
    with transaction.atomic():
        alert = _agent_lock(alert_id, agent)
        mute = (
            ChatMute.objects.select_for_update()
            .filter(shop_id=alert.shop_id, buyer_id=alert.buyer_id, lifted_at__isnull=True)
            .first()
        )
        if mute is None:
            raise InvalidTransition(_("The seller's chat to this buyer is not muted."))
        mute.lifted_at, mute.lifted_by = now, agent
        mute.save(update_fields=["lifted_at", "lifted_by"])
        alert.version += 1
        alert.save(update_fields=["version"])
        _event(
            alert,
            kind="chat_unmuted",
            actor=agent,
            role="agent",
            now=now,
            before=alert.status,
            data={"mute": mute.pk},
        )
        return mute


def alert_request_consent(
    *, alert_id: int, agent: User, now: datetime, expected_version: int | None = None
) -> Alert:
    """Ask the buyer whether the platform may open a complaint for them."""
    with transaction.atomic():
        alert = _agent_lock(alert_id, agent)
        if alert.order_id is None:
            raise InvalidTransition(_("The alert names no order, so no complaint can be opened from it."))
        _transition(
            alert,
            kind="consent_requested",
            actor=agent,
            role="agent",
            now=now,
            to=S.AWAITING_BUYER,
            expected_version=expected_version,
            updates={"consent_requested_at": now, "assigned_agent": alert.assigned_agent or agent},
        )
        notify(
            recipients=[alert.buyer_id],
            kind="alert.consent_requested",
            now=now,
            params={"alert": alert.reference, "path": f"/protection/{alert.pk}/"},
        )
        return alert


def _narrative(alert: Alert) -> str:
    """The complaint's description, written from the alert (in the buyer's language at the time)."""
    lines = [
        str(
            _(
                "Opened by the platform from alert %(alert)s with my consent. Chat screening held or "
                "blocked %(count)d messages the seller sent me between %(first)s and %(last)s."
            )
            % {
                "alert": alert.reference,
                "count": alert.message_count,
                "first": format_local(alert.first_at),
                "last": format_local(alert.last_at),
            }
        )
    ]
    for message in alert.messages.order_by("sent_at")[:20]:
        lines.append(f"[{format_local(message.sent_at)}] {message.text}")
    return "\n".join(lines)[:4900]


def alert_consent_answer(*, alert_id: int, buyer: User, agree: bool, now: datetime) -> Alert:
    """The buyer agrees (a complaint is opened for them, with the alert's messages) or declines."""
    from reviewshield.cases.services import assisted_link_issue, case_file

    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id, buyer=buyer).first()
        if alert is None:
            raise NotFound(_("There is no such alert."))
        if alert.status != S.AWAITING_BUYER:
            raise InvalidTransition(
                _("Nobody is waiting for your answer on this alert any more.")
                if alert.status != S.OPEN
                else _("You have not been asked about this alert.")
            )
        if not agree:
            return _transition(
                alert,
                kind="consent_declined",
                actor=buyer,
                role="buyer",
                now=now,
                to=S.CLOSED,
                updates={"consent_answered_at": now, "outcome": Outcome.BUYER_DECLINED, "closed_at": now},
            )
        open_case = Case.objects.filter(order_id=alert.order_id, status__in=OPEN_STATUSES).first()
        if open_case is not None:
            case = open_case
        else:
            kinds = list(
                dict.fromkeys(HARASSMENT_FOR.get(c, HarassmentType.OTHER) for c in alert.categories)
            ) or [HarassmentType.OTHER]
            kinds += [HARASSMENT_FOR.get(str(f.get("kind")), HarassmentType.OTHER) for f in alert.findings]
            kinds = list(dict.fromkeys(kinds))
            filing = {
                "buyer": buyer,
                "order_id": alert.order_id,
                "harassment_types": kinds,
                "occurred_at": alert.first_at,
                "narrative": _narrative(alert),
                "now": now,
            }
            try:
                with transaction.atomic():
                    case = case_file(**filing)
            except NotEligible as exc:
                if exc.details.get("reason") != "window_passed":
                    raise
                # Past the buyer's own window: the platform acts for them, as with an agent's
                # assisted filing, on the agent who asked the buyer.
                agent = alert.assigned_agent
                if agent is None:
                    raise
                _link, raw = assisted_link_issue(
                    agent=agent, order_id=alert.order_id, reason=f"alert {alert.reference}", now=now
                )
                case = case_file(**filing, link_token=raw)
        ScreenedMessage.objects.filter(alert=alert).update(order_id=alert.order_id)
        return _transition(
            alert,
            kind="complaint_opened",
            actor=buyer,
            role="buyer",
            now=now,
            to=S.COMPLAINT_FILED,
            updates={
                "consent_answered_at": now,
                "case": case,
                "outcome": Outcome.COMPLAINT,
                "closed_at": now,
            },
            data={"case": case.reference},
        )


def alert_close(
    *, alert_id: int, agent: User, outcome: str, note: str, now: datetime, expected_version: int | None = None
) -> Alert:
    """Close an alert as handled (warned, muted …) or as a false alarm, with a note."""
    if outcome not in (Outcome.HANDLED, Outcome.FALSE_ALARM):
        raise ValidationFailed(details={"outcome": str(_("Choose handled or false alarm."))})
    note = text_checked(
        note,
        text="agent_note",
        field="note",
        required=_("Say why this is a false alarm.") if outcome == Outcome.FALSE_ALARM else None,
    )
    with transaction.atomic():
        alert = _agent_lock(alert_id, agent)
        return _transition(
            alert,
            kind="closed",
            actor=agent,
            role="agent",
            now=now,
            to=S.CLOSED,
            expected_version=expected_version,
            updates={
                "outcome": outcome,
                "note": note,
                "closed_at": now,
                "assigned_agent": alert.assigned_agent or agent,
            },
            data={"outcome": outcome, "note": note},
        )
