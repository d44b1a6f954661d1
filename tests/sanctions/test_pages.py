"""The sanctions pages: the seller's points and penalties, appeals from the case pages, the agent's
appeals queue and decision, and compensation orders."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from reviewshield.cases.models import CaseStatus
from reviewshield.sanctions import appeals
from reviewshield.sanctions.models import AppealStatus, Compensation
from tests.conftest import as_user
from tests.sanctions.conftest import START, decide

LATER = START + timedelta(days=1)


@pytest.fixture
def upheld(cast, time_machine):
    """A serious upheld complaint against alice's shop (12 class-A points: a node penalty), a day old."""
    case = decide(cast, "serious", START)
    time_machine.move_to(LATER, tick=False)
    return case


def sanctions_page(user, shop) -> str:
    res = as_user(user).get(f"/seller/shops/{shop.pk}/sanctions/")
    assert res.status_code == 200
    return res.content.decode()


def test_seller_sees_points_penalty_and_its_measures_but_no_buyer_data(cast, upheld):
    page = sanctions_page(cast.alice, cast.shop)
    # given 12 class-A points this year, the A-every-12 node is in force with its measures in words
    assert re.search(r'id="points-a">12<', page) and re.search(r'id="points-b">0<', page)
    for words in (
        "The shop is left out of search results",
        "Listing new items is restricted",
        "A public warning is shown on the shop",
        "When the period ends and you have passed the rules exam",
        "2026-03-02 10:00",  # since
        "2026-03-09 10:00",  # until: 7 days
    ):
        assert words in page, words
    # the ledger line and the compensation name the case and the order, never the buyer
    assert page.count(upheld.reference) >= 3 and upheld.order.external_id in page and "¥300.00" in page
    for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, ">bob<", " bob "):
        assert private not in page


def test_only_the_shops_seller_may_open_its_sanctions_page(cast, upheld):
    assert as_user(cast.dave).get(f"/seller/shops/{cast.shop.pk}/sanctions/").status_code == 404
    assert as_user(cast.bob).get(f"/seller/shops/{cast.shop.pk}/sanctions/").status_code == 403
    assert as_user(cast.alice).get("/seller/shops/999999/sanctions/").status_code == 404
    # alice's other shop has nothing against it
    page = sanctions_page(cast.alice, cast.jd_shop)
    assert "No penalty is in force." in page and "No points so far." in page
    # and the seller's portal links each shop's page
    cases = as_user(cast.alice).get("/seller/cases/").content.decode()
    assert (
        f"/seller/shops/{cast.shop.pk}/sanctions/" in cases
        and f"/seller/shops/{cast.jd_shop.pk}/sanctions/" in cases
    )


def test_buyer_appeals_through_the_case_page_and_sees_it_waiting(cast, upheld):
    buyer = as_user(cast.bob)
    page = buyer.get(f"/cases/{upheld.pk}/").content.decode()
    assert "Appeal this decision" in page and "You may appeal until 2026-03-17 10:00 (Beijing time)." in page
    res = buyer.post(
        f"/cases/{upheld.pk}/appeal/",
        {
            "reasons": "Twelve points are too few for what he did.",
            "evidence_kind": "statement",
            "files": [SimpleUploadedFile("more.txt", b"He called again after the decision.", "text/plain")],
        },
        follow=True,
    )
    page = res.content.decode()
    appeal = upheld.appeals.get()
    assert appeal.side == "buyer" and appeal.status == AppealStatus.PENDING
    assert "Your appeal was filed." in page and "Waiting for a senior agent" in page
    assert "Twelve points are too few" in page and 'id="appeal-form"' not in page
    assert f"A senior agent decides by {appeal.decide_by.astimezone(START.tzinfo):%Y-%m-%d %H:%M}" in page
    assert upheld.evidence.filter(side="buyer", original_name="more.txt").exists()
    assert 'id="ev-files"' in page  # either side may add evidence while the appeal waits
    assert "An appeal against the decision was filed" in page  # the timeline
    # the seller reads that the buyer appealed, not the buyer's reasons
    seller = as_user(cast.alice).get(f"/seller/cases/{upheld.pk}/").content.decode()
    assert "The buyer's appeal" in seller and "Twelve points" not in seller
    assert "An appeal on this complaint is already waiting for a decision." in seller


def test_a_refused_appeal_keeps_what_was_written(cast, upheld):
    res = as_user(cast.bob).post(
        f"/cases/{upheld.pk}/appeal/",
        {"reasons": "Keep this text.", "files": [SimpleUploadedFile("a.txt", b"x", "text/plain")]},
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert "Say what kind of evidence the files are." in page and ">Keep this text.</textarea>" in page
    assert not upheld.appeals.exists()


def test_an_appeal_after_the_window_is_a_message_not_an_error(cast, upheld, time_machine):
    time_machine.move_to(START + timedelta(days=16), tick=False)
    seller = as_user(cast.alice)
    page = seller.get(f"/seller/cases/{upheld.pk}/").content.decode()
    assert 'id="appeal-form"' not in page and "The appeal window ended on" in page
    res = seller.post(f"/seller/cases/{upheld.pk}/appeal/", {"reasons": "We only saw it now."})
    assert res.status_code == 422
    assert "The appeal window ended on 2026-03-17 10:00 (UTC+8)." in res.content.decode()
    assert not upheld.appeals.exists()


def test_the_seller_has_nothing_to_appeal_in_a_rejection(cast, time_machine):
    case = decide(cast, None, START, outcome="reject")
    time_machine.move_to(LATER, tick=False)
    seller = as_user(cast.alice)
    assert 'id="appeal-form"' not in seller.get(f"/seller/cases/{case.pk}/").content.decode()
    res = seller.post(f"/seller/cases/{case.pk}/appeal/", {"reasons": "Just in case."})
    assert res.status_code == 422
    assert "The complaint was rejected; there is nothing for the seller to appeal." in res.content.decode()
    # the buyer may appeal it
    assert 'id="appeal-form"' in as_user(cast.bob).get(f"/cases/{case.pk}/").content.decode()


def test_a_senior_agent_overturns_through_the_page_and_the_penalty_goes(cast, upheld):
    appeal = appeals.appeal_file(
        case_id=upheld.pk, user=cast.alice, reasons="The courier called, not us.", now=LATER
    )
    senior = as_user(cast.frank)
    queue = senior.get("/agent/appeals/").content.decode()
    assert f'href="/agent/appeals/{appeal.pk}/"' in queue and upheld.reference in queue
    page = senior.get(f"/agent/appeals/{appeal.pk}/").content.decode()
    assert 'id="decide-appeal"' in page and "The courier called, not us." in page
    assert f'href="/agent/cases/{upheld.pk}/"' in page
    res = senior.post(
        f"/agent/appeals/{appeal.pk}/decide/",
        {"outcome": "overturned", "reasons": "The call log shows the courier.", "version": appeal.version},
        follow=True,
    )
    assert "The appeal is decided; both sides were notified." in res.content.decode()
    upheld.refresh_from_db()
    assert upheld.status == CaseStatus.REJECTED
    with translation.override("en"):
        rejected = str(CaseStatus.REJECTED.label)
    buyer = as_user(cast.bob).get(f"/cases/{upheld.pk}/").content.decode()
    assert rejected in buyer and "Overturned" in buyer and "The call log shows the courier." in buyer
    page = sanctions_page(cast.alice, cast.shop)
    assert "No penalty is in force." in page and re.search(r'id="points-a">0<', page)
    assert "Reversed on appeal" in page and "Appeal decision" in page and "-12" in page
    assert "The shop is left out of search results" in page  # the reversed penalty, in the history
    decided = senior.get("/agent/appeals/?status=decided").content.decode()
    assert f'href="/agent/appeals/{appeal.pk}/"' in decided


def test_a_decision_on_a_stale_appeal_page_says_so_and_keeps_the_reasons(cast, upheld):
    appeal = appeals.appeal_file(case_id=upheld.pk, user=cast.alice, reasons="No.", now=LATER)
    res = as_user(cast.frank).post(
        f"/agent/appeals/{appeal.pk}/decide/",
        {"outcome": "stands", "reasons": "Written on an old page.", "version": appeal.version - 1},
    )
    assert res.status_code == 422
    page = res.content.decode()
    assert "Someone else changed this case first." in page and ">Written on an old page.</textarea>" in page
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING


@pytest.mark.parametrize(
    ("who", "sentence"),
    [
        ("erin", "Only a senior agent decides appeals."),
        ("frank", "You made the first decision; another senior agent must decide the appeal."),
    ],
)
def test_who_may_not_decide_reads_the_appeal_without_a_form(cast, time_machine, who, sentence):
    case = decide(cast, "serious", START, agent=cast.frank if who == "frank" else cast.erin)
    time_machine.move_to(LATER, tick=False)
    appeal = appeals.appeal_file(case_id=case.pk, user=cast.alice, reasons="Not us.", now=LATER)
    agent = as_user(getattr(cast, who))
    page = agent.get(f"/agent/appeals/{appeal.pk}/").content.decode()
    assert 'id="decide-appeal"' not in page and sentence in page and "Not us." in page
    res = agent.post(
        f"/agent/appeals/{appeal.pk}/decide/",
        {"outcome": "overturned", "reasons": "x", "version": appeal.version},
    )
    assert res.status_code == 422 and sentence in res.content.decode()
    appeal.refresh_from_db()
    assert appeal.status == AppealStatus.PENDING


def test_the_queue_marks_overdue_appeals_in_a_fixed_number_of_queries(cast, upheld, time_machine):
    first = appeals.appeal_file(case_id=upheld.pk, user=cast.alice, reasons="One.", now=LATER)
    time_machine.move_to(first.decide_by + timedelta(hours=1), tick=False)
    agent = as_user(cast.erin)
    with CaptureQueriesContext(connection) as one:
        page = agent.get("/agent/appeals/").content.decode()
    assert "Overdue" in page
    for _ in range(3):
        other = decide(cast, "ordinary", first.decide_by)
        appeals.appeal_file(case_id=other.pk, user=cast.alice, reasons="More.", now=first.decide_by)
    with CaptureQueriesContext(connection) as four:
        page = agent.get("/agent/appeals/").content.decode()
    assert len(re.findall(r'href="/agent/appeals/\d+/"', page)) == 4
    assert len(one) == len(four)


def test_an_agent_marks_compensation_paid_from_the_list(cast, upheld):
    comp = Compensation.objects.get(case=upheld)
    agent = as_user(cast.erin)
    page = agent.get("/agent/compensations/?status=due").content.decode()
    assert upheld.reference in page and upheld.order.external_id in page and "¥300.00" in page
    assert 'href="/api/compensations.csv?status=due"' in page and f'href="/agent/cases/{upheld.pk}/"' in page
    res = agent.post(
        f"/agent/compensations/{comp.pk}/paid/",
        {"payment_reference": "PAY-0042", "next": "/agent/compensations/?status=due"},
        follow=True,
    )
    assert res.redirect_chain[-1][0] == "/agent/compensations/?status=due"
    assert f"The compensation for {upheld.reference} (order {upheld.order.external_id}) is marked paid." in (
        res.content.decode()
    )
    comp.refresh_from_db()
    assert comp.status == "paid" and comp.payment_reference == "PAY-0042"
    # a second click says why nothing happened; a foreign `next` is ignored
    res = agent.post(f"/agent/compensations/{comp.pk}/paid/", {"next": "https://evil.example/"}, follow=True)
    assert res.redirect_chain[-1][0] == "/agent/compensations/"
    assert "Only a compensation that is due can be marked paid" in res.content.decode()
    # the CSV the page links to opens with the agent's session
    csv = agent.get("/api/compensations.csv?status=paid")
    assert csv.status_code == 200 and upheld.reference in csv.content.decode("utf-8-sig")
    # the seller reads it as paid on the shop's page (the marketplace's payment reference stays here)
    page = sanctions_page(cast.alice, cast.shop)
    assert "Paid" in page and "PAY-0042" not in page


def test_sellers_and_buyers_are_kept_off_the_agent_pages(cast, upheld):
    comp = Compensation.objects.get(case=upheld)
    appeal = appeals.appeal_file(case_id=upheld.pk, user=cast.alice, reasons="No.", now=LATER)
    for person in (cast.alice, cast.bob):
        client = as_user(person)
        for url in ("/agent/appeals/", f"/agent/appeals/{appeal.pk}/", "/agent/compensations/"):
            assert client.get(url).status_code == 403, url
        assert client.post(f"/agent/compensations/{comp.pk}/paid/").status_code == 403
        assert (
            client.post(f"/agent/appeals/{appeal.pk}/decide/", {"outcome": "overturned"}).status_code == 403
        )
    comp.refresh_from_db()
    appeal.refresh_from_db()
    assert comp.status == "due" and appeal.status == AppealStatus.PENDING
    assert as_user(cast.erin).get("/agent/appeals/999999/").status_code == 404
