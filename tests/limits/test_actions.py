"""Per-actor limits on filing, uploads, appeals and extortion reports, and on failed bearer tokens:
past the limit the answer is 429 with Retry-After (the API in its envelope, a page on the web), in
the caller's language, nothing is written, the refusal is kept as a LimitHit, other actors go on,
and the next window starts afresh."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reviewshield.accounts.models import ApiToken
from reviewshield.cases.models import Case
from reviewshield.extortion.models import ExtortionEvidence, ExtortionReport
from reviewshield.limits.models import LimitHit
from reviewshield.sanctions.models import Appeal
from tests.conftest import as_user, local
from tests.extortion.conftest import reviewed_order
from tests.samples import png
from tests.sanctions.conftest import decide

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)  # the hour's window opened at 09:00 Beijing time, 01:00 UTC


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def limit(settings, scope, count, seconds=3600):
    settings.REVIEWSHIELD_LIMITS = {**settings.REVIEWSHIELD_LIMITS, scope: (count, seconds)}


def file_via_api(cast, order, *, buyer=None, lang="en"):
    body = {
        "order_id": order.pk,
        "harassment_types": ["phone_sms_bombing"],
        "occurred_at": "2026-11-11T02:00:00Z",
        "narrative": "Two hundred verification codes after my one-star review.",
    }
    return as_user(buyer or cast.bob, lang).post(
        "/api/cases", json.dumps(body), content_type="application/json"
    )


def file_via_web(cast, order, *, lang="en"):
    data = {
        "harassment_types": ["phone_sms_bombing"],
        "occurred_at": "2026-11-11T23:30",
        "narrative": "Two hundred verification codes after my one-star review.",
    }
    return as_user(cast.bob, lang).post(f"/orders/{order.pk}/complain/", data)


def assert_refused_in_envelope(res, *, words, retry_after):
    assert res.status_code == 429, res.content
    assert res["Retry-After"] == str(retry_after)
    body = res.json()
    assert body["code"] == "rate_limited" and body["details"]["retry_after"] == retry_after
    assert words in body["message"]


def test_the_production_limits():
    assert settings.REVIEWSHIELD_LIMITS == {
        "complaint_file": (10, 3600),
        "evidence_upload": (60, 3600),
        "appeal_file": (5, 3600),
        "extortion_report": (10, 3600),
        "chat_evidence": (30, 3600),
        "bearer_failure": (20, 600),
    }


def test_a_buyer_past_the_filing_limit_gets_429_and_nothing_is_filed(cast, at_now):
    allowed, _seconds = settings.REVIEWSHIELD_LIMITS["complaint_file"]  # the production value
    orders = [cast.order(trade_success_at=TS) for _ in range(allowed + 2)]
    for order in orders[:allowed]:
        assert file_via_api(cast, order).status_code == 201

    refused = file_via_api(cast, orders[allowed])
    assert_refused_in_envelope(
        refused,
        words="You have filed many complaints in a short time. Please try again in 60 minutes.",
        retry_after=3600,
    )
    in_chinese = file_via_api(cast, orders[allowed], lang="zh-hans")
    assert in_chinese.status_code == 429
    assert in_chinese.json()["message"] == "您在短时间内提交的投诉过多。请在 60 分钟后再试。"
    assert Case.objects.filter(buyer=cast.bob).count() == allowed
    assert not Case.objects.filter(order=orders[allowed]).exists()
    hit = LimitHit.objects.get()
    assert (hit.scope, hit.user, hit.refused, hit.allowed, hit.path) == (
        "complaint_file",
        cast.bob,
        2,
        allowed,
        "/api/cases",
    )

    # another buyer files as usual
    assert (
        file_via_api(cast, cast.order(buyer=cast.carol, trade_success_at=TS), buyer=cast.carol).status_code
        == 201
    )
    # 59 minutes on, still refused, and told so; the next hour's window opens afresh
    at_now.move_to(NOW + timedelta(minutes=59), tick=False)
    assert file_via_api(cast, orders[allowed])["Retry-After"] == "60"
    at_now.move_to(NOW + timedelta(hours=1), tick=False)
    assert file_via_api(cast, orders[allowed]).status_code == 201


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", "You have filed many complaints in a short time."), ("zh-hans", "您在短时间内提交的投诉过多。")],
)
def test_the_web_form_and_the_api_share_one_budget_and_the_page_says_why(cast, at_now, settings, lang, words):
    limit(settings, "complaint_file", 1)
    first, second, third = (cast.order(trade_success_at=TS) for _ in range(3))
    assert file_via_web(cast, first, lang=lang).status_code == 302

    page = file_via_web(cast, second, lang=lang)
    assert page.status_code == 429 and page["Retry-After"] == "3600"
    text = page.content.decode()
    assert words in text and ("60 minutes" in text or "60 分钟" in text)
    assert file_via_api(cast, third).status_code == 429
    assert not Case.objects.filter(order__in=[second, third]).exists()
    # looking at the form is not an attempt
    assert as_user(cast.bob, lang).get(f"/orders/{second.pk}/complain/").status_code == 200
    assert LimitHit.objects.get().refused == 2


def test_evidence_uploads_past_the_limit(cast, at_now, settings):
    limit(settings, "evidence_upload", 2, 600)
    case = Case.objects.get(pk=file_via_api(cast, cast.order(trade_success_at=TS)).json()["id"])
    bob = as_user(cast.bob)

    def api_upload(client, name):
        return client.post(
            f"/api/cases/{case.pk}/evidence",
            {"kind": "sms_photo", "files": [SimpleUploadedFile(name, png(), "image/png")]},
        )

    def web_upload(client, name):
        return client.post(
            f"/cases/{case.pk}/evidence/",
            {"evidence_kind": "sms_photo", "files": [SimpleUploadedFile(name, png(), "image/png")]},
        )

    assert api_upload(bob, "a.png").status_code == 201
    assert web_upload(bob, "b.png").status_code == 302
    assert_refused_in_envelope(
        api_upload(bob, "c.png"),
        words="You have uploaded evidence many times in a short time.",
        retry_after=600,
    )
    assert web_upload(bob, "d.png").status_code == 429
    assert sorted(case.evidence.values_list("original_name", flat=True)) == ["a.png", "b.png"]
    # the seller of the case is another actor
    seller = as_user(cast.alice).post(
        f"/api/cases/{case.pk}/evidence",
        {"kind": "chat_screenshot", "files": [SimpleUploadedFile("calls.png", png(), "image/png")]},
    )
    assert seller.status_code == 201, seller.content
    assert LimitHit.objects.get(scope="evidence_upload").refused == 2
    at_now.move_to(NOW + timedelta(minutes=10), tick=False)
    assert api_upload(bob, "e.png").status_code == 201


def test_appeals_past_the_limit(cast, at_now, settings):
    limit(settings, "appeal_file", 1)
    first = decide(cast, "serious", NOW - timedelta(hours=2))
    second = decide(cast, "serious", NOW - timedelta(hours=1))
    rejected = decide(cast, None, NOW - timedelta(hours=1), outcome="reject")
    alice = as_user(cast.alice)

    def appeal(client, case, lang="en"):
        return client.post(
            f"/api/cases/{case.pk}/appeals",
            json.dumps({"reasons": "The calls were from the courier."}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=lang,
        )

    assert appeal(alice, first).status_code == 201
    assert_refused_in_envelope(
        appeal(alice, second), words="You have filed many appeals in a short time.", retry_after=3600
    )
    assert appeal(alice, second, "zh-hans").json()["message"].startswith("您在短时间内提交的申诉过多。")
    assert not Appeal.objects.filter(case=second).exists()
    # on the web too, with the seller's page
    page = alice.post(f"/seller/cases/{second.pk}/appeal/", {"reasons": "The calls were from the courier."})
    assert page.status_code == 429 and not Appeal.objects.filter(case=second).exists()
    # the buyer appeals their own rejection as usual
    assert appeal(as_user(cast.bob), rejected).status_code == 201
    at_now.move_to(NOW + timedelta(hours=1), tick=False)
    assert appeal(alice, second).status_code == 201


def test_extortion_reports_past_the_limit(cast, at_now, settings):
    limit(settings, "extortion_report", 1)

    def report(who, order, lang="en"):
        return as_user(who, lang).post(
            "/api/extortion",
            {
                "order_id": order.pk,
                "threat": "bad_review",
                "demand": "200 yuan",
                "demand_amount": "200",
                "occurred_at": "2026-11-12T00:00:00Z",
                "narrative": "The buyer wants 200 yuan or a one-star review.",
                "evidence_kind": "chat_screenshot",
                "files": [SimpleUploadedFile("demand.png", png())],
            },
        )

    assert report(cast.alice, reviewed_order(cast)).status_code == 201
    second = reviewed_order(cast, buyer=cast.carol)
    assert_refused_in_envelope(
        report(cast.alice, second),
        words="You have filed many extortion reports in a short time.",
        retry_after=3600,
    )
    assert ExtortionReport.objects.filter(order=second).count() == 0
    assert ExtortionEvidence.objects.filter(original_name="demand.png").count() == 1
    # the seller's report form on the web: refused before anything is read or stored
    page = as_user(cast.alice, "zh-hans").post("/seller/extortion/new/", {"order_number": second.external_id})
    assert page.status_code == 429 and "您在短时间内提交的敲诈举报过多。" in page.content.decode()
    assert report(cast.dave, reviewed_order(cast, shop=cast.other_shop)).status_code == 201
    at_now.move_to(NOW + timedelta(hours=1), tick=False)
    assert report(cast.alice, second).status_code == 201


def test_failed_bearer_tokens_per_address(cast, at_now):
    allowed, seconds = settings.REVIEWSHIELD_LIMITS["bearer_failure"]  # the production value
    _row, raw = ApiToken.issue(user=cast.erin, name="ops")

    def call(token, address="10.0.0.9", lang="en"):
        return Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=lang).get(
            "/api/queue", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    answers = [call(f"rs_guess{i}") for i in range(allowed)]
    assert {r.status_code for r in answers} == {401}
    refused = call("rs_guess-next")
    # the window is ten minutes from 09:00 Beijing time: the whole of it is left
    assert_refused_in_envelope(
        refused,
        words="Too many requests with an unknown API token came from your address.",
        retry_after=seconds,
    )
    assert (
        call("rs_guess-zh", lang="zh-hans")
        .json()["message"]
        .startswith("您的地址发出了过多带无效 API 令牌的请求。")
    )
    hit = LimitHit.objects.get()
    assert (hit.scope, hit.actor, hit.address, hit.user, hit.refused) == (
        "bearer_failure",
        "address:10.0.0.9",
        "10.0.0.9",
        None,
        2,
    )
    # a valid token still works (tokens cannot be guessed; its callers are not slowed by the count)
    assert call(raw).status_code == 200
    # another address is not affected
    assert call("rs_guess-other", address="10.0.0.10").status_code == 401
    at_now.move_to(NOW + timedelta(seconds=seconds), tick=False)
    assert call("rs_guess-later").status_code == 401


def test_admins_see_every_refusal(cast, at_now, settings):
    limit(settings, "complaint_file", 1)
    orders = [cast.order(trade_success_at=TS) for _ in range(2)]
    file_via_api(cast, orders[0])
    file_via_api(cast, orders[1])
    page = as_user(cast.admin).get("/admin/limits/limithit/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "complaint_file" in text and f"user:{cast.bob.pk}" in text
    assert as_user(cast.admin).get("/admin/limits/limithit/add/").status_code == 403
