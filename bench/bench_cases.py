"""case_lifecycle_per_s: file → answer B → decide, through the services, on SQLite (target ≥ 300).

600 complaints against one shop, one after another, each upheld: the shop's history grows to 600
decisions, each of which brings its points, penalties, compensation and blacklist up to date.

Two figures read the main one against what it is made of, so that a change of speed can be told
from a change of machine:

- `case_lifecycle_sanctions_share` — the part of the lifecycles' time spent in the decision's
  sanctions sync (points, node penalties, compensation, blacklist, in the decision's transaction).
- `case_lifecycle_sql_floor_per_s` — the same 600 lifecycles' statements, recorded as the services
  ran them and replayed on a copy of the database as it was before the first, by the driver alone
  (prepared statements, the same PRAGMAs, the same commits): the lifecycles a second SQLite itself
  allows on this machine, with no application code at all.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from harness import Figures, figures, setup_django

N = int(os.environ.get("RS_BENCH_N", "600"))
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 12, 9, 0, tzinfo=TZ)


def _setup() -> tuple[Any, Any, list[Any], list[Any]]:
    """A fresh database with one Taobao shop, its seller, an agent, and N buyers each with an order
    in trade success; returns (seller, agent, orders, buyers)."""
    setup_django()  # a fresh SQLite file in a temporary data folder
    from django.contrib.auth.hashers import make_password

    from reviewshield.accounts.models import Role, User
    from reviewshield.cases import services
    from reviewshield.marketplace.models import Order, Platform, Shop

    ts = datetime(2026, 11, 10, 10, 0, tzinfo=TZ)
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
    services.ruleset_for(orders[0], filed_at=NOW)
    return seller, agent, orders, buyers


def _lifecycles(seller: Any, agent: Any, orders: list[Any], buyers: list[Any]) -> None:
    from reviewshield.cases import services

    for i, (order, buyer) in enumerate(zip(orders, buyers, strict=True)):
        # Each complaint a second after the one before, as a real clock has them (at one shared
        # instant, 600 decisions would tie on every ordering the sanctions keep).
        at = NOW + timedelta(seconds=i)
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


@figures("case_lifecycle_per_s", "case_lifecycle_sanctions_share")
def case_lifecycle() -> Figures:
    seller, agent, orders, buyers = _setup()
    from reviewshield.cases import services

    # The decision's sanctions sync, timed where the decision calls it (two clock reads a decision).
    sync, in_sync = services.sanctions_sync, [0.0]

    def timed_sync(**kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return sync(**kwargs)
        finally:
            in_sync[0] += time.perf_counter() - began

    services.sanctions_sync = timed_sync  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        _lifecycles(seller, agent, orders, buyers)
        elapsed = time.perf_counter() - started
    finally:
        services.sanctions_sync = sync  # type: ignore[assignment]
    return {
        "case_lifecycle_per_s": (N / elapsed, "lifecycles/s"),
        "case_lifecycle_sanctions_share": (round(in_sync[0] / elapsed, 2), "of the time"),
    }


class _Recorded:
    """What the lifecycles sent to SQLite: (sql, params or rows, executemany?) in order, with the
    transactions' BEGIN and COMMIT."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any, bool]] = []
        self.on = False
        self._classes: dict[type, type] = {}

    def cursor_class(self, base: type) -> type:
        if base not in self._classes:
            self._classes[base] = self._recording(base)
        return self._classes[base]

    def _recording(self, base: type) -> type:
        recorded = self

        # Below Django's cursor wrapper (which rewrites its placeholders first), above the driver's.
        class Driver(sqlite3.Cursor):
            def execute(self, sql: str, params: Any = ()) -> Any:
                if recorded.on:
                    recorded.statements.append((sql, _plain(params), False))
                return super().execute(sql, params)

            def executemany(self, sql: str, seq: Any) -> Any:
                seq = list(seq)
                if recorded.on:
                    recorded.statements.append((sql, [_plain(p) for p in seq], True))
                return super().executemany(sql, seq)

        if base is sqlite3.Cursor:
            return Driver
        return type("Recording", (base, Driver), {})

    def connection_class(self) -> type:
        recorded = self

        class Connection(sqlite3.Connection):
            def cursor(self, factory: type = sqlite3.Cursor) -> Any:  # type: ignore[override]
                return super().cursor(recorded.cursor_class(factory))

            def commit(self) -> None:
                if recorded.on:
                    recorded.statements.append(("COMMIT", (), False))
                super().commit()

        return Connection


def _plain(params: Any) -> Any:
    """Parameters as the driver gets them, in plain types (enums and memoryviews copied out)."""
    if isinstance(params, dict):
        return dict(params)
    out = []
    for p in params:
        if isinstance(p, memoryview):
            p = bytes(p)
        elif isinstance(p, str) and type(p) is not str:
            p = str(p)
        elif isinstance(p, int) and not isinstance(p, bool) and type(p) is not int:
            p = int(p)
        out.append(p)
    return tuple(out)


@figures("case_lifecycle_sql_floor_per_s")
def case_lifecycle_sql_floor() -> Figures:
    seller, agent, orders, buyers = _setup()
    from django.db import connection

    recorded = _Recorded()
    settings_dict = connection.settings_dict
    snapshot = os.path.join(tempfile.mkdtemp(prefix="rs-bench-floor-"), "before.sqlite3")
    connection.ensure_connection()
    connection.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(settings_dict["NAME"], snapshot)
    connection.close()
    # Django passes OPTIONS to the driver's connect: the next connection records what it is sent.
    settings_dict["OPTIONS"]["factory"] = recorded.connection_class()
    recorded.on = True
    _lifecycles(seller, agent, orders, buyers)
    recorded.on = False
    connection.close()

    replay = sqlite3.connect(snapshot, isolation_level=None, cached_statements=512)
    replay.executescript(settings_dict["OPTIONS"]["init_command"])
    sqlite3.register_adapter(Decimal, str)  # as Django's SQLite backend has them sent
    cursor = replay.cursor()
    started = time.perf_counter()
    for sql, params, many in recorded.statements:
        if many:
            cursor.executemany(sql, params)
        else:
            cursor.execute(sql, params)
            cursor.fetchall()
    elapsed = time.perf_counter() - started
    replay.close()
    commits = sum(1 for sql, _, _ in recorded.statements if sql == "COMMIT")
    assert commits == 3 * N, f"expected three transactions a lifecycle, recorded {commits}"
    return {"case_lifecycle_sql_floor_per_s": (N / elapsed, "lifecycles/s")}
