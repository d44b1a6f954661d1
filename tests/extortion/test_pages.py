"""The extortion pages of the three portals: filing, answering, deciding, what each side reads, refusals."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from reviewshield.cases import services as case_services
from reviewshield.extortion import services
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from tests.conftest import as_user, local
from tests.extortion.conftest import FILED, TS, answered, file, reviewed_order
from tests.privacy.renderings import ADDRESS, NARRATIVE, assert_nothing_of_bob
from tests.samples import call_records, png, upload


@pytest.fixture(autouse=True)
def _at_filing_time(time_machine):
    time_machine.move_to(FILED, tick=False)


def form_body(order, **overrides):
    body = {
        "order_number": order.external_id,
        "threat": "bad_review",
        "demand": "D-200 yuan or a one-star review",
        "demand_amount": "200",
        "occurred_at": "2026-11-12 05:00",
        "narrative": "N-the buyer demanded money in chat.",
        "evidence_kind": "chat_screenshot",
        "files": [SimpleUploadedFile("demand.png", png())],
    }
    body.update(overrides)
    return body


def text_of(res) -> str:
    return res.content.decode()


def test_the_seller_reports_a_buyer_by_order_number(cast):
    order = reviewed_order(cast)
    seller = as_user(cast.alice)
    page = seller.get("/seller/extortion/")
    assert page.status_code == 200 and 'href="/seller/extortion/new/"' in text_of(page)
    res = seller.post("/seller/extortion/new/", form_body(order), follow=True)
    report = ExtortionReport.objects.get()
    assert res.redirect_chain[-1][0] == f"/seller/extortion/{report.pk}/"
    assert f"Your report {report.reference} was filed." in text_of(res)
    assert (report.order, report.threat, str(report.demand_amount)) == (order, "bad_review", "200.00")
    assert report.occurred_at == local(2026, 11, 12, 5, 0)  # typed in Beijing time
    assert "demand.png" in text_of(res) and "b***b" in text_of(res)


def test_a_refused_report_comes_back_with_the_reason_and_what_was_typed(cast):
    seller = as_user(cast.alice)
    other = cast.order(shop=cast.other_shop, trade_success_at=TS)
    res = seller.post("/seller/extortion/new/", form_body(other))
    assert res.status_code == 422
    assert "None of your shops has an order with this number." in text_of(res)
    assert "N-the buyer demanded money in chat." in text_of(res) and "D-200 yuan" in text_of(res)
    res = seller.post("/seller/extortion/new/", form_body(reviewed_order(cast), files=[]))
    assert res.status_code == 422 and "Add at least one piece of evidence" in text_of(res)
    assert "N-the buyer demanded money in chat." in text_of(res)
    assert not ExtortionReport.objects.exists()
    # a buyer has no such page
    assert as_user(cast.bob).get("/seller/extortion/new/").status_code == 403


def test_the_seller_reads_the_buyers_answer_masked_and_never_their_personal_data(cast):
    report = file(cast, narrative=f"Buyer {cast.bob.real_name} on {cast.bob.phone} wants money.")
    answered(
        cast,
        report,
        text=f"I am {cast.bob.real_name} ({cast.bob.phone}), {cast.bob.address}. A-I asked for nothing.",
        files=[
            upload("chat_screenshot", png(text="GPS 31.2N 121.4E"), "reply.png"),
            call_records(name="calls.csv"),
        ],
    )
    seller = as_user(cast.alice)
    pages = [text_of(seller.get(url)) for url in ("/seller/extortion/", f"/seller/extortion/{report.pk}/")]
    assert "A-I asked for nothing." in pages[1] and "b***b" in pages[1]
    for page in pages:
        for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address, ">bob<"):
            assert private not in page, private
    # the buyer's screenshot comes as its clean copy; call records are for agents only
    links = dict(re.findall(r'href="(/seller/extortion/\d+/evidence/(\d+)/)"', pages[1]))
    assert len(links) == 2  # the seller's own screenshot and the buyer's clean copy
    buyer_items = {e.original_name: e for e in report.evidence.filter(side="buyer")}
    shot = seller.get(f"/seller/extortion/{report.pk}/evidence/{buyer_items['reply.png'].pk}/")
    served = b"".join(shot.streaming_content)
    assert shot.status_code == 200 and b"GPS" not in served
    assert hashlib.sha256(served).hexdigest() == buyer_items["reply.png"].clean_blob_id
    hidden = seller.get(f"/seller/extortion/{report.pk}/evidence/{buyer_items['calls.csv'].pk}/")
    assert hidden.status_code == 404


def test_the_buyer_answers_before_the_deadline_with_a_countdown(cast):
    report = file(cast)
    buyer = as_user(cast.bob)
    assert f'href="/extortion/{report.pk}/"' in text_of(buyer.get("/extortion/"))
    page = text_of(buyer.get(f"/extortion/{report.pk}/"))
    assert "You have this long to answer:" in page and 'class="countdown"' in page
    assert "D-" not in page and "200 yuan, or the one-star review stays" in page  # the seller's statement
    refused = buyer.post(f"/extortion/{report.pk}/answer/", {"text": "  ", "version": report.version})
    assert refused.status_code == 422 and "Write your answer." in text_of(refused)
    res = buyer.post(
        f"/extortion/{report.pk}/answer/",
        {"text": "B-I only asked for a refund.", "version": report.version, "evidence_kind": "chat_screenshot",
         "files": [SimpleUploadedFile("mine.png", png())]},
        follow=True,
    )  # fmt: skip
    assert "Your answer was sent. The platform decides next." in text_of(res)
    report.refresh_from_db()
    assert (
        report.status == ReportStatus.AWAITING_DECISION
        and report.answer_text == "B-I only asked for a refund."
    )
    assert "mine.png" in text_of(res) and "You have this long to answer:" not in text_of(res)


def test_an_answer_after_the_window_is_refused_and_keeps_what_was_typed(cast, time_machine):
    report = file(cast)
    time_machine.move_to(report.answer_by + timedelta(minutes=1), tick=False)
    buyer = as_user(cast.bob)
    assert 'id="answer"' not in text_of(buyer.get(f"/extortion/{report.pk}/"))
    res = buyer.post(f"/extortion/{report.pk}/answer/", {"text": "B-late words", "version": report.version})
    assert res.status_code == 422
    assert "The time to answer ended at 2026-11-15 09:30 (UTC+8)." in text_of(res)
    assert "B-late words" in text_of(res)
    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING_BUYER


def test_the_agent_queue_workspace_take_and_decide(cast):
    soon = answered(cast, file(cast))  # decided by its decision deadline
    later = file(cast)  # answer window first: nearer
    agent = as_user(cast.erin)
    queue = text_of(agent.get("/agent/extortion/"))
    assert queue.index(later.reference) < queue.index(soon.reference)
    page = text_of(agent.get(f"/agent/extortion/{soon.pk}/"))
    for text in (
        "200 yuan, or the one-star review stays",
        "I never asked for money",
        "demand.png",
        "Terrible tea",
    ):
        assert text in page, text
    assert text_of(agent.get(f"/agent/extortion/{later.pk}/")).count('id="decide"') == 0
    agent.post(f"/agent/extortion/{soon.pk}/take/", {"version": soon.version})
    soon.refresh_from_db()
    assert soon.assigned_agent == cast.erin
    refused = agent.post(
        f"/agent/extortion/{soon.pk}/decide/", {"outcome": "uphold", "reasons": " ", "version": soon.version}
    )
    assert refused.status_code == 422 and 'value="uphold" id="outcome-uphold" checked' in text_of(refused)
    res = agent.post(
        f"/agent/extortion/{soon.pk}/decide/",
        {"outcome": "uphold", "reasons": "R-the chat shows it.", "version": soon.version},
        follow=True,
    )
    assert "The decision is recorded; both sides were notified." in text_of(res)
    assert ExtortionReport.objects.get(pk=soon.pk).status == ReportStatus.UPHELD
    assert "This review was found to be extortion" in text_of(res)
    assert later.reference in text_of(agent.get("/agent/extortion/"))
    assert soon.reference not in text_of(agent.get("/agent/extortion/"))  # decided: off the queue


def test_upheld_the_review_is_folded_for_everyone_and_the_seller_sees_the_rating_without_it(cast):
    report = answered(cast, file(cast))
    services.report_decide(report_id=report.pk, agent=cast.erin, outcome="uphold", reasons="R-1", now=FILED)
    folded = "This review was found to be extortion; it is kept but folded and not counted in the rating."
    for who, url in ((cast.alice, f"/seller/extortion/{report.pk}/"), (cast.bob, f"/extortion/{report.pk}/")):
        page = text_of(as_user(who).get(url))
        assert folded in page and '<details class="folded"' in page and "Terrible tea" in page
    ratings = text_of(as_user(cast.alice).get("/seller/extortion/"))
    assert "1 review found to be extortion is left out" in ratings
    assert "found to be extortion: kept, folded, not counted in the rating" in text_of(
        as_user(cast.bob).get("/orders/")
    )


def test_agents_see_the_buyers_strikes_on_their_later_complaint_and_sellers_never(cast):
    report = answered(cast, file(cast))
    services.report_decide(report_id=report.pk, agent=cast.erin, outcome="uphold", reasons="R-1", now=FILED)
    case = case_services.case_file(
        buyer=cast.bob,
        order_id=cast.order(trade_success_at=TS).pk,
        harassment_types=["threats_insults"],
        occurred_at=FILED - timedelta(hours=1),
        narrative="N-9",
        now=FILED,
    )
    page = text_of(as_user(cast.erin).get(f"/agent/cases/{case.pk}/"))
    assert "This buyer has 1 strike for extortion" in page and report.reference in page
    seller_page = text_of(as_user(cast.alice).get(f"/seller/cases/{case.pk}/"))
    assert report.reference not in seller_page and "strike" not in seller_page


def test_the_seller_withdraws_and_adds_evidence_while_open(cast):
    report = file(cast)
    seller = as_user(cast.alice)
    res = seller.post(
        f"/seller/extortion/{report.pk}/evidence/",
        {"evidence_kind": "chat_screenshot", "files": [SimpleUploadedFile("more.png", png())]},
        follow=True,
    )
    assert "1 file added to the evidence." in text_of(res) and "more.png" in text_of(res)
    res = seller.post(
        f"/seller/extortion/{report.pk}/withdraw/",
        {"version": report.version + 1, "confirm": "yes"},
        follow=True,
    )
    assert "Someone else changed this report first." in text_of(res)
    report.refresh_from_db()
    res = seller.post(
        f"/seller/extortion/{report.pk}/withdraw/", {"version": report.version, "confirm": "yes"}, follow=True
    )
    assert "The report was withdrawn; the buyer was told." in text_of(res)
    assert ExtortionReport.objects.get(pk=report.pk).status == ReportStatus.WITHDRAWN
    assert 'name="reason"' not in text_of(res)  # nothing left to withdraw


@pytest.mark.parametrize(
    ("url", "owner", "other_party", "outsider"),
    [
        ("/seller/extortion/{report}/", "alice", ("bob", 403), ("dave", 404)),
        ("/extortion/{report}/", "bob", ("alice", 403), ("carol", 404)),
        ("/agent/extortion/{report}/", "erin", ("alice", 403), ("bob", 403)),
        ("/agent/extortion/", "erin", ("alice", 403), ("bob", 403)),
        ("/agent/extortion/evidence/{evidence}/", "erin", ("alice", 403), ("bob", 403)),
        ("/seller/extortion/{report}/evidence/{evidence}/", "alice", ("bob", 403), ("dave", 404)),
        ("/extortion/{report}/evidence/{evidence}/", "bob", ("alice", 403), ("carol", 404)),
    ],
)
def test_each_page_as_owner_other_party_and_outsider(cast, url, owner, other_party, outsider):
    report = file(cast)
    address = url.format(report=report.pk, evidence=report.evidence.get().pk)
    people = {u.username: u for u in (cast.bob, cast.carol, cast.alice, cast.dave, cast.erin)}
    assert as_user(people[owner]).get(address).status_code == 200
    for name, status in (other_party, outsider):
        assert as_user(people[name]).get(address).status_code == status, name
    anonymous = Client().get(address)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/?next=")


@pytest.mark.parametrize(
    ("url", "who", "status"),
    [
        ("/extortion/{report}/answer/", "carol", 404),
        ("/extortion/{report}/answer/", "alice", 403),
        ("/seller/extortion/{report}/withdraw/", "dave", 404),
        ("/seller/extortion/{report}/withdraw/", "bob", 403),
        ("/seller/extortion/{report}/evidence/", "dave", 404),
        ("/extortion/{report}/evidence/", "carol", 404),
        ("/agent/extortion/{report}/decide/", "alice", 403),
        ("/agent/extortion/{report}/take/", "bob", 403),
    ],
)
def test_actions_refuse_everyone_but_their_party(cast, url, who, status):
    report = file(cast)
    person = {u.username: u for u in (cast.bob, cast.carol, cast.alice, cast.dave)}[who]
    res = as_user(person).post(
        url.format(report=report.pk), {"text": "t", "outcome": "reject", "reasons": "r"}
    )
    assert res.status_code == status
    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING_BUYER and report.events.count() == 3


def test_list_pages_cost_the_same_queries_however_many_reports(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(who, url):
        client = as_user(who)
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    file(cast)
    pages = [(cast.erin, "/agent/extortion/"), (cast.alice, "/seller/extortion/"), (cast.bob, "/extortion/"),
             (cast.alice, "/api/extortion"), (cast.erin, "/api/extortion")]  # fmt: skip
    few = [queries(who, url) for who, url in pages]
    for _ in range(4):
        answered(cast, file(cast))
    assert [queries(who, url) for who, url in pages] == few


def test_the_seller_reads_no_rendering_of_the_buyers_data_in_a_report(cast):
    type(cast.bob).objects.filter(pk=cast.bob.pk).update(address=ADDRESS)
    report = file(cast)
    answered(cast, report, text=NARRATIVE)
    services.report_decide(
        report_id=report.pk,
        agent=cast.erin,
        outcome="reject",
        reasons="Wang Xiaoming (138.0013.8000, 3号楼 1202室) asked for nothing.",
        now=report.filed_at + timedelta(hours=3),
    )
    seller = as_user(cast.alice)
    page = text_of(seller.get(f"/seller/extortion/{report.pk}/"))
    api = seller.get(f"/api/extortion/{report.pk}").json()
    assert_nothing_of_bob(page)
    assert_nothing_of_bob(json.dumps(api, ensure_ascii=False))
    assert "卖家天天打电话骚扰我" in api["answer_text"] and "asked for nothing" in api["decision"]["reasons"]
    assert "asked for nothing" in page
