"""The journeys of the portals, each by real people in real headless Chromium, in zh-Hans and en.

1. The buyer files with two evidence files → the seller answers B → an agent upholds → the buyer
   sees the decision.
2. A buyer outside the window is refused → an agent issues an assisted link → the buyer files through it.
3. The seller never answers → the worker moves the case on → an agent decides; the buyer's countdown
   and the agent's self-refreshing queue show each stage.
4. The seller appeals an upheld complaint → a senior agent overturns it → the shop's penalty is gone.
5. A seller reports a buyer's extortion → the buyer answers → an agent upholds → the seller sees the
   review folded and left out of the shop's rating.

Every person has a browser of their own (own cookies); screenshots of every step go to
test-artifacts/screenshots/.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect

from reviewshield.cases.models import AssistedRequest, Case, CaseStatus
from reviewshield.deadlines.worker import run_worker
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from reviewshield.marketplace import services as market
from reviewshield.web.templatetags.rs import time_left_text
from tests.samples import png
from tests.sanctions.conftest import decide


def tr(lang: str, text: str) -> str:
    """What the page says for `text` in `lang` (the catalogue's own translation)."""
    with translation.override(lang):
        return gettext(text)


def file_through_the_form(buyer, lang: str, *, kind: str, narrative: str, files=(), evidence_kind="") -> None:
    buyer.get_by_label(tr(lang, kind)).check()
    buyer.locator("#id_occurred_at").fill(timezone.localtime(timezone.now()).strftime("%Y-%m-%dT%H:%M"))
    buyer.locator("#id_narrative").fill(narrative)
    if files:
        buyer.locator("#id_files").set_input_files([str(f) for f in files])
        buyer.locator("#id_evidence_kind").select_option(evidence_kind)
    buyer.shot("form-filled")
    buyer.follow(buyer.get_by_role("button", name=tr(lang, "File the complaint")))
    buyer.wait_for_url("**/cases/*/")


@pytest.mark.django_db(transaction=True)
def test_journey_1_file_answer_b_uphold_and_the_buyer_reads_the_decision(cast, open_as, lang, tmp_path):
    order = cast.order(trade_success_at=timezone.now() - timedelta(days=2))
    (tmp_path / "sms.png").write_bytes(png())
    (tmp_path / "calls.csv").write_text("time,number\n2026-11-20 23:10,+86 171 0000 0000\n")
    (tmp_path / "refund.txt").write_text("Refund sent on the 20th.")

    # The buyer, on a phone, files from "My orders" with two evidence files.
    buyer = open_as("bob", "/orders/")
    assert order.external_id in buyer.content()
    buyer.shot("orders")
    buyer.follow(buyer.get_by_role("link", name=tr(lang, "Complain about the seller")))
    file_through_the_form(
        buyer,
        lang,
        kind="Phone or SMS bombing",
        narrative=f"差评后一晚收到两百多条验证码短信，我的号码 {cast.bob.phone}。 200 codes in one night.",
        files=[tmp_path / "sms.png"],
        evidence_kind="sms_photo",
    )
    case = Case.objects.get(order=order)
    page = buyer.content()
    assert case.reference in page and "sms.png" in page
    assert buyer.locator("time.countdown").first.inner_text().strip()
    buyer.shot("filed")

    # ... and adds the call records on the complaint's page.
    buyer.locator("#ev-kind").select_option("call_records")
    buyer.locator("#ev-files").set_input_files(str(tmp_path / "calls.csv"))
    buyer.follow(buyer.get_by_role("button", name=tr(lang, "Add evidence")))
    assert "calls.csv" in buyer.content()
    buyer.shot("evidence-added")

    # The seller hears of it in the header of every page, opens the notification, lands on the
    # complaint with the buyer masked, and answers B with evidence.
    seller = open_as("alice", "/seller/cases/")
    seller.shot("list")
    expect(seller.locator("header .unread-count")).to_have_text("1")
    seller.follow(seller.locator("header a.notifications-link"))
    expect(seller.locator("ol.notifications li.unread")).to_contain_text(case.reference)
    seller.shot("notifications")
    seller.follow(seller.get_by_role("link", name=tr(lang, "Go to it")))
    assert seller.locator("header .unread-count").count() == 0  # read now
    page = seller.content()
    assert case.reference in page
    assert cast.bob.phone not in page and cast.bob.real_name not in page and cast.bob.username not in page
    assert cast.bob.public_alias in page
    seller.shot("case-masked")
    seller.get_by_label(tr(lang, "B: defend with an explanation")).check()
    seller.locator("#answer-text").fill("我们只在退款时联系过一次。 We called once about the refund.")
    seller.locator("#answer-files").set_input_files(str(tmp_path / "refund.txt"))
    seller.locator("#answer-kind").select_option("statement")
    seller.follow(seller.get_by_role("button", name=tr(lang, "Send the answer")))
    assert tr(lang, "Your answer was sent.") in seller.content()
    seller.shot("answered")

    # The agent finds it in the queue, reads both sides, takes it and upholds it as serious.
    agent = open_as("erin", "/agent/")
    row = agent.locator("table.queue tr", has=agent.get_by_role("link", name=case.reference))
    expect(row).to_contain_text(tr(lang, "With the platform"))
    agent.shot("queue")
    agent.follow(agent.get_by_role("link", name=case.reference))
    page = agent.content()
    for text in ("sms.png", "calls.csv", "refund.txt", "We called once about the refund.", order.external_id):
        assert text in page, text
    agent.shot("workspace")
    agent.follow(agent.get_by_role("button", name=tr(lang, "Take this case")))
    agent.locator("#outcome-uphold").check()
    agent.locator("#tier-serious").check()
    agent.locator("#reasons").fill("短信记录与差评时间吻合。 The SMS log matches the review time.")
    agent.shot("deciding")
    agent.follow(agent.get_by_role("button", name=tr(lang, "Record the decision")))
    assert tr(lang, "The decision is recorded; both sides were notified.") in agent.content()
    agent.shot("decided")

    # The buyer sees the decision, its reasons and what it costs the seller.
    buyer.reload()
    page = buyer.content()
    with translation.override(lang):
        assert pgettext("case status", "Upheld") in page
    assert "The SMS log matches the review time." in page
    case.refresh_from_db()
    assert case.status == CaseStatus.UPHELD and case.points == 12
    assert str(case.points) in buyer.locator("main").inner_text()
    buyer.shot("decision")


@pytest.mark.django_db(transaction=True)
def test_journey_2_refused_outside_the_window_then_filed_through_an_assisted_link(cast, open_as, lang):
    late = cast.order(trade_success_at=timezone.now() - timedelta(days=40))

    buyer = open_as("bob", "/orders/")
    buyer.shot("orders-window-ended")
    buyer.follow(buyer.get_by_role("link", name=tr(lang, "What can I do?")))
    page = buyer.content()
    assert tr(lang, "This complaint cannot be filed here") in page
    assert (
        tr(
            lang,
            "Ask an agent to open an assisted complaint: use the form below. They will send you a filing link.",
        )
        in page
    )
    assert not Case.objects.exists()
    buyer.shot("refused")
    buyer.locator("#request-description").fill("期限过后有人寄来冥币。 Hell money came after the window.")
    buyer.follow(buyer.get_by_role("button", name=tr(lang, "Ask an agent for an assisted complaint")))
    assert tr(lang, "Waiting for an agent") in buyer.content()
    buyer.shot("assisted-requested")
    request = AssistedRequest.objects.get(order=late)

    agent = open_as("erin", "/agent/")
    agent.follow(agent.locator("a[href$='#requests']"))
    assert "Hell money came after the window." in agent.content()
    agent.shot("request-waiting")
    agent.locator(f"#request-reason-{request.pk}").fill(
        "买家住院，聊天记录为证。 The buyer was in hospital; the chat shows it."
    )
    agent.follow(agent.get_by_role("button", name=tr(lang, "Issue a filing link")).first)
    link = agent.locator("#issued-url").input_value()
    assert "/file/" in link
    agent.shot("link-issued")

    buyer.goto(link)
    assert tr(lang, "Assisted complaint: an agent opened this for you.") in buyer.content()
    buyer.shot("assisted-form")
    file_through_the_form(
        buyer, lang, kind="Threats or insults", narrative="他说知道我住哪。 He said he knows where I live."
    )
    case = Case.objects.get(order=late)
    assert case.reference in buyer.content() and case.assisted_link.issued_by == cast.erin
    buyer.shot("filed")

    buyer.goto(link)  # single use
    assert tr(lang, "This filing link cannot be used") in buyer.content()
    buyer.shot("link-used")


@pytest.mark.django_db(transaction=True)
def test_journey_3_no_answer_the_worker_moves_it_on_and_an_agent_decides(
    cast, open_as, lang, settings, time_machine
):
    settings.REVIEWSHIELD_QUEUE_REFRESH_SECONDS = 1
    order = cast.order(trade_success_at=timezone.now() - timedelta(days=2))

    buyer = open_as("bob", f"/orders/{order.pk}/complain/")
    file_through_the_form(buyer, lang, kind="Threats or insults", narrative="他威胁我。 He threatened me.")
    case = Case.objects.get(order=order)
    with translation.override(lang):
        expected = time_left_text(case.respond_by, timezone.now())
    card = buyer.locator("main .card").first
    expect(card).to_contain_text(tr(lang, "The seller has this long to answer:"))
    expect(card.locator("time.countdown")).to_have_text(expected)
    buyer.shot("seller-has-time")

    agent = open_as("erin", "/agent/")
    row = agent.locator("table.queue tr", has=agent.get_by_role("link", name=case.reference))
    expect(row).to_contain_text(tr(lang, "Waiting for the seller"))
    agent.shot("queue-waiting")

    # The seller never answers. Time passes the answer window; the deadline worker runs.
    time_machine.move_to(case.respond_by + timedelta(minutes=1), tick=True)
    settled = run_worker(name="journey", batch=50, idle_sleep=0, stop=threading.Event(), max_idle_loops=1)
    assert settled >= 1
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION and case.events.filter(kind="no_answer").exists()

    # The agent's open queue refreshes itself: the same row now says the platform has it.
    expect(row).to_contain_text(tr(lang, "With the platform"), timeout=15_000)
    agent.shot("queue-moved-on")

    buyer.reload()
    page = buyer.content()
    assert tr(lang, "The platform will decide within:") in page
    assert tr(lang, "The seller did not answer in time; the case went to the platform") in page
    buyer.shot("platform-decides")

    agent.follow(agent.get_by_role("link", name=case.reference))
    assert tr(lang, "No answer in time") in agent.content()
    agent.locator("#outcome-uphold").check()
    agent.locator("#tier-ordinary").check()
    agent.locator("#reasons").fill(
        "商家未回应，买家证据可信。 No answer from the seller; the buyer's account is credible."
    )
    agent.follow(agent.get_by_role("button", name=tr(lang, "Record the decision")))
    agent.shot("decided")

    agent.goto(agent.base + "/agent/")
    expect(agent.get_by_role("link", name=case.reference)).to_have_count(0)  # decided: off the queue
    agent.shot("queue-after")

    buyer.reload()
    assert "No answer from the seller; the buyer's account is credible." in buyer.content()
    buyer.shot("decision")


@pytest.mark.django_db(transaction=True)
def test_journey_4_the_seller_appeals_a_senior_agent_overturns_and_the_penalty_goes(cast, open_as, lang):
    case = decide(cast, "serious", timezone.now())  # 12 class-A points: the shop is hidden for 7 days
    sanctions = f"/seller/shops/{cast.shop.pk}/sanctions/"

    seller = open_as("alice", sanctions)
    expect(seller.locator("#in-force")).to_contain_text(tr(lang, "The shop is left out of search results"))
    seller.shot("penalty-in-force")
    seller.goto(f"{seller.base}/seller/cases/{case.pk}/")
    seller.locator("#appeal-reasons").fill("是快递员打的电话，不是我们。 The courier called, not us.")
    seller.shot("appealing")
    seller.follow(seller.get_by_role("button", name=tr(lang, "File the appeal")))
    expect(seller.locator("main")).to_contain_text(tr(lang, "Waiting for a senior agent"))
    seller.shot("appealed")

    senior = open_as("frank", "/agent/appeals/")
    senior.shot("appeals")
    senior.follow(senior.get_by_role("link", name=case.reference))
    assert "The courier called, not us." in senior.content()
    senior.locator("#outcome-overturned").check()
    senior.locator("#appeal-decision-reasons").fill("通话记录显示是快递员。 The call log shows the courier.")
    senior.follow(senior.get_by_role("button", name=tr(lang, "Record the appeal decision")))
    assert tr(lang, "The appeal is decided; both sides were notified.") in senior.content()
    senior.shot("overturned")
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED

    seller.goto(seller.base + sanctions)
    expect(seller.locator("#in-force")).to_contain_text(tr(lang, "No penalty is in force."))
    seller.shot("penalty-gone")


@pytest.mark.django_db(transaction=True)
def test_journey_5_a_seller_reports_extortion_the_buyer_answers_an_agent_upholds_and_the_review_folds(
    cast, open_as, lang, tmp_path
):
    order = cast.order(trade_success_at=timezone.now() - timedelta(days=2))
    posted = timezone.now() - timedelta(days=1)
    market.review_upsert(
        platform="taobao",
        order_external_id=order.external_id,
        external_id="R-1",
        rating="bad",
        text="一星！不给 200 元不改。 One star until I get 200 yuan.",
        anonymous=False,
        posted_at=posted,
        now=posted,
    )
    (tmp_path / "demand.png").write_bytes(png())
    (tmp_path / "reply.png").write_bytes(png(color=(20, 160, 60)))

    # The seller reports the buyer from the extortion page, picking the order by its number.
    seller = open_as("alice", "/seller/extortion/")
    seller.shot("list")
    seller.follow(seller.get_by_role("link", name=tr(lang, "Report buyer extortion")))
    seller.locator("#id_order_number").fill(order.external_id)
    seller.locator("#threat-bad_review").check()
    seller.locator("#id_demand").fill("200 元，否则不改差评 / 200 yuan or the review stays")
    seller.locator("#id_demand_amount").fill("200")
    seller.locator("#id_occurred_at").fill(timezone.localtime(posted).strftime("%Y-%m-%dT%H:%M"))
    seller.locator("#id_narrative").fill("买家在聊天里索要 200 元。 The buyer asked for 200 yuan in chat.")
    seller.locator("#id_files").set_input_files(str(tmp_path / "demand.png"))
    seller.locator("#id_evidence_kind").select_option("chat_screenshot")
    seller.shot("form-filled")
    seller.follow(seller.get_by_role("button", name=tr(lang, "File the report")))
    seller.wait_for_url("**/seller/extortion/*/")
    report = ExtortionReport.objects.get(order=order)
    assert report.reference in seller.content() and "demand.png" in seller.content()
    seller.shot("filed")

    # The buyer reads the seller's statement and answers before the countdown runs out.
    buyer = open_as("bob", "/extortion/")
    buyer.follow(buyer.get_by_role("link", name=report.reference))
    status = buyer.locator("#report-status")
    expect(status).to_contain_text(tr(lang, "You have this long to answer:"))
    assert status.locator("time.countdown").inner_text().strip()
    assert "The buyer asked for 200 yuan in chat." in buyer.content()
    buyer.shot("to-answer")
    buyer.locator("#answer-text").fill(
        f"我只要求退款。 I only asked for a refund. 电话 {cast.bob.phone}，{cast.bob.real_name}"
    )
    buyer.locator("#answer-files").set_input_files(str(tmp_path / "reply.png"))
    buyer.locator("#answer-kind").select_option("chat_screenshot")
    buyer.follow(buyer.get_by_role("button", name=tr(lang, "Send my answer")))
    assert tr(lang, "Your answer was sent. The platform decides next.") in buyer.content()
    buyer.shot("answered")

    # The agent finds it in the extortion queue, reads both sides side by side and upholds it.
    agent = open_as("erin", "/agent/extortion/")
    row = agent.locator("table.queue tr", has=agent.get_by_role("link", name=report.reference))
    expect(row).to_contain_text(tr(lang, "With the platform"))
    agent.shot("queue")
    agent.follow(agent.get_by_role("link", name=report.reference))
    for text in ("demand.png", "reply.png", "I only asked for a refund.", "One star until I get 200 yuan."):
        assert text in agent.content(), text
    agent.follow(agent.get_by_role("button", name=tr(lang, "Take this report")))
    agent.locator("#outcome-uphold").check()
    agent.locator("#reasons").fill("聊天记录显示买家索要钱款。 The chat shows the buyer demanding money.")
    agent.shot("deciding")
    agent.follow(agent.get_by_role("button", name=tr(lang, "Record the decision")))
    assert tr(lang, "The decision is recorded; both sides were notified.") in agent.content()
    agent.shot("decided")
    report.refresh_from_db()
    assert report.status == ReportStatus.UPHELD and report.strike.buyer == cast.bob

    # The seller sees the decision, the review folded (kept, not counted) and the buyer masked.
    seller.reload()
    folded = seller.locator("#review-folded")
    expect(folded).to_contain_text(
        tr(
            lang,
            "This review was found to be extortion; it is kept but folded and not counted in the rating.",
        )
    )
    expect(folded.locator("blockquote")).to_be_hidden()
    folded.locator("summary").click()
    expect(folded.locator("blockquote")).to_contain_text("One star until I get 200 yuan.")
    page = seller.content()
    assert "I only asked for a refund." in page
    assert cast.bob.phone not in page and cast.bob.real_name not in page
    seller.shot("review-folded")
    seller.goto(seller.base + "/seller/extortion/")
    with translation.override(lang):
        left_out = translation.ngettext(
            "%(n)s review found to be extortion is left out",
            "%(n)s reviews found to be extortion are left out",
            1,
        ) % {"n": 1}
    expect(seller.locator(f"#rating-{cast.shop.pk}")).to_contain_text(left_out)
    seller.shot("rating")
