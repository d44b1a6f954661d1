"""In-app notifications: every person sees theirs in the header and on one page, in both languages,
opens one (it is then read, and its page opens), marks them all read — and a seller's never name
the buyer. The same through the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import translation

from reviewshield.cases import services
from reviewshield.outbox.models import Notification
from reviewshield.outbox.texts import _TEXTS, notification_link, notification_text
from tests.conftest import as_user, local

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
        narrative=f"He threatened me. I am {cast.bob.real_name}, phone {cast.bob.phone}.",
        now=NOW,
    )


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Notifications", "filed harassment complaint", "Answer by", "Mark all as read"]),
        ("zh-hans", ["通知", "维权", "请在", "全部标为已读"]),
    ],
)
def test_the_seller_sees_the_new_complaint_in_the_header_and_on_the_page(cast, case, lang, words):
    seller = as_user(cast.alice, lang)
    home = seller.get("/seller/cases/").content.decode()
    assert 'class="unread-count">1<' in home  # the header, on every page
    page = seller.get("/notifications/").content.decode()
    for w in words:
        assert w in page
    assert case.reference in page
    assert "2026-11" in page  # the answer-by time, in Beijing time
    for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, ">bob<", " bob "):
        assert private not in page


def test_opening_a_notification_reads_it_and_leads_to_the_case(cast, case):
    seller = as_user(cast.alice)
    note = Notification.objects.get(recipient=cast.alice, kind="case.filed")
    response = seller.get(f"/notifications/{note.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/seller/cases/{case.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'class="unread-count"' not in seller.get("/seller/cases/").content.decode()
    # The buyer's side of the same complaint: the seller's proposal leads to the buyer's own case page.
    services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="settlement",
        text="Refund 20 yuan.",
        now=NOW + timedelta(hours=1),
    )
    buyer = as_user(cast.bob)
    page = buyer.get("/notifications/").content.decode()
    assert "proposed a settlement" in page and case.reference in page
    mine = Notification.objects.get(recipient=cast.bob, kind="case.answered_settlement")
    assert buyer.get(f"/notifications/{mine.pk}/")["Location"] == f"/cases/{case.pk}/"


def test_nobody_opens_or_reads_another_persons_notification(cast, case):
    note = Notification.objects.get(recipient=cast.alice, kind="case.filed")
    for other in (cast.dave, cast.bob, cast.erin):
        assert as_user(other).get(f"/notifications/{note.pk}/").status_code == 404
        assert case.reference not in as_user(other).get("/notifications/").content.decode()
    as_user(cast.dave).post("/notifications/read-all/")
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_as_read(cast, case):
    services.case_withdraw(
        case_id=case.pk, buyer=cast.bob, reason="Sorted out.", now=NOW + timedelta(hours=1)
    )
    seller = as_user(cast.alice, "zh-hans")
    assert Notification.objects.filter(recipient=cast.alice, read_at__isnull=True).count() == 2
    response = seller.post("/notifications/read-all/", follow=True)
    assert "2 条通知已标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=cast.alice, read_at__isnull=True).exists()
    page = seller.get("/notifications/").content.decode()
    assert "全部标为已读" not in page and "撤回" in page  # still listed, no longer new
    assert seller.get("/notifications/read-all/").status_code == 405  # a change is never a GET


def test_logged_out_people_are_sent_to_log_in(db):
    from django.test import Client

    assert Client().get("/notifications/")["Location"].startswith("/login/")


def test_the_api_lists_them_in_the_readers_language_and_marks_them_read(cast, case):
    from django.test import Client

    seller = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    seller.force_login(cast.alice)
    listed = seller.get("/api/notifications?unread=true").json()
    assert listed["count"] == 1
    item = listed["items"][0]
    assert item["kind"] == "case.filed" and item["case_reference"] == case.reference
    assert "维权" in item["text"] and item["link"] == f"/seller/cases/{case.pk}/" and not item["read"]
    # Someone else's ids are not marked (and not counted).
    other = Client()
    other.force_login(cast.dave)
    answer = other.post(
        "/api/notifications/read", json.dumps({"ids": [item["id"]]}), content_type="application/json"
    )
    assert answer.status_code == 200 and answer.json() == {"marked": 0}
    answer = seller.post(
        "/api/notifications/read", json.dumps({"ids": [item["id"]]}), content_type="application/json"
    )
    assert answer.json() == {"marked": 1}
    assert seller.get("/api/notifications?unread=true").json()["count"] == 0
    assert seller.get("/api/notifications").json()["items"][0]["read"] is True
    bad = seller.post("/api/notifications/read", json.dumps({"ids": ["x"]}), content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"]


SAMPLE_PARAMS = {
    "respond_by": "2026-11-15T09:00:00+00:00",
    "outcome": "uphold",
    "findings": 3,
    "expires_at": "2026-11-20T09:00:00+00:00",
    "path": "/file/abc/",
    "side": "buyer",
    "shop": 1,
    "applied": 1,
    "lifted": 2,
    "alert": "AL2611120001",
    "message": "Stop messaging this buyer.",
    "report": "EX2611120001",
    "answer_by": "2026-11-15T09:00:00+00:00",
}


@pytest.mark.parametrize("kind", sorted(_TEXTS))
def test_every_kind_reads_as_a_sentence_in_both_languages(kind):
    texts = {}
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            texts[lang] = notification_text(kind, SAMPLE_PARAMS, "RS2611120001")
            assert notification_text(kind, {}, None)  # even without its parameters
    assert texts["en"] != texts["zh-hans"], texts
    assert "%(" not in texts["en"] and "%(" not in texts["zh-hans"]


def test_every_kind_the_system_sends_has_its_own_sentence():
    """The kinds `notify` is called with, read from the code: a new kind without a sentence here
    would fall back to the generic one."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "src" / "reviewshield"
    sent: set[str] = set()
    for path in root.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for call in re.finditer(r"notify\((.{0,400}?)\)\n", source, re.S):
            found = re.search(r'kind="([a-z_.]+)"(?:\s*\+\s*(.+))?', call.group(1))
            if not found:
                continue
            if found.group(2):  # "case.answered_" + kind, "case.settlement_" + (...)
                sent.update(k for k in _TEXTS if k.startswith(found.group(1)))
            else:
                sent.add(found.group(1))
    assert len(sent) >= 20
    assert sent <= set(_TEXTS), sent - set(_TEXTS)


def test_an_unknown_kind_still_says_something_and_links_only_to_safe_places():
    with translation.override("en"):
        assert notification_text("something.new", {}, "RS1") == "There is news on complaint RS1."
        assert notification_text("something.new", {}, None) == "There is news for you."
    assert (
        notification_link(
            "assisted_link.issued", {"path": "//evil.example/x"}, case_id=None, role="buyer", is_agent=False
        )
        is None
    )
    assert notification_link("case.filed", {}, case_id=7, role="agent", is_agent=True) == "/agent/cases/7/"
    assert notification_link("case.filed", {}, case_id=7, role="system", is_agent=False) is None
