"""Extortion reports through their services: filing, the buyer's answer, evidence, withdrawal, decisions,
what an upheld report does to the review, the rating and the buyer — and every refusal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from reviewshield.deadlines.models import Deadline
from reviewshield.errors import (
    Conflict,
    DeadlinePassed,
    InvalidTransition,
    NotEligible,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from reviewshield.evidence.models import Blob, LogQueue
from reviewshield.extortion import services
from reviewshield.extortion.models import (
    BuyerStrike,
    ExtortionEvent,
    ExtortionEvidence,
    ExtortionReport,
    ReportStatus,
    ReviewMark,
)
from reviewshield.extortion.selectors import report_texts_for
from reviewshield.extortion.transitions import TRANSITIONS, report_transition
from reviewshield.marketplace import services as market
from reviewshield.marketplace.selectors import shop_rating
from reviewshield.outbox.models import Notification, OutboxMessage
from reviewshield.webhooks.models import WebhookEndpoint, WebhookEvent
from tests.conftest import local
from tests.extortion.conftest import FILED, TS, answered, file, reviewed_order
from tests.samples import screenshot, statement


def stored_files() -> set[str]:
    root = Path(settings.REVIEWSHIELD_EVIDENCE_DIR)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def english():
    """The messages these tests read, in English (the site's default is Chinese)."""
    with translation.override("en"):
        yield


def kinds(report):
    return list(report.events.values_list("kind", flat=True))


def decide(cast, report, outcome="uphold", **kw):
    args = dict(report_id=report.pk, agent=cast.erin, outcome=outcome, reasons="The chat shows the demand.")
    args.update(kw)
    args.setdefault("now", FILED + timedelta(days=1))
    return services.report_decide(**args)


def test_filing_tells_the_buyer_and_starts_both_windows_of_the_orders_ruleset(cast):
    report = file(cast)
    assert report.status == ReportStatus.AWAITING_BUYER and report.reference.startswith("RSX261112")
    assert (report.ruleset_id, report.ruleset_hash[:7]) == ("taobao-2021", "sha256:")
    assert report.buyer == cast.bob and report.filed_by == cast.alice and report.shop == cast.shop
    assert report.demand_amount == Decimal("200.00") and report.threat == "bad_review"
    # the buyer answers within the respond window (72 h from being told); the platform decides
    # within 5 working days of the filing (Thu 12th → Fri, Mon … Thu 19th; ends Fri 00:00)
    assert report.notified_at == FILED and report.answer_by == FILED + timedelta(hours=72)
    assert report.decide_by == local(2026, 11, 20, 0, 0)
    assert report.next_deadline_at == report.answer_by
    assert kinds(report) == ["filed", "evidence_added", "buyer_notified"]
    notified = report.events.get(kind="buyer_notified")
    assert (notified.from_status, notified.to_status, notified.actor_role) == (
        "filed",
        "awaiting_buyer",
        "system",
    )
    due = {d.kind: (d.due_at, d.payload) for d in Deadline.objects.all()}
    assert due == {
        "extortion.answer_by": (report.answer_by, {"report": report.pk}),
        "extortion.decide_by": (report.decide_by, {"report": report.pk}),
    }
    # the seller's screenshot is in the vault, its clean copy is what the buyer gets
    item = report.evidence.get()
    assert (item.side, item.kind, item.original_name) == ("seller", "chat_screenshot", "demand.png")
    assert item.clean_blob_id and Blob.objects.filter(sha256=item.sha256).exists()
    # the buyer is told in the app and through the outbox, with ids only
    assert Notification.objects.filter(recipient=cast.bob, kind="extortion.filed").exists()
    assert OutboxMessage.objects.filter(recipient=cast.bob, topic="extortion.filed").count() == 2
    # every event and the evidence wait for the log, outside any complaint's bundle
    refs = set(LogQueue.objects.values_list("ref", "case_id"))
    assert {(f"extortion_event:{e.pk}", None) for e in report.events.all()} <= refs
    assert (f"extortion_evidence:{item.pk}", None) in refs


def test_only_a_seller_of_the_orders_shop_may_report_its_buyer(cast):
    order = reviewed_order(cast)
    with pytest.raises(PermissionDenied):
        file(cast, order, seller=cast.bob)
    with pytest.raises(NotFound):
        file(cast, order, seller=cast.dave)  # another shop's seller learns nothing about the order
    with pytest.raises(NotFound):
        file(cast, order_id=987654)
    assert not ExtortionReport.objects.exists()


def test_one_open_report_per_order_and_a_new_one_after_withdrawal(cast):
    order = reviewed_order(cast)
    first = file(cast, order)
    with pytest.raises(NotEligible) as err:
        file(cast, order)
    assert err.value.details == {"reason": "already_open", "reference": first.reference}
    services.report_withdraw(report_id=first.pk, seller=cast.alice, reason="Settled.", now=FILED)
    assert file(cast, order).status == ReportStatus.AWAITING_BUYER


def test_a_reference_another_report_holds_is_drawn_again(cast, monkeypatch):
    first = file(cast)
    drawn = iter([first.reference, "RSX261112ABC123"])
    monkeypatch.setattr(services, "_new_reference", lambda now: next(drawn))
    second = file(cast)
    assert second.reference == "RSX261112ABC123" and second.status == ReportStatus.AWAITING_BUYER


def test_bad_input_names_each_field_and_stores_nothing(cast, english):
    before = stored_files()
    with pytest.raises(ValidationFailed) as err:
        file(
            cast,
            threat="curse",
            demand=" ",
            demand_amount="a lot",
            occurred_at=FILED + timedelta(days=1),
            narrative="",
            files=[],
        )
    assert set(err.value.details) == {
        "threat",
        "demand",
        "demand_amount",
        "occurred_at",
        "narrative",
        "files",
    }
    with pytest.raises(ValidationFailed) as err:
        file(cast, narrative="x" * 5001, demand_amount="-5", occurred_at=TS - timedelta(days=30))
    assert set(err.value.details) == {"narrative", "demand_amount", "occurred_at"}
    assert "was paid at" in err.value.details["occurred_at"]
    assert not ExtortionReport.objects.exists() and not Blob.objects.exists() and stored_files() == before


def test_refusals_speak_the_persons_language(cast):
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as err:
        file(cast, files=[])
    with translation.override("zh-hans"):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.details["files"])


def test_a_failure_midway_leaves_no_row_no_file_and_no_log_record(cast, monkeypatch):
    order = reviewed_order(cast)
    before = stored_files()

    def boom(**kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(services, "notify", boom)  # the last step of the filing's transaction
    with pytest.raises(RuntimeError):
        file(cast, order, files=[screenshot(name="demand.png"), statement("He wants 200 yuan.")])
    assert not ExtortionReport.objects.exists() and not ExtortionEvent.objects.exists()
    assert not ExtortionEvidence.objects.exists() and not Blob.objects.exists()
    assert not Deadline.objects.exists() and not LogQueue.objects.filter(ref__startswith="extortion").exists()
    assert stored_files() == before


def test_the_buyer_answers_with_evidence_and_the_report_goes_to_the_platform(cast):
    report = file(cast)
    report = answered(cast, report, files=[screenshot(name="my-side.png")])
    assert report.status == ReportStatus.AWAITING_DECISION and report.answered_at == FILED + timedelta(
        hours=2
    )
    assert report.next_deadline_at == report.decide_by
    assert kinds(report)[-2:] == ["answered", "evidence_added"]
    assert report.evidence.get(side="buyer").original_name == "my-side.png"
    outcomes = dict(Deadline.objects.values_list("kind", "outcome"))
    assert outcomes == {"extortion.answer_by": "cancelled", "extortion.decide_by": ""}
    assert Notification.objects.filter(recipient=cast.alice, kind="extortion.answered").exists()
    with pytest.raises(InvalidTransition):  # answered once
        answered(cast, report)


def test_only_the_reported_buyer_answers_and_only_in_time(cast):
    report = file(cast)
    with pytest.raises(NotFound):
        answered(cast, report, buyer=cast.carol)
    with pytest.raises(PermissionDenied):
        answered(cast, report, buyer=cast.alice)
    with pytest.raises(ValidationFailed):
        answered(cast, report, text="  ")
    with pytest.raises(Conflict):
        answered(cast, report, expected_version=report.version - 1)
    with pytest.raises(DeadlinePassed) as err:
        answered(cast, report, now=report.answer_by + timedelta(seconds=1))
    assert "2026-11-15 09:30" in str(err.value.message)
    assert answered(cast, report, now=report.answer_by).status == ReportStatus.AWAITING_DECISION


def test_the_seller_reads_the_buyers_answer_with_their_personal_data_masked(cast):
    report = answered(
        cast,
        file(cast),
        text=f"Call me on {cast.bob.phone}; I am {cast.bob.real_name} of {cast.bob.address}. I asked for nothing.",
    )
    seller_view = report_texts_for(report, "seller")
    for private in (cast.bob.phone, cast.bob.real_name, cast.bob.address, cast.bob.username):
        assert private not in repr(seller_view)
    assert "I asked for nothing." in seller_view["answer_text"] and seller_view["buyer_alias"] == "b***b"
    assert cast.bob.phone in report_texts_for(report, "agent")["answer_text"]  # agents read it all


def test_evidence_from_either_side_while_open_and_never_after(cast):
    report = file(cast)
    added = services.report_evidence_add(
        report_id=report.pk, user=cast.alice, files=[screenshot(name="more.png")], now=FILED
    )
    assert [e.side for e in added] == ["seller"]
    added = services.report_evidence_add(
        report_id=report.pk, user=cast.bob, files=[statement("I asked for a refund only.")], now=FILED
    )
    assert [e.side for e in added] == ["buyer"]
    with pytest.raises(NotFound):
        services.report_evidence_add(report_id=report.pk, user=cast.dave, files=[screenshot()], now=FILED)
    with pytest.raises(PermissionDenied):
        services.report_evidence_add(report_id=report.pk, user=cast.erin, files=[screenshot()], now=FILED)
    with pytest.raises(ValidationFailed):
        services.report_evidence_add(report_id=report.pk, user=cast.bob, files=[], now=FILED)
    answered(cast, report)
    decide(cast, report, outcome="reject")
    with pytest.raises(InvalidTransition):
        services.report_evidence_add(report_id=report.pk, user=cast.bob, files=[screenshot()], now=FILED)
    assert report.evidence.count() == 3


def test_the_seller_withdraws_before_a_decision_never_after(cast, english):
    report = file(cast)
    with pytest.raises(PermissionDenied):
        services.report_withdraw(report_id=report.pk, seller=cast.bob, reason="", now=FILED)
    report = services.report_withdraw(report_id=report.pk, seller=cast.alice, reason="We talked.", now=FILED)
    assert report.status == ReportStatus.WITHDRAWN and report.next_deadline_at is None
    assert set(Deadline.objects.values_list("outcome", flat=True)) == {"cancelled"}
    assert Notification.objects.filter(recipient=cast.bob, kind="extortion.withdrawn").exists()
    decided = answered(cast, file(cast))
    decide(cast, decided)
    with pytest.raises(InvalidTransition) as err:
        services.report_withdraw(report_id=decided.pk, seller=cast.alice, reason="", now=FILED)
    assert "upheld" in str(err.value.message)


def test_no_decision_before_the_buyer_had_their_say_and_only_by_agents(cast, english):
    report = file(cast)
    with pytest.raises(InvalidTransition) as err:
        decide(cast, report)
    assert "time to answer is still running" in str(err.value.message)
    answered(cast, report)
    with pytest.raises(PermissionDenied):
        decide(cast, report, agent=cast.alice)
    with pytest.raises(ValidationFailed) as err:
        decide(cast, report, outcome="maybe", reasons=" ")
    assert set(err.value.details) == {"outcome", "reasons"}
    assert ExtortionReport.objects.get(pk=report.pk).status == ReportStatus.AWAITING_DECISION


def test_upheld_marks_the_review_strikes_the_buyer_and_leaves_the_review_out_of_the_rating(cast):
    WebhookEndpoint.objects.create(name="market", url="https://market.example/hooks")
    good = reviewed_order(cast, rating="good")
    assert shop_rating(cast.shop.pk).bad == 0
    order = reviewed_order(cast)
    before = shop_rating(cast.shop.pk)
    assert (before.good, before.bad, before.good_share, before.left_out_as_extortion) == (
        1,
        1,
        Decimal("0.5"),
        0,
    )
    report = answered(cast, file(cast, order))
    report = decide(cast, report, agent=cast.frank)  # a senior agent decides too
    assert report.status == ReportStatus.UPHELD and report.decided_by == cast.frank
    strike = BuyerStrike.objects.get()
    assert (strike.buyer, strike.report) == (cast.bob, report)
    mark = ReviewMark.objects.get()
    assert (mark.review.order, mark.report) == (order, report)
    assert kinds(report)[-2:] == ["decided", "review_marked"]
    # the review is kept, and no longer counts
    assert order.review.text.startswith("Terrible tea")
    after = shop_rating(cast.shop.pk)
    assert (after.good, after.bad, after.counted, after.good_share, after.left_out_as_extortion) == (
        1,
        0,
        1,
        Decimal("1"),
        1,
    )
    # the marketplace is told to fold it: ids only
    hook = WebhookEvent.objects.get(event="review.extortion_marked")
    assert hook.payload["review"] == f"R-{order.external_id}" and hook.payload["order"] == order.external_id
    assert hook.payload["report"] == report.reference and hook.payload["shop"]["id"] == cast.shop.pk
    for private in (cast.bob.phone, cast.bob.real_name, cast.bob.address, cast.bob.username):
        assert private not in repr(hook.payload)
    # both sides are told
    for person in (cast.bob, cast.alice):
        assert Notification.objects.filter(recipient=person, kind="extortion.decided").exists()
    assert good.review.pk != mark.review.pk


def test_rejected_marks_nothing_and_strikes_nobody(cast):
    report = decide(cast, answered(cast, file(cast)), outcome="reject")
    assert report.status == ReportStatus.REJECTED and report.decision_reasons == "The chat shows the demand."
    assert not BuyerStrike.objects.exists() and not ReviewMark.objects.exists()
    assert shop_rating(cast.shop.pk).bad == 1 and shop_rating(cast.shop.pk).left_out_as_extortion == 0
    assert set(Deadline.objects.values_list("outcome", flat=True)) == {"cancelled"}


def test_the_threatened_review_posted_after_the_decision_is_marked_when_it_arrives(cast):
    WebhookEndpoint.objects.create(name="market", url="https://market.example/hooks")
    order = cast.order(trade_success_at=TS)  # the buyer threatened first and had not reviewed yet
    report = decide(cast, answered(cast, file(cast, order)))
    assert not ReviewMark.objects.exists() and BuyerStrike.objects.count() == 1
    posted = FILED + timedelta(days=2)
    review, _ = market.review_upsert(
        platform="taobao",
        order_external_id=order.external_id,
        external_id="R-late",
        rating="bad",
        text="As promised.",
        anonymous=False,
        posted_at=posted,
        now=posted,
    )
    assert ReviewMark.objects.get().review == review and kinds(report)[-1] == "review_marked"
    assert WebhookEvent.objects.get(event="review.extortion_marked").payload["review"] == "R-late"
    assert shop_rating(cast.shop.pk).counted == 0


def test_an_automatic_good_review_is_not_marked(cast):
    order = cast.order(trade_success_at=TS)
    from reviewshield.marketplace.models import Review

    Review.objects.create(order=order, rating="good", automatic=True, posted_at=TS + timedelta(days=15))
    decide(cast, answered(cast, file(cast, order)))
    assert BuyerStrike.objects.count() == 1 and not ReviewMark.objects.exists()
    assert shop_rating(cast.shop.pk).good == 1


def test_agents_take_reports_and_hand_them_only_to_agents(cast):
    report = file(cast)
    report = services.report_assign(report_id=report.pk, agent=cast.erin, now=FILED)
    assert report.assigned_agent == cast.erin and report.status == ReportStatus.AWAITING_BUYER
    report = services.report_assign(report_id=report.pk, agent=cast.erin, assignee=cast.frank, now=FILED)
    assert report.assigned_agent == cast.frank and kinds(report).count("assigned") == 2
    with pytest.raises(ValidationFailed):
        services.report_assign(report_id=report.pk, agent=cast.erin, assignee=cast.alice, now=FILED)
    with pytest.raises(PermissionDenied):
        services.report_assign(report_id=report.pk, agent=cast.alice, assignee=cast.erin, now=FILED)


@pytest.mark.parametrize("start", list(TRANSITIONS))
def test_every_move_outside_the_transition_table_is_refused(cast, start):
    report = file(cast)
    ExtortionReport.objects.filter(pk=report.pk).update(status=start)
    report.refresh_from_db()
    for target in set(ReportStatus.values) - set(TRANSITIONS[start]):
        with pytest.raises(InvalidTransition):
            report_transition(
                report=report, to=target, kind="probe", actor=None, actor_role="system", now=FILED
            )
    report.refresh_from_db()
    assert report.status == start and not report.events.filter(kind="probe").exists()
