"""Reads: the cases a person may see, the agent queue and its counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet

from reviewshield.accounts.models import Role
from reviewshield.cases import access
from reviewshield.cases.models import OPEN_STATUSES, Case, CaseEvidence, CaseStatus, Side
from reviewshield.errors import NotFound
from reviewshield.evidence.models import Blob
from reviewshield.localtime import to_local

AT_RISK_WITHIN = timedelta(hours=24)


def party_list_for_user(
    qs: QuerySet[Any], user: Any, *, status: str | None = None, shop_id: int | None = None
) -> QuerySet[Any]:
    """Of `qs` (cases, extortion reports: rows with a buyer and a shop), what `user` may list: buyers
    their own, sellers their shops', agents all; newest first."""
    if access.is_agent(user):
        pass
    elif user.role == Role.SELLER:
        qs = qs.filter(shop__sellers=user)
    else:
        qs = qs.filter(buyer=user)
    if status:
        qs = qs.filter(status=status)
    if shop_id:
        qs = qs.filter(shop_id=shop_id)
    return qs.order_by("-filed_at", "-id")


def case_list_for_user(user: Any, *, status: str | None = None, shop_id: int | None = None) -> QuerySet[Case]:
    """Buyers see their own cases, sellers their shops', agents all; newest first."""
    qs = Case.objects.select_related("shop", "platform", "order")
    return party_list_for_user(qs, user, status=status, shop_id=shop_id)


def case_get_for_user(user: Any, case_id: int) -> tuple[Case, str]:
    """The case and the side the user stands on; NotFound for outsiders (no hint it exists)."""
    case = (
        Case.objects.select_related("shop", "platform", "order", "buyer", "assigned_agent")
        .filter(pk=case_id)
        .first()
    )
    side = access.case_side_for_user(case, user) if case else None
    if case is None or side is None:
        raise NotFound()
    return case, side


@dataclass(frozen=True)
class QueueFilters:
    platform: str | None = None
    harassment_type: str | None = None
    status: str | None = None
    risk: str | None = None  # "breached" | "at_risk"
    assigned_to: int | None = None


def agent_queue(*, now: datetime, filters: QueueFilters) -> QuerySet[Case]:
    """Open cases by their nearest deadline (the index `case_queue` serves the order)."""
    qs = Case.objects.filter(next_deadline_at__isnull=False).select_related(
        "shop", "platform", "assigned_agent"
    )
    if filters.platform:
        qs = qs.filter(platform_id=filters.platform)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.harassment_type:
        qs = (
            qs.filter(harassment_types__contains=filters.harassment_type)
            if _json_contains_supported()
            else qs.filter(harassment_types__icontains=f'"{filters.harassment_type}"')
        )
    if filters.risk == "breached":
        qs = qs.filter(Q(next_deadline_at__lt=now) | Q(escalated=True))
    elif filters.risk == "at_risk":
        qs = qs.filter(next_deadline_at__gte=now, next_deadline_at__lt=now + AT_RISK_WITHIN)
    if filters.assigned_to:
        qs = qs.filter(assigned_agent_id=filters.assigned_to)
    return qs.order_by("next_deadline_at", "id")


def _json_contains_supported() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def sla_state(case: Case, now: datetime) -> str:
    """ "breached", "at_risk" or "ok" — how the queue marks a case."""
    if case.next_deadline_at is None:
        return "ok"
    if case.escalated or case.next_deadline_at < now:
        return "breached"
    if case.next_deadline_at < now + AT_RISK_WITHIN:
        return "at_risk"
    return "ok"


@dataclass(frozen=True)
class QueueCounters:
    open: int
    due_today: int
    breached: int
    decided_this_week: int


def queue_counters(*, now: datetime) -> QueueCounters:
    local = to_local(now)
    end_of_today = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    week_start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=local.weekday())
    open_qs = Case.objects.filter(status__in=OPEN_STATUSES)
    return QueueCounters(
        open=open_qs.count(),
        due_today=open_qs.filter(next_deadline_at__gte=now, next_deadline_at__lt=end_of_today).count(),
        breached=open_qs.filter(Q(next_deadline_at__lt=now) | Q(escalated=True)).count(),
        decided_this_week=Case.objects.filter(
            status__in=(CaseStatus.UPHELD, CaseStatus.REJECTED), decided_at__gte=week_start
        ).count(),
    )


def evidence_copy_for(item: CaseEvidence, viewer_side: str) -> Blob | None:
    """The stored file a viewer on `viewer_side` may open: the original for its own side and agents,
    the clean copy for the other side, nothing when the kind is for agents only."""
    if viewer_side == Side.AGENT or viewer_side == item.side:
        return item.blob
    return item.clean_blob


def evidence_for_user(user: Any, case_id: int, evidence_id: int) -> tuple[CaseEvidence, Blob]:
    """One evidence item and the file this user may open; NotFound when there is none for them."""
    case, side = case_get_for_user(user, case_id)
    item = CaseEvidence.objects.select_related("blob", "clean_blob").filter(case=case, pk=evidence_id).first()
    blob = evidence_copy_for(item, side) if item else None
    if item is None or blob is None:
        raise NotFound()
    return item, blob
