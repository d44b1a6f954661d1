"""Appeals: who may appeal and when, who decides, and what an overturn undoes — in one transaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from reviewshield.cases.models import CaseStatus
from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.errors import (
    Conflict,
    DeadlinePassed,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.marketplace.models import Shop
from reviewshield.outbox.models import Notification
from reviewshield.sanctions import appeals, services
from reviewshield.sanctions.models import AppealStatus, Compensation, LedgerEntry, Penalty, PenaltyState
from tests.conftest import local
from tests.samples import statement
from tests.sanctions.conftest import START, decide, hooks


def run_due(now):
    while deadlines_run_once(worker="test", now=now, limit=50, lease=timedelta(minutes=1)):
        pass


def tally(shop, now):
    s, _f = services.shop_status(Shop.objects.get(pk=shop.pk), now)
    return s


def test_seller_appeals_and_an_overturn_undoes_points_penalty_and_compensation(cast, endpoint):
    case = decide(cast, "serious", START)
    appeal = appeals.appeal_file(
        case_id=case.pk,
        user=cast.alice,
        reasons="The calls were from the courier.",
        now=START + timedelta(days=1),
        files=[statement("We have the courier's call log.")],
    )
    assert appeal.status == AppealStatus.PENDING and appeal.side == "seller"
    assert case.evidence.filter(side="seller").count() == 1
    assert case.events.filter(kind="appeal_filed").count() == 1
    # the first decision's agent may not decide it; a senior agent who did not decide may
    with pytest.raises(PermissionDenied):
        appeals.appeal_decide(
            appeal_id=appeal.pk, senior=cast.erin, outcome="overturned", reasons="x", now=START
        )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="overturned",
        reasons="The call log shows the courier called.",
        now=START + timedelta(days=2),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED and case.points is None
    # the ledger keeps both lines: +12 from the decision, −12 from the appeal
    lines = list(
        LedgerEntry.objects.filter(shop=cast.shop).order_by("id").values_list("points", "reason", "appeal_id")
    )
    assert lines == [(12, "decision", None), (-12, "appeal", appeal.pk)]
    penalty = Penalty.objects.get(shop=cast.shop)
    assert penalty.state == PenaltyState.REVERSED
    s = tally(cast.shop, START + timedelta(days=2))
    assert not s.hidden and s.points == {"A": 0, "B": 0}
    comp = Compensation.objects.get(case=case)
    assert comp.status == "reversed"
    assert [h["penalty"]["state"] for h in hooks("sanction.lifted")] == ["reversed"]
    (decided,) = hooks("appeal.decided")
    assert decided["appeal_outcome"] == "overturned" and decided["outcome"] == "rejected"
    assert case.events.filter(kind="appeal_decided").count() == 1


def test_buyer_appeals_a_rejection_and_it_is_upheld_on_appeal(cast, endpoint):
    case = decide(cast, None, START, outcome="reject")
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.bob, reasons="Here is the carrier bill.", now=START + timedelta(days=3)
    )
    with pytest.raises(ValidationFailed):  # overturning a rejection needs the tier
        appeals.appeal_decide(
            appeal_id=appeal.pk,
            senior=cast.frank,
            outcome="overturned",
            reasons="Bill.",
            now=START + timedelta(days=4),
        )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="overturned",
        new_tier="serious",
        reasons="The bill proves 200 SMS.",
        now=START + timedelta(days=4),
    )
    case.refresh_from_db()
    assert (case.status, case.points, case.money_to_buyer) == (CaseStatus.UPHELD, 12, Decimal("300"))
    assert Penalty.objects.get(shop=cast.shop).state == PenaltyState.IN_FORCE
    assert Compensation.objects.get(case=case).status == "due"
    assert len(hooks("sanction.applied")) == 1 and len(hooks("compensation.due")) == 1


def test_tier_change_recomputes_and_an_overturn_that_keeps_a_sanction(cast, endpoint):
    # Two upheld cases: 12 + 12 points A. The first made the A penalty, the second was absorbed.
    first = decide(cast, "serious", START)
    second = decide(cast, "serious", START + timedelta(days=2), buyer=cast.carol)
    # Lowering the second to ordinary (2 points) keeps the running penalty: it came from the first.
    appeal = appeals.appeal_file(
        case_id=second.pk, user=cast.alice, reasons="Only one SMS.", now=START + timedelta(days=3)
    )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="tier_changed",
        new_tier="ordinary",
        reasons="One message, not a campaign.",
        now=START + timedelta(days=4),
    )
    s = tally(cast.shop, START + timedelta(days=4))
    assert s.points == {"A": 14, "B": 0} and s.hidden
    assert hooks("sanction.lifted") == []
    # Overturning the first instead lifts its penalty: 2 points reach no node.
    appeal = appeals.appeal_file(
        case_id=first.pk, user=cast.alice, reasons="Wrong shop.", now=START + timedelta(days=5)
    )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="overturned",
        reasons="It was another shop.",
        now=START + timedelta(days=6),
    )
    s = tally(cast.shop, START + timedelta(days=6))
    assert s.points == {"A": 2, "B": 0} and not s.hidden
    assert len(hooks("sanction.lifted")) == 1


def test_the_decision_stands(cast, endpoint):
    case = decide(cast, "serious", START)
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.alice, reasons="Unfair.", now=START + timedelta(days=1)
    )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="stands",
        reasons="The evidence holds.",
        now=START + timedelta(days=2),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.UPHELD and case.points == 12
    assert LedgerEntry.objects.count() == 1
    with pytest.raises(InvalidTransition):
        appeals.appeal_decide(
            appeal_id=appeal.pk,
            senior=cast.frank,
            outcome="overturned",
            reasons="x",
            now=START + timedelta(days=3),
        )
    with pytest.raises(InvalidTransition):  # one appeal per side
        appeals.appeal_file(case_id=case.pk, user=cast.alice, reasons="Again.", now=START + timedelta(days=3))


def test_window_and_sides(cast, endpoint):
    case = decide(cast, "serious", START)
    with pytest.raises(DeadlinePassed) as exc:  # taobao-2021: 15 days after the decision
        appeals.appeal_file(case_id=case.pk, user=cast.alice, reasons="Late.", now=START + timedelta(days=15))
    assert "2026" in str(exc.value.message)
    with pytest.raises(ValidationFailed):
        appeals.appeal_file(case_id=case.pk, user=cast.alice, reasons="  ", now=START + timedelta(days=1))
    rejected = decide(cast, None, START, outcome="reject", buyer=cast.carol)
    with pytest.raises(InvalidTransition):  # nothing for the seller to appeal
        appeals.appeal_file(case_id=rejected.pk, user=cast.alice, reasons="?", now=START + timedelta(days=1))
    with pytest.raises(Exception) as outsider:
        appeals.appeal_file(case_id=case.pk, user=cast.dave, reasons="?", now=START + timedelta(days=1))
    assert type(outsider.value).__name__ == "NotFound"
    # both sides may appeal the same decision, one after the other is decided
    a = appeals.appeal_file(
        case_id=case.pk, user=cast.bob, reasons="Should be more serious.", now=START + timedelta(days=1)
    )
    with pytest.raises(Conflict):
        appeals.appeal_file(
            case_id=case.pk, user=cast.alice, reasons="Should be nothing.", now=START + timedelta(days=1)
        )
    assert a.status == AppealStatus.PENDING


def test_stale_appeal_alerts_senior_agents_once(cast, endpoint):
    case = decide(cast, "serious", local(2026, 11, 2, 10, 0))
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.alice, reasons="Unfair.", now=local(2026, 11, 3, 10, 0)
    )
    # filed Tue 3 Nov: 5 working days → ends 24:00 Tue 10 Nov
    assert appeal.decide_by == local(2026, 11, 11, 0, 0)
    run_due(local(2026, 11, 11, 0, 1))
    appeal.refresh_from_db()
    assert appeal.stale_alerted_at == local(2026, 11, 11, 0, 1)
    assert Notification.objects.filter(recipient=cast.frank, kind="appeal.stale").count() == 1
    assert case.events.filter(kind="appeal_stale").count() == 1


def test_a_failed_overturn_leaves_nothing_half_done(cast, endpoint, monkeypatch):
    case = decide(cast, "serious", START)
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.alice, reasons="Unfair.", now=START + timedelta(days=1)
    )

    def boom(**kwargs):
        raise RuntimeError("webhook outbox unavailable")

    monkeypatch.setattr(appeals, "case_decided_announce", lambda *a, **k: boom())
    with pytest.raises(RuntimeError):
        appeals.appeal_decide(
            appeal_id=appeal.pk,
            senior=cast.frank,
            outcome="overturned",
            reasons="x",
            now=START + timedelta(days=2),
        )
    case.refresh_from_db()
    appeal.refresh_from_db()
    assert case.status == CaseStatus.UPHELD and appeal.status == AppealStatus.PENDING
    assert LedgerEntry.objects.count() == 1 and Penalty.objects.get().state == PenaltyState.IN_FORCE
    assert Compensation.objects.get().status == "due"
