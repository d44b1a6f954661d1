"""What the evidence tests share: a complaint filed at NOW, inside its window, with no files yet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import local

NOW = local(2026, 11, 12, 10, 0)


@pytest.fixture
def case(cast, time_machine):
    from reviewshield.cases import services

    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=2))
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["items_mailed"],
        occurred_at=NOW - timedelta(hours=5),
        narrative="A wreath arrived.",
        now=NOW,
    )
