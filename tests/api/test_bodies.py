"""A body must be what the endpoint declares, and times must be ones that can have happened.

Before: a JSON body of `"please"`, `42`, `[1, 2, 3]` or `false` was read as `{}` by every schema
whose fields all have defaults, and performed the write — it withdrew a complaint, marked every
notification read, marked a compensation paid, recorded an exam pass and assigned a case.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reviewshield.accounts.models import ApiToken, Role, User
from reviewshield.cases import services
from reviewshield.cases.models import Case, CaseStatus
from tests.conftest import local

NOW = local(2026, 11, 12, 9, 0)
NOT_OBJECTS = ['"please"', "42", "[1, 2, 3]", "false", "null"]


@pytest.fixture
def at_now(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def bearer(user: Any, lang: str = "en") -> Client:
    _row, raw = ApiToken.issue(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE=lang)


def system_user() -> Any:
    return User.objects.create_user(username="marketplace", password="pw", role=Role.SYSTEM)


def file_case(cast: Any) -> Case:
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=2),
        narrative="The seller threatened me after my review.",
        now=NOW,
    )


def refused(res: Any) -> None:
    assert res.status_code == 422, res.content[:300]
    body = res.json()
    assert body["code"] == "body_not_object"
    assert body["message"] == "请求正文必须是带字段名的 JSON 对象。"


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_withdraws_nothing(cast, at_now, body):
    case = file_case(cast)
    refused(
        bearer(cast.bob, "zh-hans").post(
            f"/api/cases/{case.pk}/withdraw", body, content_type="application/json"
        )
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE and case.withdrawn_at is None


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_marks_no_notification_read(cast, at_now, body):
    from reviewshield.outbox.models import Notification

    file_case(cast)  # tells Alice
    assert Notification.objects.filter(recipient=cast.alice, read_at__isnull=True).exists()
    refused(
        bearer(cast.alice, "zh-hans").post("/api/notifications/read", body, content_type="application/json")
    )
    assert not Notification.objects.filter(recipient=cast.alice, read_at__isnull=False).exists()


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_assigns_no_case(cast, at_now, body):
    case = file_case(cast)
    refused(
        bearer(cast.erin, "zh-hans").post(
            f"/api/cases/{case.pk}/assign", body, content_type="application/json"
        )
    )
    case.refresh_from_db()
    assert case.assigned_agent_id is None


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_records_no_exam_pass(cast, at_now, body):
    from reviewshield.sanctions.models import ExamPass

    res = bearer(system_user(), "zh-hans").post(
        f"/api/shops/{cast.shop.pk}/exam", body, content_type="application/json"
    )
    refused(res)
    assert not ExamPass.objects.exists()


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_marks_no_compensation_paid(cast, time_machine, body):
    from reviewshield.sanctions.models import Compensation
    from tests.sanctions.conftest import START, decide

    time_machine.move_to(START + timedelta(hours=2), tick=False)
    decide(cast, "serious", START)
    comp = Compensation.objects.get()
    res = bearer(system_user(), "zh-hans").post(
        f"/api/compensations/{comp.pk}/paid", body, content_type="application/json"
    )
    refused(res)
    comp.refresh_from_db()
    assert comp.paid_at is None


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_an_endpoint_without_a_body_refuses_one_that_is_not_an_object(cast, at_now, body):
    from reviewshield.chat.models import ChatPermission

    case = file_case(cast)
    url = f"/api/cases/{case.pk}/chat-permission"
    refused(bearer(cast.bob, "zh-hans").post(url, body, content_type="application/json"))
    assert not ChatPermission.objects.exists()
    # an empty body, or an empty object, is what such an endpoint takes
    assert bearer(cast.bob).post(url, "", content_type="application/json").status_code == 201
    assert bearer(cast.bob).post(url, "{}", content_type="application/json").status_code == 200


def test_an_object_body_still_works(cast, at_now):
    case = file_case(cast)
    res = bearer(cast.bob).post(
        f"/api/cases/{case.pk}/withdraw", {"reason": "settled"}, content_type="application/json"
    )
    assert res.status_code == 200 and res.json()["status"] == "withdrawn"


# --- implausible times -------------------------------------------------------------------------------


def test_harassment_before_the_order_was_paid_is_refused_with_a_reason(cast, at_now):
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))  # paid five days before
    res = bearer(cast.bob, "zh-hans").post(
        "/api/cases",
        {
            "order_id": order.pk,
            "harassment_types": ["threats_insults"],
            "occurred_at": "2026-11-01T10:00:00+08:00",
            "narrative": "Threats.",
        },
        content_type="application/json",
    )
    assert res.status_code == 422
    error = res.json()
    assert error["message"] == "骚扰不可能发生在订单付款（2026-11-05 10:00 (UTC+8)）之前。"
    assert error["details"]["occurred_at"] == error["message"]
    assert not Case.objects.exists()


def test_harassment_before_payment_is_refused_on_the_complaint_form_at_its_field(cast, at_now):
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.bob)
    res = client.post(
        reverse("web:complain", args=[order.pk]),
        {"harassment_types": ["threats_insults"], "occurred_at": "2026-11-01T10:00", "narrative": "Threats."},
    )
    assert res.status_code == 422
    assert res.context["form"].errors["occurred_at"] == [
        "The harassment cannot have happened before the order was paid (2026-11-05 10:00 (UTC+8))."
    ]
    assert not Case.objects.exists()


def order_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "platform": "taobao",
        "order_id": "T1001",
        "shop_id": "S1",
        "buyer_id": "tb_bob",
        "amount": "59.00",
        "status": "trade_success",
        "paid_at": "2026-11-05T10:00:00+08:00",
        "trade_success_at": "2026-11-10T10:00:00+08:00",
    }
    item.update(overrides)
    return item


@pytest.mark.parametrize(
    ("field", "when", "reason"),
    [
        ("paid_at", "1999-12-31T23:59:59+08:00", "平台时间不可能早于 2000 年，请检查日期。"),
        ("paid_at", "1970-01-01T00:00:00Z", "平台时间不可能早于 2000 年，请检查日期。"),
        (
            "trade_success_at",
            "2026-11-13T09:00:01+08:00",
            "该时间比现在（2026-11-12 09:00 (UTC+8)）晚了一天以上，请检查日期和时区。",
        ),
    ],
)
def test_implausible_order_times_are_refused_with_a_reason(cast, at_now, field, when, reason):
    from reviewshield.marketplace.models import Order

    client = bearer(system_user(), "zh-hans")
    res = client.post(
        "/api/marketplace/orders", {"items": [order_item(**{field: when})]}, content_type="application/json"
    )
    assert res.status_code == 200
    (item,) = res.json()["items"]
    assert item["status"] == "rejected"
    assert {"field": field, "reason": reason} in item["errors"]
    assert not Order.objects.filter(external_id="T1001").exists()


def test_a_time_up_to_a_day_ahead_is_taken_as_clock_drift(cast, at_now):
    client = bearer(system_user())
    item = order_item(trade_success_at="2026-11-13T08:59:00+08:00")
    res = client.post("/api/marketplace/orders", {"items": [item]}, content_type="application/json")
    assert res.json()["items"][0]["status"] == "created"


@pytest.mark.parametrize("when", ["1999-06-01T10:00:00+08:00", "2026-11-20T10:00:00+08:00"])
def test_implausible_review_times_are_refused(cast, at_now, when):
    client = bearer(system_user(), "en")
    client.post("/api/marketplace/orders", {"items": [order_item()]}, content_type="application/json")
    review = {"platform": "taobao", "order_id": "T1001", "rating": "bad", "posted_at": when}
    (item,) = client.post(
        "/api/marketplace/reviews", {"items": [review]}, content_type="application/json"
    ).json()["items"]
    assert item["status"] == "rejected" and item["errors"][0]["field"] == "posted_at"


@pytest.mark.parametrize("when", ["1999-06-01T10:00:00+08:00", "2026-11-20T10:00:00+08:00"])
def test_implausible_chat_times_are_refused(cast, at_now, when):
    from reviewshield.chat.models import ChatMessage

    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    client = bearer(system_user(), "en")
    conversation = {
        "platform": "taobao",
        "conversation_id": "C1",
        "shop_id": "S1",
        "buyer_id": "tb_bob",
        "messages": [{"message_id": "m1", "sender": "seller", "sent_at": when, "text": "hello"}],
    }
    res = client.post(
        "/api/chat/messages", json.dumps({"conversations": [conversation]}), content_type="application/json"
    )
    (result,) = res.json()["items"]
    assert result["status"] == "rejected"
    assert result["errors"][0]["field"] == "messages.0.sent_at"
    assert not ChatMessage.objects.exists()
