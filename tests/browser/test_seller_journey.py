"""A seller opens a complaint against their shop, sees the buyer masked, and answers B."""

from __future__ import annotations

import pytest
from django.utils import timezone

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus

T = {
    "zh-hans": {"user": "用户名", "b": "B：提交申辩说明", "send": "提交回应", "sent": "您的回应已提交"},
    "en": {
        "user": "Username",
        "b": "B: defend with an explanation",
        "send": "Send the answer",
        "sent": "Your answer was sent",
    },
}


@pytest.mark.django_db(transaction=True)
def test_seller_answers_b_without_seeing_the_buyer(cast, page, lang):
    t = T[lang]
    now = timezone.now()
    order = cast.order(trade_success_at=now - timezone.timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["review_pressure"],
        occurred_at=now,
        narrative=f"They call {cast.bob.phone} every day to make me delete my review.",
        now=now,
    )
    page.goto(page.base + "/login/?next=/seller/cases/")
    page.get_by_label(t["user"]).fill("alice")
    page.locator("#id_password").fill("pw-alice")
    page.follow(page.locator("form.card button[type=submit]"))
    page.wait_for_url("**/seller/cases/")
    page.shot("list")
    page.follow(page.get_by_role("link", name=case.reference))
    content = page.content()
    assert cast.bob.phone not in content and cast.bob.real_name not in content and "b***b" in content
    page.shot("case-masked")
    page.get_by_label(t["b"]).check()
    page.locator("#answer-text").fill("我们只在退款时联系过一次。 We called once about the refund.")
    page.follow(page.get_by_role("button", name=t["send"]))
    assert t["sent"] in page.content()
    page.shot("answered")
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
