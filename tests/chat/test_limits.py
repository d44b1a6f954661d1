"""Chat evidence numbers are limited per buyer, on the API and in the case page alike."""

from __future__ import annotations

from datetime import timedelta

from reviewshield.chat.models import ChatEvidence
from reviewshield.limits.models import LimitHit
from tests.chat.conftest import EVIDENCE_URL, NOW, as_user, conversation, file_case, message, post, push


def test_chat_evidence_numbers_past_the_limit(members, system, at_now, settings, time_machine):
    settings.REVIEWSHIELD_LIMITS = {**settings.REVIEWSHIELD_LIMITS, "chat_evidence": (2, 3600)}
    cast = members
    push(
        system,
        conversation(
            messages=[
                message("m1", NOW - timedelta(hours=5), "Hello, any questions?"),
                message("m2", NOW - timedelta(hours=4), "The tea was stale.", sender="buyer"),
                message("m3", NOW - timedelta(hours=3), "Delete your review."),
            ]
        ),
        conversation(
            "K1", buyer_id="tb_carol", messages=[message("k1", NOW - timedelta(hours=1), "Hi Carol.")]
        ),
    )
    case = file_case(cast)
    body = {"platform": "taobao", "conversation_id": "C1", "first_message_id": "m1", "last_message_id": "m2"}
    bob = as_user(cast.bob)

    assert post(bob, EVIDENCE_URL, body).status_code == 201
    page = bob.post(
        f"/cases/{case.pk}/chat/cite/", {"conversation": "taobao:C1", "first": "m2", "last": "m3"}
    )
    assert page.status_code == 302
    refused = post(as_user(cast.bob, "zh-hans"), EVIDENCE_URL, body)
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["message"] == "您在短时间内生成的举证号过多。请在 60 分钟后再试。"
    refused_page = bob.post(
        f"/cases/{case.pk}/chat/cite/", {"conversation": "taobao:C1", "first": "m1", "last": "m3"}
    )
    assert refused_page.status_code == 429
    assert "You have made many chat evidence numbers in a short time." in refused_page.content.decode()
    assert ChatEvidence.objects.filter(buyer=cast.bob).count() == 2
    assert LimitHit.objects.get(scope="chat_evidence").refused == 2

    carol = {"platform": "taobao", "conversation_id": "K1", "first_message_id": "k1", "last_message_id": "k1"}
    assert post(as_user(cast.carol), EVIDENCE_URL, carol).status_code == 201
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    assert post(bob, EVIDENCE_URL, body).status_code == 201
