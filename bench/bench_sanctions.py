"""points_recompute_ms: recompute a shop's ledger and node penalties with 1,000 ledger entries (≤ 20 ms).

The shop has 1,000 upheld taobao-2021 cases (2 points A each: 1,000 deduction lines, a node every
six cases, most of them absorbed by a running penalty) and a few rules exams. Measured: the whole
`sanctions_sync` in its transaction — read the upheld cases and exams, run the pure engine, compare
with the stored ledger and penalties, write what changed — forced to recompute with nothing to
change (`points_recompute_ms`, as a decision's sync runs), and after one more upheld decision. Also
the sync that finds its stored fingerprint of the inputs unchanged and stops after two reads
(`points_sync_unchanged_ms`: an exam, an appeal or a period end that changes nothing), and the
sync of one more upheld decision as `case_decide` runs it, on the append path
(`points_sync_appended_decision_ms`). Also the read the marketplace makes: `/api/shops/{id}/status`'s
computation (`shop_status_ms`).
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from decimal import Decimal

from harness import Figures, figures, setup_django

CASES = 1_000


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


@figures(
    "points_recompute_ms",
    "points_sync_unchanged_ms",
    "points_recompute_after_decision_ms",
    "points_sync_appended_decision_ms",
    "shop_status_ms",
)
def points_recompute() -> Figures:
    setup_django()
    from django.db import transaction
    from django.utils import timezone

    from reviewshield.accounts.models import Role, User
    from reviewshield.cases.models import Case, CaseStatus
    from reviewshield.marketplace.models import Order, Platform, Shop
    from reviewshield.sanctions import services
    from reviewshield.sanctions.models import ExamPass, LedgerEntry

    now = timezone.now()
    platform = Platform.objects.create(code="taobao", name_zh="淘宝", name_en="Taobao")
    agent = User.objects.create(username="agent", role=Role.AGENT)
    buyer = User.objects.create(username="buyer", role=Role.BUYER)
    shop = Shop.objects.create(platform=platform, external_id="S1", name="Shop")
    start = now - timedelta(days=300)

    def make(i: int) -> Case:
        decided = start + timedelta(minutes=i * 400)
        order = Order.objects.create(
            platform=platform,
            channel="taobao",
            shop=shop,
            buyer=buyer,
            external_id=f"O{i}",
            amount=Decimal("10"),
            status="trade_success",
            paid_at=decided - timedelta(days=5),
            trade_success_at=decided - timedelta(days=3),
        )
        return Case(
            reference=f"RSB{i:09d}",
            order=order,
            buyer=buyer,
            shop=shop,
            platform=platform,
            ruleset_id="taobao-2021",
            ruleset_hash="bench",
            status=CaseStatus.UPHELD,
            harassment_types=["threats_insults"],
            occurred_at=decided - timedelta(days=2),
            narrative="Bench.",
            filed_at=decided - timedelta(days=2),
            notified_at=decided - timedelta(days=2),
            respond_by=decided,
            handle_by=decided,
            decide_by=decided,
            tier="ordinary",
            points=2,
            points_class="A",
            money_to_buyer=Decimal("0"),
            decided_at=decided,
            decided_by=agent,
        )

    Case.objects.bulk_create([make(i) for i in range(CASES)])
    for d in range(0, 300, 30):
        ExamPass.objects.create(
            shop=shop, passed_at=start + timedelta(days=d), recorded_by=agent, recorded_at=now
        )
    with transaction.atomic():
        services.sanctions_sync(shop_id=shop.pk, now=now, reason="decision")
    entries = LedgerEntry.objects.filter(shop=shop).count()
    assert entries >= CASES, entries

    def timed(rounds: int, *, recompute: bool) -> list[float]:
        samples = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            with transaction.atomic():
                # recompute: the whole engine run over the shop's history, as after a decision
                # (`inputs_changed`); otherwise the stored fingerprint says nothing has changed.
                result = services.sanctions_sync(
                    shop_id=shop.pk, now=now, reason="decision", inputs_changed=recompute
                )
            samples.append((time.perf_counter() - t0) * 1000)
            assert result.ledger_lines == 0
        return samples

    timed(5, recompute=True)
    steady = timed(60, recompute=True)
    with transaction.atomic():
        services.sanctions_sync(shop_id=shop.pk, now=now, reason="decision")  # stores the fingerprint
    unchanged = timed(60, recompute=False)

    after = []
    for j in range(20):
        extra = make(CASES + j)
        extra.decided_at = now - timedelta(minutes=20 - j)
        extra.save()
        t0 = time.perf_counter()
        with transaction.atomic():
            result = services.sanctions_sync(shop_id=shop.pk, now=now, reason="decision")
        after.append((time.perf_counter() - t0) * 1000)
        assert result.ledger_lines == 1

    # A decision's own sync, as `case_decide` runs it (`upheld_case`): it comes after every other
    # decision of the shop, so only what it adds is computed (the append path; the full recompute
    # is refused here, so a fallback would fail the benchmark rather than pass unseen).
    full = services.shop_facts
    services.shop_facts = None  # type: ignore[assignment]
    appended = []
    try:
        for j in range(20):
            extra = make(CASES + 20 + j)
            extra.decided_at = now - timedelta(seconds=40 - j)
            extra.save()
            t0 = time.perf_counter()
            with transaction.atomic():
                result = services.sanctions_sync(
                    shop_id=shop.pk, now=now, reason="decision", upheld_case=extra.pk
                )
            appended.append((time.perf_counter() - t0) * 1000)
            assert result.ledger_lines == 1
    finally:
        services.shop_facts = full

    reads = []
    for _ in range(40):
        t0 = time.perf_counter()
        services.shop_status(shop, now)
        reads.append((time.perf_counter() - t0) * 1000)
    return {
        "points_recompute_ms": (round(_p95(steady), 2), "ms"),
        "points_sync_unchanged_ms": (round(_p95(unchanged), 2), "ms"),
        "points_recompute_after_decision_ms": (round(_p95(after), 2), "ms"),
        "points_sync_appended_decision_ms": (round(_p95(appended), 2), "ms"),
        "shop_status_ms": (round(_p95(reads), 2), "ms"),
    }
