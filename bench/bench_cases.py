"""case_lifecycle_per_s: file → answer B → decide, through the services, on SQLite (target ≥ 300).

600 complaints against one shop, one after another, each upheld: the shop's history grows to 600
decisions, each of which brings its points, penalties, compensation and blacklist up to date."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from harness import Figures, figures, setup_django

N = int(__import__("os").environ.get("RS_BENCH_N", "600"))


@figures("case_lifecycle_per_s")
def case_lifecycle() -> Figures:
    setup_django()  # a fresh SQLite file in a temporary data folder
    from django.contrib.auth.hashers import make_password

    from reviewshield.accounts.models import Role, User
    from reviewshield.cases import services
    from reviewshield.marketplace.models import Order, Platform, Shop

    tz = ZoneInfo("Asia/Shanghai")
    ts = datetime(2026, 11, 10, 10, 0, tzinfo=tz)
    now = datetime(2026, 11, 12, 9, 0, tzinfo=tz)
    taobao = Platform.objects.create(code="taobao", name_zh="淘宝", name_en="Taobao")
    pw = make_password("x")
    seller = User.objects.create(username="seller", role=Role.SELLER, password=pw)
    agent = User.objects.create(username="agent", role=Role.AGENT, password=pw)
    buyers = User.objects.bulk_create(
        [User(username=f"b{i}", role=Role.BUYER, password=pw) for i in range(N)]
    )
    shop = Shop.objects.create(platform=taobao, external_id="S1", name="Bench shop")
    shop.sellers.add(seller)
    orders = Order.objects.bulk_create(
        [
            Order(
                platform=taobao,
                channel="taobao",
                shop=shop,
                buyer=b,
                external_id=f"O{i}",
                amount=Decimal("10"),
                status="trade_success",
                paid_at=ts - timedelta(days=3),
                trade_success_at=ts,
            )
            for i, b in enumerate(buyers)
        ]
    )
    # warm the ruleset registry and calendar caches, as a running server would have them
    services.ruleset_for(orders[0], filed_at=now)

    started = time.perf_counter()
    for i, (order, buyer) in enumerate(zip(orders, buyers, strict=True)):
        # Each complaint a second after the one before, as a real clock has them (at one shared
        # instant, 600 decisions would tie on every ordering the sanctions keep).
        at = now + timedelta(seconds=i)
        case = services.case_file(
            buyer=buyer,
            order_id=order.pk,
            harassment_types=["phone_sms_bombing"],
            occurred_at=at - timedelta(hours=2),
            narrative="200 verification codes overnight.",
            now=at,
        )
        services.case_answer(
            case_id=case.pk, seller=seller, kind="defence", text="Not us.", now=at + timedelta(hours=1)
        )
        services.case_decide(
            case_id=case.pk,
            agent=agent,
            outcome="uphold",
            tier="ordinary",
            reasons="SMS bill.",
            now=at + timedelta(hours=2),
        )
    elapsed = time.perf_counter() - started
    return {"case_lifecycle_per_s": (N / elapsed, "lifecycles/s")}
