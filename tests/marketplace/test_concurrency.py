"""Two pushes of the same new order at the same instant (PostgreSQL: real row locks and unique indexes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from reviewshield.accounts.models import User
from reviewshield.deadlines.models import Deadline
from reviewshield.marketplace import services
from reviewshield.marketplace.models import Order
from tests.conftest import local

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_the_same_new_order_pushed_twice_at_once_is_created_once(cast: Any) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def push() -> None:
        try:
            barrier.wait()
            _order, outcome = services.order_upsert(
                platform="taobao",
                external_id="RACE1",
                shop_external_id="S1",
                buyer_external_id="tb_racer",
                buyer_nickname="racer",
                channel="taobao",
                amount=Decimal("9.90"),
                status="trade_success",
                paid_at=local(2026, 9, 20, 10, 0),
                trade_success_at=local(2026, 9, 25, 10, 0),
                title="Tea",
                now=datetime(2026, 10, 1, tzinfo=UTC),
            )
            outcomes.append(outcome)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=push) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert sorted(outcomes) == ["created", "unchanged"]
    order = Order.objects.get(external_id="RACE1")
    assert User.objects.filter(external_id="taobao:tb_racer").count() == 1
    open_deadlines = Deadline.objects.filter(order=order, done_at__isnull=True)
    assert [d.due_at for d in open_deadlines] == [local(2026, 9, 25, 10, 0) + timedelta(days=15)]
