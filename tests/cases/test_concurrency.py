"""Two agents deciding the same case at the same moment, on PostgreSQL with real row locks."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from reviewshield.errors import Conflict, InvalidTransition
from tests.conftest import local

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


def test_two_agents_decide_at_once_one_wins_the_other_gets_a_conflict(cast):
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=1),
        narrative="Threatening messages.",
        now=NOW,
    )
    case = services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    seen = case.version
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def decide(agent, outcome, tier):
        try:
            barrier.wait()
            services.case_decide(
                case_id=case.pk,
                agent=agent,
                outcome=outcome,
                tier=tier,
                reasons="Decided.",
                expected_version=seen,
                now=NOW + timedelta(hours=1),
            )
            results[agent.username] = "won"
        except (Conflict, InvalidTransition) as exc:
            results[agent.username] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(cast.erin, "uphold", "serious")),
        threading.Thread(target=decide, args=(cast.frank, "reject", None)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    outcomes = sorted(type(r).__name__ if not isinstance(r, str) else r for r in results.values())
    assert outcomes == ["Conflict", "won"]
    case.refresh_from_db()
    winner = next(name for name, r in results.items() if r == "won")
    assert case.decided_by.username == winner
    assert case.status == (CaseStatus.UPHELD if winner == "erin" else CaseStatus.REJECTED)
    assert case.events.filter(kind="decided").count() == 1
    assert case.version == seen + 1
