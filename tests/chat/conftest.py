"""What the chat tests share: the marketplace's chat client, pushes, a filed complaint."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from tests.conftest import local

# The moment the tests act in: two days after the order's trade success, inside the complaint window.
NOW = local(2026, 11, 12, 9, 0)
TRADE_SUCCESS = local(2026, 11, 10, 10, 0)
MESSAGES_URL = "/api/chat/messages"
EVIDENCE_URL = "/api/chat/evidence"


def message(
    message_id: str, at: datetime, text: str = "", sender: str = "seller", **extra: Any
) -> dict[str, Any]:
    return {"message_id": message_id, "sender": sender, "sent_at": at.isoformat(), "text": text, **extra}


def conversation(
    conversation_id: str = "C1",
    *,
    messages: list[dict[str, Any]],
    shop_id: str = "S1",
    buyer_id: str = "tb_bob",
    platform: str = "taobao",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "platform": platform,
        "conversation_id": conversation_id,
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "messages": messages,
        **extra,
    }


def push(client: Client, *conversations: dict[str, Any]) -> Any:
    return client.post(MESSAGES_URL, {"conversations": list(conversations)}, content_type="application/json")


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


def as_user(user: Any, lang: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=lang)
    client.force_login(user)
    return client


@pytest.fixture
def members(cast: Any) -> Any:
    """Bob and Carol as the marketplace knows them (member ids are namespaced by platform)."""
    from reviewshield.accounts.models import User

    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    User.objects.filter(pk=cast.carol.pk).update(external_id="taobao:tb_carol")
    return cast


@pytest.fixture
def system(db: Any) -> Client:
    from reviewshield.accounts.models import ApiToken, Role, User

    user = User.objects.create_user(username="taobao-chat", role=Role.SYSTEM)
    _token, raw = ApiToken.issue(user=user, name="chat")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def at_now(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def file_case(cast: Any, *, buyer: Any = None, shop: Any = None) -> Any:
    """A complaint by `buyer` (Bob) against `shop` (Alice's Tea), filed at NOW."""
    from reviewshield.cases import services

    order = cast.order(buyer=buyer or cast.bob, shop=shop or cast.shop, trade_success_at=TRADE_SUCCESS)
    return services.case_file(
        buyer=buyer or cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=2),
        narrative="The seller threatened me in the chat after my review.",
        now=NOW,
    )
