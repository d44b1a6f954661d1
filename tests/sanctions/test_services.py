"""A decision costs the shop: ledger lines, node penalties, compensation, webhooks — in one transaction."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.deadlines.models import Deadline
from reviewshield.errors import PermissionDenied, ValidationFailed
from reviewshield.marketplace.models import Shop
from reviewshield.sanctions import handlers, services
from reviewshield.sanctions.models import (
    Compensation,
    Flag,
    LedgerEntry,
    Penalty,
    PenaltyState,
    ShopEvent,
    YearEnd,
)
from tests.conftest import local
from tests.sanctions.conftest import START, decide, hooks


def run_due(now):
    while deadlines_run_once(worker="test", now=now, limit=50, lease=timedelta(minutes=1)):
        pass


def status(shop, now):
    s, _facts = services.shop_status(Shop.objects.get(pk=shop.pk), now)
    return s


def test_upheld_decision_deducts_points_applies_the_node_and_orders_compensation(cast, endpoint):
    case = decide(cast, "serious", START)  # taobao-2021 serious: 12 points A, 300 yuan
    (line,) = LedgerEntry.objects.filter(shop=cast.shop)
    assert (line.kind, line.points_class, line.points, line.year, line.case_id) == (
        "deduction",
        "A",
        12,
        2026,
        case.pk,
    )
    (penalty,) = Penalty.objects.filter(shop=cast.shop)
    assert (penalty.node, penalty.state, penalty.case_id) == ("Aevery12", PenaltyState.IN_FORCE, case.pk)
    assert penalty.ends_at == START + timedelta(days=7)
    assert Deadline.objects.filter(kind=services.PERIOD_ENDS, due_at=penalty.ends_at).count() == 1
    comp = Compensation.objects.get(case=case)
    assert (comp.amount, comp.status, comp.buyer) == (Decimal("300.00"), "due", cast.bob)
    now = status(cast.shop, START + timedelta(hours=1))
    assert now.hidden and not now.may_list and now.public_warning and now.may_message and not now.closed
    assert now.until == START + timedelta(days=7) and now.points == {"A": 12, "B": 0}
    # the marketplace hears of all of it
    assert [h["case"] for h in hooks("case.decided")] == [case.reference]
    (applied,) = hooks("sanction.applied")
    assert applied["penalty"]["node"] == "Aevery12" and applied["shop"]["external_id"] == "S1"
    (due,) = hooks("compensation.due")
    assert (
        due["compensation"]["amount"] == "300.00" and due["compensation"]["order"] == case.order.external_id
    )
    kinds = sorted(ShopEvent.objects.filter(shop=cast.shop).values_list("kind", flat=True))
    # a serious tier will list the shop on the blacklist once the 15-day appeal window has passed
    assert kinds == ["blacklist_listed", "compensation_due", "ledger_changed", "sanction_applied"]


def test_the_penalty_waits_for_the_exam_and_lifts_when_it_is_passed(cast, endpoint):
    decide(cast, "serious", START)
    end = START + timedelta(days=7)
    run_due(end + timedelta(seconds=1))
    penalty = Penalty.objects.get(shop=cast.shop)
    assert penalty.state == PenaltyState.AWAITING_EXAM  # the period is over, no exam yet
    later = status(cast.shop, end + timedelta(days=2))
    assert later.hidden and later.awaiting_exam
    assert hooks("sanction.lifted") == []
    services.exam_record(
        shop_id=cast.shop.pk, user=cast.erin, passed_at=end + timedelta(days=3), now=end + timedelta(days=3)
    )
    penalty.refresh_from_db()
    assert penalty.state == PenaltyState.LIFTED and penalty.ended_at == end + timedelta(days=3)
    assert not status(cast.shop, end + timedelta(days=3)).hidden
    (lifted,) = hooks("sanction.lifted")
    assert lifted["penalty"]["state"] == "lifted"


def test_an_exam_passed_during_the_period_lifts_it_when_the_period_ends(cast, endpoint):
    decide(cast, "serious", START)
    services.exam_record(
        shop_id=cast.shop.pk,
        user=cast.erin,
        passed_at=START + timedelta(days=1),
        now=START + timedelta(days=1),
    )
    assert Penalty.objects.get(shop=cast.shop).state == PenaltyState.IN_FORCE  # still its 7 days
    run_due(START + timedelta(days=7, seconds=1))
    assert Penalty.objects.get(shop=cast.shop).state == PenaltyState.LIFTED
    assert len(hooks("sanction.lifted")) == 1


def test_exam_is_recorded_only_by_agents_or_the_marketplace_and_not_in_the_future(cast):
    with pytest.raises(PermissionDenied):
        services.exam_record(shop_id=cast.shop.pk, user=cast.alice, passed_at=START, now=START)
    with pytest.raises(ValidationFailed):
        services.exam_record(
            shop_id=cast.shop.pk, user=cast.erin, passed_at=START + timedelta(days=1), now=START
        )


def test_a_rejection_costs_nothing_but_is_announced(cast, endpoint):
    case = decide(cast, None, START, outcome="reject")
    assert (
        not LedgerEntry.objects.exists()
        and not Penalty.objects.exists()
        and not Compensation.objects.exists()
    )
    (decided,) = hooks("case.decided")
    assert decided["case"] == case.reference and decided["outcome"] == "rejected"


def test_a_second_twelve_while_the_a_penalty_runs_is_absorbed(cast, endpoint):
    decide(cast, "serious", START)
    decide(cast, "serious", START + timedelta(days=2), buyer=cast.carol)
    states = dict(Penalty.objects.filter(shop=cast.shop).values_list("node", "state").order_by("started_at"))
    rows = list(
        Penalty.objects.filter(shop=cast.shop).order_by("started_at").values_list("state", "absorbed_by")
    )
    assert rows[0][0] == PenaltyState.IN_FORCE and rows[1][0] == PenaltyState.ABSORBED and rows[1][1]
    assert states  # both recorded, the second one visibly absorbed
    assert status(cast.shop, START + timedelta(days=3)).points == {"A": 24, "B": 0}
    assert len(hooks("sanction.applied")) == 1


def test_especially_serious_seals_the_account_and_the_year_end_keeps_it(cast, endpoint):
    decide(cast, "especially_serious", local(2026, 6, 1, 10, 0))  # 48 points B
    decide(cast, "serious", local(2026, 6, 10, 10, 0), buyer=cast.carol)  # 12 points A
    s = status(cast.shop, local(2026, 12, 31, 23, 0))
    assert s.sealed and s.indefinite and s.points == {"A": 12, "B": 48}
    # The worker's first pass after 24:00 on 31 December local.
    after = local(2027, 1, 1, 0, 0, 30)
    assert handlers.year_end_tick(after) == 1
    (carry,) = LedgerEntry.objects.filter(shop=cast.shop, kind="carry")
    assert (carry.year, carry.points_class, carry.points, carry.reason) == (2027, "B", 48, "year_end")
    s = status(cast.shop, after)
    assert s.sealed and s.points == {"A": 0, "B": 48}
    event = ShopEvent.objects.get(shop=cast.shop, kind="year_end_reset")
    assert event.data == {"year": 2026, "a_cleared": 12, "b_closing": 48, "b_kept": 48}
    assert YearEnd.objects.get(year=2026).done_at == after
    # a second worker, or the same one a minute later, changes nothing
    assert handlers.year_end_tick(after + timedelta(minutes=1)) == 0
    assert LedgerEntry.objects.filter(kind="carry").count() == 1
    # The history stays: 2026's lines are still there.
    assert services.points_by_year(cast.shop.pk)[2026] == {"A": 12, "B": 48}


def test_year_end_clears_b_below_48(cast, endpoint):
    decide(cast, "serious", local(2026, 12, 20, 10, 0))
    handlers.year_end_tick(local(2027, 1, 1, 0, 1))
    assert not LedgerEntry.objects.filter(kind="carry").exists()
    assert status(cast.shop, local(2027, 1, 2, 0, 0)).points == {"A": 0, "B": 0}
    # the penalty of 20 December still runs its 7 days into the new year
    assert status(cast.shop, local(2027, 1, 2, 0, 0)).hidden


@pytest.fixture
def tmall_shop(cast):
    shop = Shop.objects.create(platform=cast.tmall, external_id="TM1", name="Alice Tmall")
    shop.sellers.add(cast.alice)
    return shop


def test_third_tmall_case_in_a_year_adds_twelve_points(cast, endpoint, tmall_shop):
    for i, buyer in enumerate([cast.bob, cast.carol, cast.bob]):
        decide(cast, "ordinary", local(2026, 4, 1 + 5 * i, 10, 0), shop=tmall_shop, buyer=buyer)
    lines = list(LedgerEntry.objects.filter(shop=tmall_shop).values_list("kind", "points_class", "points"))
    assert lines == [("extra", "A", 12)]
    assert Compensation.objects.filter(shop=tmall_shop, amount=Decimal("1000")).count() == 3
    assert status(tmall_shop, local(2026, 4, 12, 0, 0)).hidden


def test_jd_hundred_points_raise_a_flag_for_a_person(cast, endpoint):
    for i in range(3):
        decide(
            cast,
            "serious",
            local(2026, 4, 1 + 5 * i, 10, 0),
            shop=cast.jd_shop,
            buyer=[cast.bob, cast.carol][i % 2],
        )
    (flag,) = Flag.objects.filter(shop=cast.jd_shop)
    assert (flag.kind, flag.year, flag.points, flag.withdrawn_at) == ("contract_end", 2026, 144, None)
    assert ShopEvent.objects.filter(shop=cast.jd_shop, kind="flag_raised").count() == 1


def test_a_flag_no_longer_given_is_withdrawn_and_one_given_again_is_raised_again(cast, endpoint):
    for i in range(3):
        decide(
            cast,
            "serious",
            local(2026, 4, 1 + 5 * i, 10, 0),
            shop=cast.jd_shop,
            buyer=[cast.bob, cast.carol][i % 2],
        )
    # given: a flag the points no longer give, and the one they give withdrawn
    stale = Flag.objects.create(
        shop=cast.jd_shop,
        key="contract_end:2025",
        kind="contract_end",
        year=2025,
        points=100,
        raised_at=START,
    )
    Flag.objects.filter(shop=cast.jd_shop, key="contract_end:2026").update(withdrawn_at=START, points=1)
    now = local(2026, 5, 1, 10, 0)
    # when
    with transaction.atomic():
        services.sanctions_sync(shop_id=cast.jd_shop.pk, now=now, reason="decision", inputs_changed=True)
    # then
    stale.refresh_from_db()
    assert stale.withdrawn_at == now
    flag = Flag.objects.get(shop=cast.jd_shop, key="contract_end:2026")
    assert (flag.withdrawn_at, flag.points) == (None, 144)
    kinds = list(
        ShopEvent.objects.filter(shop=cast.jd_shop, at=now).order_by("pk").values_list("kind", "data")
    )
    assert kinds == [
        ("flag_withdrawn", {"flag": "contract_end:2025"}),
        ("flag_raised", {"flag": "contract_end:2026"}),
    ]


def test_shop_facts_come_in_order_of_decision_whatever_the_order_of_filing(cast, endpoint):
    # given: three cases filed one after another, decided in another order (two at the same moment)
    cases = [decide(cast, "ordinary", local(2026, 4, day, 10, 0)) for day in (20, 10, 10)]
    # when
    facts = services.shop_facts(cast.shop, local(2026, 5, 1, 10, 0))
    # then: by decision time, then by id
    expected = [cases[1].pk, cases[2].pk, cases[0].pk]
    assert [d.case_id for d in facts.decisions] == expected
    assert list(facts.upheld) == expected


def test_compensation_is_marked_paid_once(cast, endpoint):
    case = decide(cast, "serious", START)
    comp = Compensation.objects.get(case=case)
    services.compensation_mark_paid(
        compensation_id=comp.pk, user=cast.erin, now=START + timedelta(days=1), payment_reference="PAY-1"
    )
    comp.refresh_from_db()
    assert (comp.status, comp.payment_reference) == ("paid", "PAY-1")
    with pytest.raises(ValidationFailed):
        services.compensation_mark_paid(
            compensation_id=comp.pk, user=cast.erin, now=START + timedelta(days=2)
        )
    with pytest.raises(PermissionDenied):
        services.compensation_mark_paid(compensation_id=comp.pk, user=cast.alice, now=START)


def test_sync_twice_changes_nothing(cast, endpoint):
    decide(cast, "serious", START)
    from django.db import transaction

    before = (LedgerEntry.objects.count(), ShopEvent.objects.count(), len(hooks()))
    with transaction.atomic():
        result = services.sanctions_sync(
            shop_id=cast.shop.pk, now=START + timedelta(hours=1), reason="decision"
        )
    assert (result.ledger_lines, result.applied, result.lifted) == (0, [], [])
    assert (LedgerEntry.objects.count(), ShopEvent.objects.count(), len(hooks())) == before


def test_no_buyer_data_in_webhooks_or_shop_events(cast, endpoint):
    decide(cast, "serious", START)
    text = json.dumps(hooks(), ensure_ascii=False) + json.dumps(
        list(ShopEvent.objects.values_list("data", flat=True)), ensure_ascii=False
    )
    for secret in ("王小明", "13800138000", "世纪大道", "bob"):
        assert secret not in text
