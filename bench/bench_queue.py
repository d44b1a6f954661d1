"""agent_queue_p95_ms: the agent queue page with 100,000 open cases on SQLite (target ≤ 150 ms).

The page is requested through Django's full stack (middleware, session, templates) as a logged-in
agent: the default view, and the filters an agent uses most.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta
from decimal import Decimal

from harness import Figures, figures, setup_django

OPEN = 100_000
CLOSED = 20_000
BATCH = 5_000


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


@figures("agent_queue_p95_ms", "agent_queue_filtered_p95_ms")
def agent_queue() -> Figures:
    setup_django()
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from django.utils import timezone

    from reviewshield.accounts.models import Role, User
    from reviewshield.cases.models import Case, CaseStatus, HarassmentType
    from reviewshield.marketplace.models import Order, Platform, Shop

    now = timezone.now()
    rng = random.Random(20261121)
    platforms = [
        Platform.objects.create(code=c, name_zh=z, name_en=e)
        for c, z, e in (("taobao", "淘宝", "Taobao"), ("tmall", "天猫", "Tmall"), ("jd", "京东", "JD"))
    ]
    pw = make_password("x")
    agent = User.objects.create(username="agent", role=Role.AGENT, password=pw)
    buyers = User.objects.bulk_create(
        [User(username=f"b{i}", role=Role.BUYER, password=pw) for i in range(5000)]
    )
    shops = Shop.objects.bulk_create(
        [Shop(platform=platforms[i % 3], external_id=f"S{i}", name=f"Shop {i}") for i in range(300)]
    )
    kinds = list(HarassmentType.values)
    open_states = [CaseStatus.AWAITING_RESPONSE, CaseStatus.SETTLEMENT_PROPOSED, CaseStatus.AWAITING_DECISION]
    total = OPEN + CLOSED
    for start in range(0, total, BATCH):
        orders = []
        cases = []
        for i in range(start, min(start + BATCH, total)):
            shop = shops[i % len(shops)]
            filed = now - timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
            orders.append(
                Order(
                    platform_id=shop.platform_id,
                    channel=shop.platform_id,
                    shop=shop,
                    buyer=buyers[i % len(buyers)],
                    external_id=f"O{i}",
                    amount=Decimal("10"),
                    status="trade_success",
                    paid_at=filed - timedelta(days=5),
                    trade_success_at=filed - timedelta(days=1),
                )
            )
        Order.objects.bulk_create(orders)
        for i, order in enumerate(orders, start):
            is_open = i < OPEN
            filed = order.trade_success_at + timedelta(days=1)
            nxt = now + timedelta(minutes=rng.randrange(-60 * 24 * 2, 60 * 24 * 6))
            cases.append(
                Case(
                    reference=f"RSB{i:09d}",
                    order=order,
                    buyer_id=order.buyer_id,
                    shop_id=order.shop_id,
                    platform_id=order.platform_id,
                    ruleset_id="taobao-2021",
                    ruleset_hash="bench",
                    status=rng.choice(open_states) if is_open else CaseStatus.UPHELD,
                    harassment_types=rng.sample(kinds, rng.randint(1, 2)),
                    occurred_at=filed - timedelta(hours=3),
                    narrative="Bench narrative.",
                    filed_at=filed,
                    notified_at=filed,
                    respond_by=filed + timedelta(hours=72),
                    handle_by=filed + timedelta(days=5),
                    decide_by=filed + timedelta(days=7),
                    next_deadline_at=nxt if is_open else None,
                    escalated=is_open and rng.random() < 0.02,
                    decided_at=None if is_open else filed + timedelta(days=2),
                )
            )
        Case.objects.bulk_create(cases)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(agent)

    def timed(url: str, rounds: int) -> list[float]:
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            res = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert res.status_code == 200, (url, res.status_code)
        return samples

    timed("/agent/", 5)  # warm caches, as a running server would have them
    default = timed("/agent/", 60) + timed("/agent/?page=40", 20)
    filtered = []
    for url in (
        "/agent/?status=awaiting_decision",
        "/agent/?risk=at_risk",
        "/agent/?risk=breached",
        "/agent/?platform=jd&per=100",
        "/agent/?harassment_type=items_mailed",
    ):
        filtered += timed(url, 12)
    return {
        "agent_queue_p95_ms": (_p95(default), "ms"),
        "agent_queue_filtered_p95_ms": (_p95(filtered), "ms"),
    }
