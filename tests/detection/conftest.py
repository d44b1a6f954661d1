"""What the detection tests share: the chat backend's client, a bad review, screening calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from tests.conftest import local

NOW = local(2026, 11, 12, 15, 0)
SCREEN_URL = "/api/screen/messages"


def item(
    message_id: str,
    text: str,
    *,
    at: datetime = NOW,
    sender: str = "seller",
    buyer: str = "tb_bob",
    shop: str = "S1",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "conversation_id": f"C-{shop}-{buyer}",
        "shop_id": shop,
        "buyer_id": buyer,
        "sender": sender,
        "sent_at": at.isoformat(),
        "text": text,
        **extra,
    }


def screen(client: Client, *items: dict[str, Any], platform: str = "taobao") -> Any:
    return client.post(
        SCREEN_URL, {"platform": platform, "messages": list(items)}, content_type="application/json"
    )


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(url, body or {}, content_type="application/json")


@pytest.fixture
def members(cast: Any) -> Any:
    from reviewshield.accounts.models import User

    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    User.objects.filter(pk=cast.carol.pk).update(external_id="taobao:tb_carol")
    cast.bob.refresh_from_db()
    return cast


@pytest.fixture
def chat_backend(db: Any) -> Client:
    from reviewshield.accounts.models import ApiToken, Role, User

    user = User.objects.create_user(username="taobao-chat", role=Role.SYSTEM)
    _token, raw = ApiToken.issue(user=user, name="chat screening")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def bad_review(members: Any) -> Any:
    """Bob's order at Alice's Tea, reviewed badly two hours before NOW."""
    from reviewshield.marketplace.models import Review

    order = members.order(trade_success_at=NOW - timedelta(days=2))
    return Review.objects.create(
        order=order, rating="bad", text="Stale tea.", posted_at=NOW - timedelta(hours=2)
    )
