"""The buyer's case page shows the whole case the buyer's side may see, and lets the buyer answer a
defence with more evidence, which the deciding agent sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewshield.cases import services
from reviewshield.sanctions.appeals import appeal_file
from tests.conftest import as_user, local
from tests.samples import png, screenshot

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def defended(cast, time_machine):
    """Bob's complaint, answered by the seller with a defence and a screenshot."""
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults", "review_pressure"],
        occurred_at=NOW - timedelta(hours=2),
        narrative="He wrote that he knows where I live unless I delete my review.",
        files=[screenshot(name="threat.png")],
        now=NOW,
    )
    return services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="defence",
        text="We only asked politely whether the tea arrived broken.",
        files=[screenshot(name="our-chat.png", description="Our whole chat")],
        now=NOW + timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Your complaint", "Threats or insults", "The seller's answer", "The seller's evidence"]),
        ("zh-hans", ["您的投诉", "商家的答复", "商家提交的证据"]),
    ],
)
def test_the_buyer_reads_their_complaint_and_the_sellers_defence(cast, defended, lang, words):
    page = as_user(cast.bob, lang).get(f"/cases/{defended.pk}/").content.decode()
    for word in words:
        assert word in page
    assert "He wrote that he knows where I live unless I delete my review." in page
    assert "We only asked politely whether the tea arrived broken." in page
    seller_item = defended.evidence.get(side="seller")
    assert "our-chat.png" in page and "Our whole chat" in page
    assert f"/cases/{defended.pk}/evidence/{seller_item.pk}/" in page  # the cleaned copy to open


def test_the_buyer_answers_the_defence_with_evidence_the_agent_then_sees(cast, defended):
    bob = as_user(cast.bob)
    page = bob.get(f"/cases/{defended.pk}/").content.decode()
    assert "Answer the seller&#x27;s defence with more evidence" in page and 'href="#evidence-form"' in page
    res = bob.post(
        f"/cases/{defended.pk}/evidence/",
        {
            "evidence_kind": "chat_screenshot",
            "files": [SimpleUploadedFile("the-rest.png", png(color=(1, 2, 3)), "image/png")],
            "description": "The rest of that chat, with the threat.",
        },
    )
    assert res.status_code == 302
    added = defended.evidence.get(original_name="the-rest.png")
    assert added.side == "buyer"
    workspace = as_user(cast.erin).get(f"/agent/cases/{defended.pk}/").content.decode()
    assert "the-rest.png" in workspace and "The rest of that chat, with the threat." in workspace


def test_the_buyer_reads_the_sellers_appeal_reasons_but_the_seller_not_the_buyers(cast, defended):
    services.case_decide(
        case_id=defended.pk,
        agent=cast.erin,
        outcome="uphold",
        tier="ordinary",
        reasons="Threat shown.",
        now=NOW,
    )
    appeal_file(
        case_id=defended.pk, user=cast.alice, reasons="The screenshot was cut; see our chat.", now=NOW
    )
    buyer_page = as_user(cast.bob).get(f"/cases/{defended.pk}/").content.decode()
    assert "The seller's appeal" in buyer_page
    assert "The screenshot was cut; see our chat." in buyer_page
    assert "Threat shown." in buyer_page  # the decision's reasons


def test_a_seller_does_not_read_the_buyers_appeal_reasons(cast, defended):
    services.case_decide(
        case_id=defended.pk, agent=cast.erin, outcome="reject", reasons="Not shown.", now=NOW
    )
    appeal_file(case_id=defended.pk, user=cast.bob, reasons=f"Call me on {cast.bob.phone}.", now=NOW)
    seller_page = as_user(cast.alice).get(f"/seller/cases/{defended.pk}/").content.decode()
    assert "The buyer's appeal" in seller_page and cast.bob.phone not in seller_page
