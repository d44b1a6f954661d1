"""No server error, and every /api/ error in the JSON envelope in the caller's language.

Each of these answered 500, an HTML page or an English-only text before: integers beyond 64 bits,
dates that overflow on their way to UTC, a lone surrogate, an unknown address, a method an
address does not take, a failed CSRF check, too large a body, multipart without a boundary, and a
crash inside an operation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from reviewshield.accounts.models import ApiToken, Role, User
from tests.conftest import local

BIG = 2**64  # one past what SQLite and PostgreSQL can bind
NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def at_now(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def bearer(user: Any, lang: str = "en") -> Client:
    _row, raw = ApiToken.issue(user=user, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE=lang)


def system_user() -> Any:
    return User.objects.create_user(username="marketplace", password="pw", role=Role.SYSTEM)


def envelope(res: Any) -> dict[str, Any]:
    assert res["Content-Type"].startswith("application/json"), (res.status_code, res.content[:200])
    body = res.json()
    assert set(body) == {"code", "message", "details"}, body
    return body


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- integers beyond 64 bits --------------------------------------------------------------------

BIG_INTEGERS = [
    ("post", f"/api/cases/{BIG}/withdraw", {}),
    ("post", f"/api/cases/{BIG}/assign", {}),
    ("post", f"/api/compensations/{BIG}/paid", {}),
    ("post", f"/api/shops/{BIG}/exam", {}),
    ("post", f"/api/alerts/{BIG}/unmute", None),
    ("post", f"/api/webhooks/deliveries/{BIG}/replay", None),
    ("get", f"/api/orders/{BIG}", None),
    ("get", f"/api/buyers/{BIG}/strikes", None),
    ("get", f"/api/orders?page={2**62}", None),
    ("get", f"/api/notifications?page={2**62}&page_size=200", None),
    ("get", f"/api/orders?shop={BIG}", None),
    ("get", f"/api/cases?shop_id={BIG}", None),
    ("get", f"/api/compensations?shop={BIG}", None),
    ("get", f"/api/extortion?shop_id={BIG}", None),
    (
        "post",
        "/api/cases",
        {
            "order_id": BIG,
            "harassment_types": ["threats_insults"],
            "occurred_at": "2026-11-11T10:00:00+08:00",
            "narrative": "Threats.",
        },
    ),
    ("post", "/api/notifications/read", {"ids": [BIG]}),
    ("post", "/api/assisted-links", {"order_id": BIG, "reason": "phone"}),
]


@pytest.mark.parametrize(
    ("method", "url", "body"), BIG_INTEGERS, ids=[f"{m} {u[:40]}" for m, u, _b in BIG_INTEGERS]
)
def test_integers_beyond_64_bits_are_refused_not_a_server_error(cast, at_now, method, url, body):
    client = bearer(cast.admin, "zh-hans")
    if method == "get":
        res = client.get(url)
    else:
        res = client.post(url, "" if body is None else json.dumps(body), content_type="application/json")
    assert res.status_code in (404, 422), res.content[:300]
    error = envelope(res)
    assert has_chinese(error["message"])


def test_a_body_id_beyond_64_bits_names_the_field_in_the_callers_language(cast, at_now):
    res = bearer(cast.erin, "zh-hans").post(
        f"/api/cases/{BIG}/assign", {"assignee_id": BIG}, content_type="application/json"
    )
    error = envelope(res)
    assert res.status_code == 422 and error["code"] == "invalid"
    problems = {e["field"]: e for e in error["details"]["errors"]}
    assert problems["path.case_id"]["code"] == "less_than_equal"
    assert problems["assignee_id"]["problem"] == "请填写不大于 9223372036854775807 的数。"


def test_a_page_past_the_end_is_an_empty_page_and_page_zero_is_refused(cast, at_now):
    client = bearer(cast.erin)
    assert client.get("/api/orders?page=100000").json()["items"] == []
    res = client.get("/api/orders?page=0")
    assert res.status_code == 422
    assert envelope(res)["message"] == "page must be 1 or more and page_size between 1 and 200."
    assert client.get("/api/orders?page_size=201").status_code == 422


def test_an_extortion_report_with_an_order_id_beyond_64_bits_is_refused(cast, at_now):
    res = bearer(cast.alice).post(
        "/api/extortion",
        {
            "order_id": str(BIG),
            "threat": "bad_review",
            "demand": "refund",
            "occurred_at": "2026-11-11T10:00:00+08:00",
            "narrative": "Pay or I post a bad review.",
        },
    )
    assert res.status_code == 422 and envelope(res)["code"] == "invalid"


# --- dates that overflow on conversion -----------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00", "0001-01-01T00:00:00Z"]
)
def test_times_that_overflow_on_conversion_are_refused(cast, at_now, when):
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    buyer = bearer(cast.bob, "zh-hans")
    res = buyer.post(
        "/api/cases",
        {
            "order_id": order.pk,
            "harassment_types": ["threats_insults"],
            "occurred_at": when,
            "narrative": "x",
        },
        content_type="application/json",
    )
    assert res.status_code == 422
    (problem,) = envelope(res)["details"]["errors"]
    assert problem["field"] == "occurred_at" and problem["problem"] == "请填写 1900 年至 2999 年之间的时间。"

    system = bearer(system_user())
    item = {
        "platform": "taobao",
        "order_id": "T9",
        "shop_id": "S1",
        "buyer_id": "tb_bob",
        "amount": "1.00",
        "status": "paid",
        "paid_at": when,
    }
    res = system.post("/api/marketplace/orders", {"items": [item]}, content_type="application/json")
    assert res.status_code == 422 and envelope(res)["code"] == "invalid"
    res = system.post(
        "/api/policy/deadlines",
        {"ruleset": "taobao-2021", "trade_success": when, "filed": when},
        content_type="application/json",
    )
    assert res.status_code == 422


def test_a_time_without_offset_or_as_a_number_is_refused(cast, at_now):
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    buyer = bearer(cast.bob)
    for when in ("2026-11-11T10:00:00", 1794000000, "1794000000", "2026-11-11"):
        res = buyer.post(
            "/api/cases",
            {
                "order_id": order.pk,
                "harassment_types": ["threats_insults"],
                "occurred_at": when,
                "narrative": "x",
            },
            content_type="application/json",
        )
        assert res.status_code == 422, when
        (problem,) = envelope(res)["details"]["errors"]
        assert "UTC offset" in problem["problem"], (when, problem)


# --- a lone surrogate ------------------------------------------------------------------------------


def test_a_lone_surrogate_in_json_is_refused_and_a_real_emoji_accepted(cast, at_now):
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    buyer = bearer(cast.bob, "zh-hans")
    raw = (
        '{"order_id": %d, "harassment_types": ["threats_insults"], '
        '"occurred_at": "2026-11-11T10:00:00+08:00", "narrative": "%s"}'
    )
    res = buyer.post("/api/cases", raw % (order.pk, "he said \\ud800"), content_type="application/json")
    assert res.status_code == 422
    error = envelope(res)
    assert error["code"] == "invalid_text" and has_chinese(error["message"])
    assert not order.cases.exists()
    # a surrogate pair is one character (an emoji), not a lone surrogate
    res = buyer.post(
        "/api/cases", raw % (order.pk, "he said \\ud83d\\ude21"), content_type="application/json"
    )
    assert res.status_code == 201, res.content
    assert res.json()["narrative"] == "he said \U0001f621"


def test_text_that_is_not_json_keeps_its_answer(cast):
    res = bearer(cast.bob, "zh-hans").post(
        "/api/notifications/read", "{nope", content_type="application/json"
    )
    assert res.status_code == 400
    error = envelope(res)
    assert error["code"] == "invalid_json" and has_chinese(error["message"])


# --- answers outside the operations ------------------------------------------------------------------


def test_an_unknown_api_address_is_a_404_envelope_in_the_callers_language(db):
    res = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").get("/api/no-such-thing")
    assert res.status_code == 404
    error = envelope(res)
    assert error["code"] == "not_found" and error["message"] == "API 中没有这个地址。"
    res = Client(HTTP_ACCEPT_LANGUAGE="en").post("/api/cases/1/nothing", {})
    assert res.status_code == 404 and envelope(res)["message"] == "The API has no such address."


def test_a_method_an_address_does_not_take_is_a_405_envelope(cast):
    res = bearer(cast.bob, "zh-hans").delete("/api/cases")
    assert res.status_code == 405
    error = envelope(res)
    assert error["code"] == "method_not_allowed" and has_chinese(error["message"])
    assert set(error["details"]["allowed"]) == {"GET", "POST"}
    assert {m.strip() for m in res["Allow"].split(",")} == {"GET", "POST"}


def test_a_failed_csrf_check_is_an_envelope_in_the_callers_language(cast, at_now):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.bob)
    res = client.post("/api/notifications/read", {}, content_type="application/json")
    assert res.status_code == 403
    error = envelope(res)
    assert error["code"] == "csrf_failed" and has_chinese(error["message"])


def test_too_large_a_body_is_a_413_envelope(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    res = bearer(cast.bob, "zh-hans").post(
        "/api/notifications/read", json.dumps({"ids": [1] * 1000}), content_type="application/json"
    )
    assert res.status_code == 413
    error = envelope(res)
    assert error["code"] == "too_large" and has_chinese(error["message"])


def test_too_large_a_body_without_a_body_parameter_is_a_413_envelope(cast, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    res = bearer(cast.erin).post(
        "/api/alerts/1/unmute", json.dumps({"pad": "x" * 2000}), content_type="application/json"
    )
    assert res.status_code == 413 and envelope(res)["code"] == "too_large"


def test_multipart_without_a_boundary_is_a_400_envelope(cast, at_now):
    res = bearer(cast.alice, "zh-hans").post(
        "/api/extortion", b"--x\r\nContent-Disposition: form-data", content_type="multipart/form-data"
    )
    assert res.status_code == 400
    error = envelope(res)
    assert error["code"] == "invalid_multipart" and has_chinese(error["message"])


def test_a_crash_inside_an_operation_is_a_logged_500_envelope_without_a_traceback(cast, monkeypatch, caplog):
    from reviewshield.api import cases

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cases.selectors, "case_list_for_user", broken)
    _row, raw = ApiToken.issue(user=cast.bob, name="t")
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="zh-hans", raise_request_exception=False
    )
    res = client.get("/api/cases")
    assert res.status_code == 500
    error = envelope(res)
    assert error["code"] == "server_error" and has_chinese(error["message"])
    assert "secret internals" not in res.content.decode()
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_a_log_reference_with_an_id_beyond_64_bits_is_not_found(cast):
    res = bearer(cast.bob).get(f"/api/log/inclusion?ref=chat_evidence:{BIG}")
    assert res.status_code == 404 and envelope(res)["code"] == "not_found"
