"""The buyer's pages as the owner, the other party and an outsider would see them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reviewshield.cases import services
from reviewshield.cases.models import Case, CaseStatus
from tests.conftest import as_user, local
from tests.samples import png

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)


def form_data(**extra):
    data = {
        "harassment_types": ["phone_sms_bombing", "threats_insults"],
        "occurred_at": "2026-11-11T23:30",
        "narrative": "Two hundred verification codes after my one-star review.",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["My orders", "Time left to complain", "Complain about the seller"]),
        ("zh-hans", ["我的订单", "剩余投诉时间", "投诉商家"]),
    ],
)
def test_my_orders_shows_own_orders_with_time_left(cast, at_now, lang, words):
    mine = cast.order(trade_success_at=TS)
    theirs = cast.order(buyer=cast.carol, trade_success_at=TS)
    page = as_user(cast.bob, lang).get("/orders/").content.decode()
    for w in words:
        assert w in page
    assert mine.external_id in page and theirs.external_id not in page
    assert "天" in page if lang == "zh-hans" else "days" in page  # 13 days left


def test_buyer_files_with_two_evidence_files_and_lands_on_the_case(cast, at_now):
    order = cast.order(trade_success_at=TS)
    files = [
        SimpleUploadedFile("sms.png", png(), "image/png"),
        SimpleUploadedFile("sms-2.png", png(color=(0, 0, 0)), "image/png"),
    ]
    bob = as_user(cast.bob)
    missing_kind = bob.post(f"/orders/{order.pk}/complain/", form_data(files=files))
    assert (
        missing_kind.status_code == 422
        and "Say what kind of evidence the files are." in missing_kind.content.decode()
    )
    assert not Case.objects.filter(order=order).exists()
    files = [
        SimpleUploadedFile("sms.png", png(), "image/png"),
        SimpleUploadedFile("sms-2.png", png(color=(0, 0, 0)), "image/png"),
    ]
    res = bob.post(f"/orders/{order.pk}/complain/", form_data(files=files, evidence_kind="sms_photo"))
    case = Case.objects.get(order=order)
    assert res.status_code == 302 and res.url == f"/cases/{case.pk}/"
    assert case.occurred_at == local(2026, 11, 11, 23, 30)  # the form speaks Beijing time
    assert case.evidence.count() == 2
    page = bob.get(res.url).content.decode()
    assert case.reference in page and "was filed" in page and "sms.png" in page
    assert "Complaint filed; the seller was notified" in page


@pytest.mark.parametrize(
    ("lang", "error"), [("en", "Choose at least one kind"), ("zh-hans", "请至少选择一种")]
)
def test_a_failed_form_keeps_what_the_person_typed(cast, at_now, lang, error):
    order = cast.order(trade_success_at=TS)
    res = as_user(cast.bob, lang).post(f"/orders/{order.pk}/complain/", form_data(harassment_types=[]))
    page = res.content.decode()
    assert res.status_code == 422 and error in page
    assert "Two hundred verification codes" in page and "2026-11-11T23:30" in page
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["cannot be filed here", "assisted complaint", "110"]),
        ("zh-hans", ["无法在此发起", "协助", "110"]),
    ],
)
def test_outside_the_window_the_page_says_why_and_what_next(cast, time_machine, lang, words):
    time_machine.move_to(TS + timedelta(days=20), tick=False)
    order = cast.order(trade_success_at=TS)
    res = as_user(cast.bob, lang).post(f"/orders/{order.pk}/complain/", form_data())
    page = res.content.decode()
    assert res.status_code == 422
    for w in words:
        assert w in page
    assert "2026-11-25 10:00" in page


def test_pages_check_who_is_looking(cast, at_now):
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    assert as_user(cast.bob).get(f"/cases/{case.pk}/").status_code == 200
    assert as_user(cast.carol).get(f"/cases/{case.pk}/").status_code == 404  # another buyer
    assert as_user(cast.carol).get(f"/orders/{order.pk}/complain/").status_code == 404
    assert as_user(cast.alice).get(f"/cases/{case.pk}/").status_code == 403  # the seller has its own portal
    assert as_user(cast.alice).get("/orders/").status_code == 403
    anonymous = Client().get("/orders/")
    assert anonymous.status_code == 302 and "/login/" in anonymous.url


def test_accept_a_settlement_and_withdraw_from_the_case_page(cast, at_now):
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    services.case_answer(
        case_id=case.pk, seller=cast.alice, kind="settlement", text="Full refund, sorry.", now=NOW
    )
    page = as_user(cast.bob).get(f"/cases/{case.pk}/").content.decode()
    assert "Full refund, sorry." in page and "Accept the settlement" in page
    as_user(cast.bob).post(f"/cases/{case.pk}/settlement/", {"accept": "no"})
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
    as_user(cast.bob).post(f"/cases/{case.pk}/withdraw/", {"reason": "Sorted out", "confirm": "yes"})
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN


def test_stale_version_shows_a_clear_message(cast, at_now):
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    res = as_user(cast.bob).post(
        f"/cases/{case.pk}/withdraw/", {"version": "0", "confirm": "yes"}, follow=True
    )
    assert "changed this case first" in res.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("en", "The seller has {} to answer."), ("zh-hans", "商家还有 {} 可以回应。")],
)
def test_rights_centre_says_who_must_act_and_how_long_is_left(cast, at_now, lang, sentence):
    order = cast.order(trade_success_at=TS)
    services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    page = as_user(cast.bob, lang).get("/cases/").content.decode()
    left = "3 days 0 hours" if lang == "en" else "3 天 0 小时"
    assert re.search(
        re.escape(sentence).replace(r"\{\}", r'<time class="countdown"[^>]*>' + left + "</time>"), page
    )


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [("en", "The deadline passed at 2026-11-15 09:00"), ("zh-hans", "期限已于 2026-11-15 09:00 届满")],
)
def test_rights_centre_says_when_a_deadline_has_passed(cast, time_machine, lang, sentence):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    time_machine.move_to(NOW + timedelta(days=4), tick=False)  # the worker has not run yet
    page = as_user(cast.bob, lang).get("/cases/").content.decode()
    assert sentence in page and ">time is up<" not in page and ">已到期<" not in page


def test_my_orders_says_when_an_order_cannot_be_complained_about_here(cast, at_now):
    cast.order(trade_success_at=TS, channel="tmall")  # a Tmall order on Taobao: Taobao's rules exclude it
    page = as_user(cast.bob).get("/orders/").content.decode()
    assert "This order cannot be complained about here." in page and "window ended at" not in page
