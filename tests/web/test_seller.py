"""The seller's pages: their shops' complaints, the buyer masked, answering A or B."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from tests.conftest import as_user, local
from tests.samples import screenshot

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=2),
        narrative=f"He threatened me. I am {cast.bob.real_name}, phone {cast.bob.phone}, living at {cast.bob.address}.",
        files=[screenshot(name=f"chat-{cast.bob.phone}.png")],
        now=NOW,
    )


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Complaints against your shop", "Time left to answer"]),
        ("zh-hans", ["针对您店铺的维权", "剩余回应时间"]),
    ],
)
def test_seller_lists_complaints_and_never_sees_the_buyers_data(cast, case, lang, words):
    seller = as_user(cast.alice, lang)
    pages = [
        seller.get("/seller/cases/").content.decode(),
        seller.get(f"/seller/cases/{case.pk}/").content.decode(),
    ]
    for w in words:
        assert w in pages[0]
    assert case.reference in pages[0]
    for page in pages:
        for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, ">bob<", " bob "):
            assert private not in page
    assert "He threatened me." in pages[1] and "b***b" in pages[1]


def test_shop_switcher_shows_each_shops_complaints(cast, case):
    page = as_user(cast.alice).get(f"/seller/cases/?shop={cast.jd_shop.pk}").content.decode()
    assert case.reference not in page and "Alice JD" in page
    page = as_user(cast.alice).get(f"/seller/cases/?shop={cast.shop.pk}").content.decode()
    assert case.reference in page


def test_only_the_shops_seller_may_look(cast, case):
    assert as_user(cast.dave).get(f"/seller/cases/{case.pk}/").status_code == 404
    assert as_user(cast.bob).get(f"/seller/cases/{case.pk}/").status_code == 403
    assert as_user(cast.bob).get("/seller/cases/").status_code == 403


def test_answer_b_with_evidence_from_the_page(cast, case):
    seller = as_user(cast.alice)
    res = seller.post(
        f"/seller/cases/{case.pk}/answer/",
        {
            "kind": "defence",
            "text": "We called once about the refund.",
            "version": case.version,
            "files": [SimpleUploadedFile("calllog.csv", b"one call", "text/csv")],
            "evidence_kind": "call_records",
        },
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
    assert case.evidence.filter(side="seller").count() == 1
    assert "Your answer was sent." in res.content.decode()


def test_a_late_or_empty_answer_is_refused_with_a_reason(cast, case, time_machine):
    seller = as_user(cast.alice)
    res = seller.post(f"/seller/cases/{case.pk}/answer/", {"kind": "defence", "text": " "}, follow=True)
    assert "Write your proposal or explanation." in res.content.decode()
    time_machine.move_to(case.respond_by + timedelta(minutes=1), tick=False)
    res = seller.post(f"/seller/cases/{case.pk}/answer/", {"kind": "defence", "text": "late"}, follow=True)
    assert "The time to answer ended at" in res.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE
