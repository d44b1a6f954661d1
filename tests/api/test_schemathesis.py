"""Schemathesis against the live application: every operation of /api/openapi.json, as the
marketplace's system, a buyer and a seller — no server error, no answer outside the schema, no
request that breaks the schema accepted.

Bounded so it stays a unit test: a fixed number of examples per operation, derandomized (a fixed
seed), no shrinking, no example database; the requests go through the WSGI application in-process.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from reviewshield.wsgi import application
from tests.conftest import local

schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    application,
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": 5, "deterministic": True, "no-shrink": True},
            # The coverage phase (every boundary of every parameter: ~2,500 requests per caller)
            # would take minutes; the boundaries it found (2**64, year 1, a lone surrogate) are
            # tests of their own in test_errors.py and test_bodies.py.
            "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "negative_data_rejection": {"enabled": True},
            },
        }
    ),
)


@pytest.fixture(scope="module")
def tokens(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Bearer tokens of the three callers, and a complaint for their ids to find — made once for
    the module (each test runs in a savepoint inside) and rolled back at its end."""
    from django.db import transaction

    from reviewshield.accounts.models import ApiToken, Role, User
    from reviewshield.cases import services
    from reviewshield.marketplace.models import Order, Platform, Shop

    with django_db_blocker.unblock(), transaction.atomic():
        system = User.objects.create_user(username="marketplace", password="pw", role=Role.SYSTEM)
        seller = User.objects.create_user(username="alice", password="pw", role=Role.SELLER)
        buyer = User.objects.create_user(
            username="bob", password="pw", role=Role.BUYER, real_name="王小明", phone="13800138000"
        )
        taobao = Platform.objects.create(code="taobao", name_zh="淘宝", name_en="Taobao")
        shop = Shop.objects.create(platform=taobao, external_id="S1", name="Alice's Tea")
        shop.sellers.add(seller)
        paid = local(2026, 11, 5, 10, 0)
        order = Order.objects.create(
            platform=taobao,
            channel="taobao",
            shop=shop,
            buyer=buyer,
            external_id="T1",
            title="Oolong tea 250 g",
            amount=Decimal("59.00"),
            status="trade_success",
            paid_at=paid,
            trade_success_at=paid + timedelta(days=5),
        )
        services.case_file(
            buyer=buyer,
            order_id=order.pk,
            harassment_types=["phone_sms_bombing"],
            occurred_at=paid + timedelta(days=6),
            narrative="Two hundred text messages overnight.",
            now=paid + timedelta(days=7),
        )
        yield {
            name: ApiToken.issue(user=user, name="fuzz")[1]
            for name, user in (("system", system), ("buyer", buyer), ("seller", seller))
        }
        transaction.set_rollback(True)


@pytest.fixture
def connection_kept() -> Any:
    """Django closes the database connection at the start and end of each request it serves; the
    test transaction lives on it, so — as Django's own test client does — not between these."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=5,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_request_within_its_schema(
    case: Any, tokens: dict[str, str], db: Any, connection_kept: Any
) -> None:
    # Each generated request is sent by each of the three callers.
    for actor in ("system", "buyer", "seller"):
        case.call_and_validate(headers={"Authorization": f"Bearer {tokens[actor]}"})
