"""The cast every test can use: platforms, a shop and its seller, buyers, agents, orders.

alice sells at "Alice's Tea" (taobao); dave sells elsewhere; bob and carol are buyers; erin is an
agent and frank a senior agent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = count(1)


def local(*args: int) -> datetime:
    """An aware instant in Asia/Shanghai: local(2026, 9, 25, 10, 0)."""
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def as_user(user: Any, lang: str = "en") -> Any:
    """A test client logged in as `user`, asking for pages in `lang`."""
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


@dataclass
class Cast:
    taobao: Any
    tmall: Any
    jd: Any
    alice: Any
    dave: Any
    bob: Any
    carol: Any
    erin: Any
    frank: Any
    admin: Any
    shop: Any
    other_shop: Any
    jd_shop: Any

    def order(
        self,
        *,
        buyer: Any = None,
        shop: Any = None,
        channel: str | None = None,
        status: str = "trade_success",
        trade_success_at: datetime | None = None,
        amount: str = "59.00",
    ) -> Any:
        from reviewshield.marketplace.models import Order

        shop = shop or self.shop
        ts = trade_success_at or local(2026, 9, 25, 10, 0)
        return Order.objects.create(
            platform=shop.platform,
            channel=channel or shop.platform_id,
            shop=shop,
            buyer=buyer or self.bob,
            external_id=f"T{next(_seq):08d}",
            title="Oolong tea 250 g",
            amount=Decimal(amount),
            status=status,
            paid_at=ts - timedelta(days=5),
            trade_success_at=ts if status == "trade_success" else None,
        )


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # PBKDF2 at full strength costs ~0.4 s per user; tests check behaviour, not hash strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_reset() -> Any:
    """Each test starts in the site's default language: a request through the test client leaves
    its language active in the thread, and a test must not pass only after another one."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def cast(db: Any) -> Cast:
    return make_cast()


def make_cast() -> Cast:
    """The cast, created in the current database (for fixtures wider than one test)."""
    from reviewshield.accounts.models import Role, User
    from reviewshield.marketplace.models import Platform, Shop

    taobao = Platform.objects.create(code="taobao", name_zh="淘宝", name_en="Taobao")
    tmall = Platform.objects.create(code="tmall", name_zh="天猫", name_en="Tmall")
    jd = Platform.objects.create(code="jd", name_zh="京东", name_en="JD")

    def user(username: str, role: str, **extra: Any) -> Any:
        return User.objects.create_user(username=username, password="pw-" + username, role=role, **extra)

    alice = user("alice", Role.SELLER)
    dave = user("dave", Role.SELLER)
    bob = user(
        "bob", Role.BUYER, real_name="王小明", phone="13800138000", address="上海市浦东新区世纪大道100号"
    )
    carol = user("carol", Role.BUYER, real_name="Carol Lee", phone="13900139000", address="1 Long Road")
    erin = user("erin", Role.AGENT)
    frank = user("frank", Role.SENIOR_AGENT)
    admin = user("root", Role.ADMIN, is_staff=True, is_superuser=True)
    shop = Shop.objects.create(platform=taobao, external_id="S1", name="Alice's Tea")
    shop.sellers.add(alice)
    other_shop = Shop.objects.create(platform=taobao, external_id="S2", name="Dave's Gadgets")
    other_shop.sellers.add(dave)
    jd_shop = Shop.objects.create(platform=jd, external_id="J1", name="Alice JD")
    jd_shop.sellers.add(alice)
    return Cast(taobao, tmall, jd, alice, dave, bob, carol, erin, frank, admin, shop, other_shop, jd_shop)
