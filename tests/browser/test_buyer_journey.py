"""A buyer on a phone files a complaint with two evidence files and follows it."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reviewshield.cases.models import Case

T = {
    "zh-hans": {
        "orders": "我的订单",
        "complain": "投诉商家",
        "sms": "短信",
        "submit": "提交投诉",
        "filed": "已发起",
        "wait": "商家剩余回应时间",
        "user": "用户名",
        "login": "登录",
    },
    "en": {
        "orders": "My orders",
        "complain": "Complain about the seller",
        "sms": "Phone or SMS bombing",
        "submit": "File the complaint",
        "filed": "was filed",
        "wait": "The seller has this long to answer",
        "user": "Username",
        "login": "Log in",
    },
}


@pytest.mark.django_db(transaction=True)
def test_buyer_files_with_two_files_and_sees_the_countdown(cast, page, lang, tmp_path):
    t = T[lang]
    order = cast.order(trade_success_at=timezone.now() - timezone.timedelta(days=2))
    for name, body in (("sms.png", b"\x89PNG\r\n fake"), ("calls.csv", b"time,number\n02:13,unknown\n")):
        (tmp_path / name).write_bytes(body)

    page.goto(page.base + "/login/?next=/orders/")
    page.get_by_label(t["user"]).fill("bob")
    page.locator("#id_password").fill("pw-bob")
    page.follow(page.locator("form.card button[type=submit]"))
    page.wait_for_url("**/orders/")
    assert t["orders"] in page.content() and order.external_id in page.content()
    page.shot("orders")

    page.follow(page.get_by_role("link", name=t["complain"]))
    page.get_by_label(t["sms"]).check()
    page.locator("#id_occurred_at").fill(timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_narrative").fill(
        "差评后一晚收到两百多条验证码短信。 200 codes in one night after my review."
    )
    page.locator("#id_files").set_input_files([str(tmp_path / "sms.png"), str(tmp_path / "calls.csv")])
    page.shot("form-filled")
    page.follow(page.get_by_role("button", name=t["submit"]))
    page.wait_for_url("**/cases/*/")
    case = Case.objects.get(order=order)
    content = page.content()
    assert case.reference in content and t["filed"] in content and t["wait"] in content
    assert "sms.png" in content and "calls.csv" in content
    assert page.locator("time.countdown").first.inner_text().strip()
    page.shot("case")
