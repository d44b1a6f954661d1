"""Two agents upholding two complaints against the same shop at the same moment (PostgreSQL, real locks)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from reviewshield.cases import services
from reviewshield.marketplace.models import Shop
from reviewshield.sanctions import services as sanctions
from reviewshield.sanctions.models import LedgerEntry, Penalty, PenaltyState
from tests.conftest import local

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

NOW = local(2026, 11, 12, 9, 0)


def _ready_case(cast, buyer):
    order = cast.order(buyer=buyer, trade_success_at=NOW - timedelta(days=2))
    case = services.case_file(
        buyer=buyer,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=1),
        narrative="Threatening messages at night.",
        now=NOW,
    )
    return services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)


def test_two_decisions_on_one_shop_at_once_leave_a_consistent_ledger(cast):
    first, second = _ready_case(cast, cast.bob), _ready_case(cast, cast.carol)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    decided_at = NOW + timedelta(hours=1)

    def decide(case, agent):
        try:
            barrier.wait()
            services.case_decide(
                case_id=case.pk,
                agent=agent,
                outcome="uphold",
                tier="serious",
                reasons="Proven.",
                now=decided_at,
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(first, cast.erin)),
        threading.Thread(target=decide, args=(second, cast.frank)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    # Both deductions are in the ledger exactly once: 24 points A.
    lines = sorted(LedgerEntry.objects.filter(shop=cast.shop).values_list("case_id", "points"))
    assert lines == sorted([(first.pk, 12), (second.pk, 12)])
    # One A penalty in force; the other node absorbed by it — never two, never none.
    states = sorted(Penalty.objects.filter(shop=cast.shop).values_list("state", flat=True))
    assert states == [PenaltyState.ABSORBED, PenaltyState.IN_FORCE]
    status, _facts = sanctions.shop_status(Shop.objects.get(pk=cast.shop.pk), decided_at)
    assert status.points == {"A": 24, "B": 0} and status.hidden
