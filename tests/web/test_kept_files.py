"""A refused form keeps what was typed, the choices and every accepted file, and points at the field.

The complaint form, the seller's answer (A/B), adding evidence, appeals and the extortion forms: a
refused post comes back with the text, the choice, the accepted files listed as kept (ticked, so the
next post attaches them), each problem next to its field (aria-describedby) and a summary linking to
the fields. Kept files belong to their owner and form, and expire.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewshield.cases import services
from reviewshield.cases.models import Case, CaseStatus
from reviewshield.evidence.blobs import blob_storage
from reviewshield.evidence.kept import kept_purge
from reviewshield.evidence.models import KeptUpload
from tests.conftest import as_user, local
from tests.samples import png, screenshot

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)

# An HTML page named like a photo: intake refuses it (web pages are never evidence).
HOSTILE = b"<html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)


def good(name: str = "sms.png", color=(200, 30, 30)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png(color=color), "image/png")


def bad(name: str = "bill.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, HOSTILE, "image/png")


def tokens(page: str) -> list[str]:
    return re.findall(r'name="kept" value="([^"]+)" id="[^"]+" checked', page)


def complaint(**extra):
    data = {
        "harassment_types": ["phone_sms_bombing", "threats_insults"],
        "occurred_at": "2026-11-11T23:30",
        "narrative": "Two hundred verification codes after my one-star review.",
    }
    data.update(extra)
    return data


@pytest.fixture
def case(cast, at_now):
    order = cast.order(trade_success_at=TS)
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=2),
        narrative="He threatened me.",
        files=[screenshot()],
        now=NOW,
    )


# --- the complaint form ----------------------------------------------------------------------------


def test_a_complaint_refused_for_a_missing_field_keeps_text_choices_and_files(cast, at_now):
    # given a complaint without its description, with two photos of SMS
    order = cast.order(trade_success_at=TS)
    bob = as_user(cast.bob)
    res = bob.post(
        f"/orders/{order.pk}/complain/",
        complaint(
            narrative="", files=[good("sms-1.png"), good("sms-2.png", (0, 0, 0))], evidence_kind="sms_photo"
        ),
    )
    # then the form comes back with the choices, the time and both files kept
    assert res.status_code == 422
    page = res.content.decode()
    assert 'value="phone_sms_bombing" id="type-phone_sms_bombing"\n        checked' in page
    assert 'value="2026-11-11T23:30"' in page
    assert "Files kept from your last try" in page and "sms-1.png" in page and "sms-2.png" in page
    kept = tokens(page)
    assert len(kept) == 2
    # the problem is at the field, described by it, and the summary links there
    assert 'id="id_narrative_error"' in page and "Describe what happened." in page
    # (and by its live counter)
    assert re.search(
        r'<textarea[^>]*aria-invalid="true"[^>]*aria-describedby="id_narrative_error id_narrative-count"',
        page,
    ) or re.search(
        r'<textarea[^>]*aria-describedby="id_narrative_error id_narrative-count"[^>]*aria-invalid="true"',
        page,
    )
    assert 'href="#id_narrative"' in page and "data-error-summary" in page
    assert not Case.objects.filter(order=order).exists()
    # when the buyer adds the description and sends again without choosing the files again
    res = bob.post(f"/orders/{order.pk}/complain/", complaint(kept=kept, evidence_kind="sms_photo"))
    case = Case.objects.get(order=order)
    assert res.status_code == 302
    assert sorted(case.evidence.values_list("original_name", flat=True)) == ["sms-1.png", "sms-2.png"]
    assert not KeptUpload.objects.exists()  # attached, so no longer waiting


def test_one_refused_file_is_named_at_the_files_field_and_the_others_are_kept(cast, at_now):
    order = cast.order(trade_success_at=TS)
    bob = as_user(cast.bob)
    res = bob.post(
        f"/orders/{order.pk}/complain/",
        complaint(files=[good("sms.png"), bad("bill.png")], evidence_kind="sms_photo"),
    )
    assert res.status_code == 422
    page = res.content.decode()
    error = re.search(r'<div class="errorlist field-error" id="id_files_error">(.*?)</div>', page, re.S)
    assert error and "bill.png" in error.group(1)
    assert 'href="#id_files"' in page
    assert "Two hundred verification codes" in page  # the narrative stays
    assert [k.name for k in KeptUpload.objects.all()] == ["sms.png"]  # the hostile file is not kept
    res = bob.post(f"/orders/{order.pk}/complain/", complaint(kept=tokens(page), evidence_kind="sms_photo"))
    assert res.status_code == 302
    assert list(Case.objects.get(order=order).evidence.values_list("original_name", flat=True)) == ["sms.png"]


def test_files_sent_without_a_kind_are_kept_and_checked_once_the_kind_is_named(cast, at_now):
    order = cast.order(trade_success_at=TS)
    bob = as_user(cast.bob, "zh-hans")
    res = bob.post(f"/orders/{order.pk}/complain/", complaint(files=[good("sms.png"), bad("bill.png")]))
    page = res.content.decode()
    assert res.status_code == 422
    assert "请更正下面标出的内容" in page and "上次提交中保留的文件" in page  # both languages
    assert len(tokens(page)) == 2  # no kind yet, so nothing could be judged
    res = bob.post(f"/orders/{order.pk}/complain/", complaint(kept=tokens(page), evidence_kind="sms_photo"))
    assert res.status_code == 422  # now judged: the web page posing as a photo is refused
    page = res.content.decode()
    assert "bill.png" in page and len(tokens(page)) == 1
    res = bob.post(f"/orders/{order.pk}/complain/", complaint(kept=tokens(page), evidence_kind="sms_photo"))
    assert res.status_code == 302
    assert Case.objects.get(order=order).evidence.count() == 1


def test_an_unticked_kept_file_is_left_out(cast, at_now):
    order = cast.order(trade_success_at=TS)
    bob = as_user(cast.bob)
    page = bob.post(
        f"/orders/{order.pk}/complain/",
        complaint(narrative="", files=[good("a.png"), good("b.png", (0, 0, 0))], evidence_kind="sms_photo"),
    ).content.decode()
    first, _second = tokens(page)
    assert (
        bob.post(
            f"/orders/{order.pk}/complain/", complaint(kept=[first], evidence_kind="sms_photo")
        ).status_code
        == 302
    )
    assert list(Case.objects.get(order=order).evidence.values_list("original_name", flat=True)) == ["a.png"]


def test_nobody_can_claim_another_persons_kept_file(cast, at_now):
    bobs = cast.order(trade_success_at=TS)
    carols = cast.order(buyer=cast.carol, trade_success_at=TS)
    page = (
        as_user(cast.bob)
        .post(
            f"/orders/{bobs.pk}/complain/",
            complaint(narrative="", files=[good("mine.png")], evidence_kind="sms_photo"),
        )
        .content.decode()
    )
    res = as_user(cast.carol).post(f"/orders/{carols.pk}/complain/", complaint(kept=tokens(page)))
    assert res.status_code == 302
    assert not Case.objects.get(order=carols).evidence.exists()
    assert KeptUpload.objects.count() == 1  # still bob's


def test_kept_files_expire_with_their_bytes(cast, at_now):
    order = cast.order(trade_success_at=TS)
    as_user(cast.bob).post(
        f"/orders/{order.pk}/complain/", complaint(narrative="", files=[good()], evidence_kind="sms_photo")
    )
    row = KeptUpload.objects.get()
    assert blob_storage().exists(row.key)
    assert kept_purge(now=NOW + timedelta(hours=23)) == 0
    assert kept_purge(now=NOW + timedelta(hours=25)) == 1
    assert not KeptUpload.objects.exists() and not blob_storage().exists(row.key)


# --- the seller's answer ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_refused_file_keeps_the_sellers_defence_choice_and_other_files(cast, case, lang):
    seller = as_user(cast.alice, lang)
    res = seller.post(
        f"/seller/cases/{case.pk}/answer/",
        {
            "kind": "defence",
            "text": "We only called once, about the refund.",
            "files": [good("refund.png"), bad("fake.png")],
            "evidence_kind": "chat_screenshot",
            "version": case.version,
        },
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert re.search(r'value="defence" id="kind-b" checked', page)  # B is still chosen
    assert ">We only called once, about the refund.</textarea>" in page
    assert "refund.png" in page and len(tokens(page)) == 1
    error = re.search(r'id="answer-files_error">(.*?)</div>', page, re.S)
    assert error and "fake.png" in error.group(1)
    assert re.search(r'<input id="answer-files"[^>]*aria-describedby="answer-files_error"', page)
    assert 'href="#answer-files"' in page
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE
    # the seller sends again: the kept file is attached, nothing chosen twice
    res = seller.post(
        f"/seller/cases/{case.pk}/answer/",
        {
            "kind": "defence",
            "text": "We only called once, about the refund.",
            "kept": tokens(page),
            "evidence_kind": "chat_screenshot",
            "version": case.version,
        },
    )
    assert res.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
    assert list(case.evidence.filter(side="seller").values_list("original_name", flat=True)) == ["refund.png"]


def test_an_answer_without_a_choice_points_at_the_choice(cast, case):
    res = as_user(cast.alice).post(
        f"/seller/cases/{case.pk}/answer/",
        {"text": "Sorry.", "files": [good("x.png")], "evidence_kind": "chat_screenshot"},
    )
    page = res.content.decode()
    assert res.status_code == 422
    assert 'id="answer-choice_error"' in page and 'href="#answer-choice"' in page
    assert ">Sorry.</textarea>" in page and len(tokens(page)) == 1


# --- adding evidence, appeals, extortion -----------------------------------------------------------


def test_adding_evidence_without_a_kind_keeps_the_files_and_the_note(cast, case):
    bob = as_user(cast.bob)
    res = bob.post(
        f"/cases/{case.pk}/evidence/", {"files": [good("more.png")], "description": "The second night."}
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert 'id="ev-kind_error"' in page and 'value="The second night."' in page and "more.png" in page
    res = bob.post(
        f"/cases/{case.pk}/evidence/",
        {"kept": tokens(page), "evidence_kind": "sms_photo", "description": "The second night."},
    )
    assert res.status_code == 302
    added = case.evidence.get(original_name="more.png")
    assert added.kind == "sms_photo" and added.description == "The second night."


def test_a_refused_appeal_keeps_its_accepted_files(cast, case, time_machine):
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    services.case_decide(case_id=case.pk, agent=cast.erin, outcome="reject", reasons="Not shown.", now=NOW)
    bob = as_user(cast.bob)
    res = bob.post(
        f"/cases/{case.pk}/appeal/", {"reasons": "", "files": [good("new.png")], "evidence_kind": "sms_photo"}
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert 'id="appeal-reasons_error"' in page and "new.png" in page
    res = bob.post(
        f"/cases/{case.pk}/appeal/",
        {"reasons": "There is more.", "kept": tokens(page), "evidence_kind": "sms_photo"},
    )
    assert res.status_code == 302
    assert case.evidence.filter(original_name="new.png").exists()


def test_the_buyers_answer_to_an_extortion_report_keeps_its_files(cast, time_machine):
    from tests.extortion.conftest import FILED, file

    time_machine.move_to(FILED, tick=False)
    report = file(cast)
    bob = as_user(cast.bob)
    res = bob.post(
        f"/extortion/{report.pk}/answer/",
        {
            "text": "",
            "files": [good("refund-chat.png")],
            "evidence_kind": "chat_screenshot",
            "version": report.version,
        },
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert 'id="answer-text_error"' in page and "refund-chat.png" in page
    res = bob.post(
        f"/extortion/{report.pk}/answer/",
        {"text": "I only asked for a refund.", "kept": tokens(page), "version": report.version},
    )
    assert res.status_code == 302
    assert report.evidence.filter(original_name="refund-chat.png", side="buyer").exists()


def test_a_refused_extortion_report_keeps_the_sellers_files(cast, time_machine):
    from tests.extortion.conftest import FILED, reviewed_order

    time_machine.move_to(FILED, tick=False)
    order = reviewed_order(cast)
    body = {
        "order_number": order.external_id,
        "threat": "bad_review",
        "demand": "",
        "occurred_at": "2026-11-12 05:00",
        "narrative": "The buyer demanded money in chat.",
        "evidence_kind": "chat_screenshot",
        "files": [good("demand.png")],
    }
    seller = as_user(cast.alice)
    res = seller.post("/seller/extortion/new/", body)
    assert res.status_code == 422
    page = res.content.decode()
    assert (
        'id="id_demand_error"' in page
        and "demand.png" in page
        and 'value="bad_review" id="threat-bad_review" checked' in page
    )
    body.update(demand="200 yuan or a one-star review", files=[], kept=tokens(page))
    res = seller.post("/seller/extortion/new/", body)
    assert res.status_code == 302
    from reviewshield.extortion.models import ExtortionReport

    assert ExtortionReport.objects.get().evidence.filter(original_name="demand.png").exists()


@pytest.mark.parametrize("kind", ["", "sms_photo"])
def test_a_file_cut_off_at_the_size_limit_is_never_kept(cast, at_now, kind):
    from reviewshield.evidence.intake import Upload
    from reviewshield.evidence.kept import kept_store

    cut = good("huge.png")
    cut.rs_oversize = True  # what the upload handler marks when it stopped keeping bytes
    outcome = kept_store(
        owner=cast.bob,
        purpose="complaint:1",
        uploads=[Upload(file=cut, name="huge.png", kind=kind)],
        side="buyer",
        now=NOW,
    )
    assert outcome.kept == [] and "huge.png" in outcome.refused[0]
    assert not KeptUpload.objects.exists()
