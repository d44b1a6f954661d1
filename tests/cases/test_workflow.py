"""The complaint workflow through its services: filing, answers, settlement, decisions, withdrawal."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent, CaseStatus, Tier
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
from reviewshield.evidence.blobs import blob_open
from reviewshield.outbox.models import Notification, OutboxMessage
from tests.conftest import local
from tests.samples import upload

TS = local(2026, 11, 10, 10, 0)  # trade success
FILED = local(2026, 11, 12, 9, 30)


def file(cast, order=None, *, now=FILED, **kw):
    order = order or cast.order(trade_success_at=TS)
    args = dict(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["phone_sms_bombing", "threats_insults"],
        occurred_at=now - timedelta(hours=3),
        narrative="After my one-star review the seller sent 200 verification codes and called at 2 am.",
        now=now,
    )
    args.update(kw)
    return services.case_file(**args)


def test_filing_opens_a_case_judged_by_the_ruleset_in_force(cast):
    # given an order in trade success two days ago / when bob files
    case = file(cast)
    # then the case waits for the seller, under taobao-2021 (in force for 2026 filings)
    assert case.status == CaseStatus.AWAITING_RESPONSE
    assert case.ruleset_id == "taobao-2021"
    assert case.ruleset_hash.startswith("sha256:")
    # the seller has 72 hours; the platform 3 and 5 working days (ending at local midnight)
    assert case.respond_by == FILED + timedelta(hours=72)
    assert case.handle_by == local(2026, 11, 18, 0, 0)  # Thu 12th → Fri, Mon, Tue; ends Wed 00:00
    assert case.decide_by == local(2026, 11, 20, 0, 0)
    kinds = sorted(Deadline.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["case.decide_by", "case.handle_by", "case.respond_by"]
    event = CaseEvent.objects.get(case=case)
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        "filed",
        "",
        "awaiting_response",
        cast.bob,
    )
    assert event.data["ruleset"] == "taobao-2021"
    # and alice, the seller, is told — in the app and through the outbox
    assert Notification.objects.filter(recipient=cast.alice, kind="case.filed", case=case).exists()
    assert OutboxMessage.objects.filter(recipient=cast.alice, topic="case.filed").count() == 2


def test_outbox_never_carries_the_buyers_personal_data(cast):
    file(cast)
    blob = repr(list(OutboxMessage.objects.values_list("payload", flat=True)))
    for private in (cast.bob.real_name, cast.bob.phone, cast.bob.address):
        assert private not in blob


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "ended at 2026-11-25 10:00 (UTC+8)"), ("zh-hans", "2026-11-25 10:00 (UTC+8)")],
)
def test_filing_after_the_window_is_refused_with_its_end(cast, lang, expected):
    order = cast.order(trade_success_at=TS)
    with translation.override(lang), pytest.raises(NotEligible) as err:
        file(cast, order, now=TS + timedelta(days=15, minutes=1))
    assert err.value.details["reason"] == "window_passed"
    with translation.override(lang):
        assert expected in str(err.value.message)
        if lang == "zh-hans":
            assert "投诉" in str(err.value.message)
    # the last instant of the window is still inside it
    assert file(cast, order, now=TS + timedelta(days=15)).status == CaseStatus.AWAITING_RESPONSE


def test_refusals_say_exactly_why(cast):
    with pytest.raises(NotEligible) as err:
        file(cast, cast.order(channel="tmall", trade_success_at=TS))
    assert err.value.details["reason"] == "excluded_channel"
    with pytest.raises(NotEligible) as err:
        file(cast, cast.order(status="shipped"))
    assert err.value.details["reason"] == "not_trade_success"
    with pytest.raises(NotEligible) as err:
        file(cast, cast.order(buyer=cast.carol, trade_success_at=TS))
    assert err.value.details["reason"] == "not_your_order"
    order = cast.order(trade_success_at=TS)
    first = file(cast, order)
    with pytest.raises(NotEligible) as err:
        file(cast, order)
    assert err.value.details == {"reason": "already_open", "reference": first.reference}
    with pytest.raises(NotFound):
        file(cast, order_id=987654)


def test_a_reference_another_case_holds_is_drawn_again(cast, monkeypatch):
    # Six random hex digits a day: among a few thousand complaints, two alike turn up within weeks.
    first = file(cast)
    drawn = iter([first.reference, first.reference, "RS261112ABC123"])
    monkeypatch.setattr(services, "_new_reference", lambda now: next(drawn))
    second = file(cast)
    assert second.reference == "RS261112ABC123"
    assert second.status == CaseStatus.AWAITING_RESPONSE
    assert CaseEvent.objects.filter(case=second, kind="filed").count() == 1


def test_bad_filing_input_names_each_field_and_stores_nothing(cast):
    with pytest.raises(ValidationFailed) as err:
        file(cast, harassment_types=[], narrative="  ", occurred_at=FILED + timedelta(days=1))
    assert set(err.value.details) == {"harassment_types", "narrative", "occurred_at"}
    with pytest.raises(ValidationFailed) as err:
        file(cast, harassment_types=["sorcery"])
    assert "sorcery" in err.value.details["harassment_types"]
    assert not CaseEvent.objects.exists()


def test_evidence_files_are_kept_with_their_hash(cast):
    item = upload("call_records", b"call log 02:13 +86 138...", "calls.txt")
    case = file(cast, files=[item])
    evidence = case.evidence.get()
    assert evidence.size == 25 and len(evidence.sha256) == 64 and evidence.side == "buyer"
    assert evidence.kind == "call_records" and evidence.content_type == "text/plain"
    assert "calls.txt" not in evidence.blob.key  # a person's file name never becomes a path
    with blob_open(evidence.blob) as fh:
        assert fh.read() == b"call log 02:13 +86 138..."
    with pytest.raises(ValidationFailed):
        file(cast, cast.order(trade_success_at=TS), files=[upload("chat_screenshot", b"", "empty.png")])


def test_answer_b_then_uphold_records_points_and_money_of_the_tier(cast):
    case = file(cast)
    case = services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="defence",
        text="We only called once to confirm the address.",
        now=FILED + timedelta(hours=5),
    )
    assert case.status == CaseStatus.AWAITING_DECISION
    assert case.response == "defence"
    # the respond deadline is no longer pending
    assert Deadline.objects.get(case=case, kind="case.respond_by").outcome == "cancelled"
    case = services.case_decide(
        case_id=case.pk,
        agent=cast.erin,
        outcome="uphold",
        tier="serious",
        reasons="Call records show 40 calls at night.",
        now=FILED + timedelta(days=1),
    )
    assert case.status == CaseStatus.UPHELD
    assert (case.tier, case.points, case.points_class, case.money_to_buyer) == (
        "serious",
        12,
        "A",
        Decimal("300"),
    )
    assert case.decided_by == cast.erin and case.assigned_agent == cast.erin
    decided = case.events.get(kind="decided")
    assert (decided.from_status, decided.to_status, decided.data["points"]) == (
        "awaiting_decision",
        "upheld",
        12,
    )
    assert not Deadline.objects.filter(case=case, done_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=cast.bob, kind="case.decided").exists()


def test_a_decision_needs_reasons_and_a_tier_of_the_ruleset(cast):
    case = file(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=FILED)
    with pytest.raises(ValidationFailed) as err:
        services.case_decide(
            case_id=case.pk, agent=cast.erin, outcome="uphold", tier="serious", reasons=" ", now=FILED
        )
    assert "reasons" in err.value.details
    with pytest.raises(ValidationFailed) as err:
        services.case_decide(
            case_id=case.pk, agent=cast.erin, outcome="uphold", tier="apocalyptic", reasons="x", now=FILED
        )
    # the tiers in words (a person reads this), never their codes
    assert (
        all(str(t.label) in err.value.details["tier"] for t in Tier)
        and "serious" not in err.value.details["tier"]
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION and case.version == 2


def test_agent_cannot_decide_before_the_seller_had_their_say(cast):
    case = file(cast)
    with pytest.raises(InvalidTransition):
        services.case_decide(case_id=case.pk, agent=cast.erin, outcome="reject", reasons="x", now=FILED)


def test_settlement_accepted_withdraws_declined_goes_on(cast):
    case = file(cast)
    case = services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="settlement",
        text="Sorry; we refund 59 yuan and will not contact you.",
        now=FILED + timedelta(hours=1),
    )
    assert case.status == CaseStatus.SETTLEMENT_PROPOSED
    assert case.settlement_reply_by == FILED + timedelta(hours=1, days=3)
    assert case.next_deadline_at == case.settlement_reply_by
    accepted = services.case_settlement_reply(
        case_id=case.pk, buyer=cast.bob, accept=True, now=FILED + timedelta(hours=2)
    )
    assert accepted.status == CaseStatus.WITHDRAWN and accepted.next_deadline_at is None
    assert not Deadline.objects.filter(case=case, done_at__isnull=True).exists()

    other = file(cast, cast.order(trade_success_at=TS))
    services.case_answer(case_id=other.pk, seller=cast.alice, kind="settlement", text="Refund.", now=FILED)
    declined = services.case_settlement_reply(
        case_id=other.pk, buyer=cast.bob, accept=False, now=FILED + timedelta(hours=2)
    )
    assert declined.status == CaseStatus.AWAITING_DECISION
    assert [e.kind for e in declined.events.all()] == ["filed", "answered_settlement", "settlement_declined"]


def test_only_the_right_side_may_act(cast):
    case = file(cast)
    with pytest.raises(PermissionDenied):
        services.case_answer(case_id=case.pk, seller=cast.bob, kind="defence", text="x", now=FILED)
    with pytest.raises(NotFound):  # dave sells elsewhere: the case does not exist for him
        services.case_answer(case_id=case.pk, seller=cast.dave, kind="defence", text="x", now=FILED)
    with pytest.raises(NotFound):
        services.case_withdraw(case_id=case.pk, buyer=cast.carol, reason="", now=FILED)
    with pytest.raises(PermissionDenied):
        services.case_decide(case_id=case.pk, agent=cast.alice, outcome="reject", reasons="x", now=FILED)


def test_the_seller_cannot_answer_after_the_window(cast):
    case = file(cast)
    with pytest.raises(DeadlinePassed) as err:
        services.case_answer(
            case_id=case.pk,
            seller=cast.alice,
            kind="defence",
            text="late",
            now=case.respond_by + timedelta(seconds=1),
        )
    assert "(UTC+8)" in str(err.value.message)


def test_withdrawal_before_decision_but_never_after_an_upheld_one(cast):
    case = file(cast)
    withdrawn = services.case_withdraw(
        case_id=case.pk, buyer=cast.bob, reason="Seller apologised", now=FILED + timedelta(hours=1)
    )
    assert withdrawn.status == CaseStatus.WITHDRAWN
    assert withdrawn.events.last().data == {"reason": "Seller apologised"}

    upheld = file(cast, cast.order(trade_success_at=TS))
    services.case_answer(case_id=upheld.pk, seller=cast.alice, kind="defence", text="no", now=FILED)
    services.case_decide(
        case_id=upheld.pk, agent=cast.erin, outcome="uphold", tier="ordinary", reasons="SMS bill", now=FILED
    )
    with translation.override("en"), pytest.raises(InvalidTransition) as err:
        services.case_withdraw(
            case_id=upheld.pk, buyer=cast.bob, reason="we settled", now=FILED + timedelta(days=1)
        )
    with translation.override("en"):
        assert "not reversed" in str(err.value.message)
    with translation.override("zh-hans"):
        assert "不会" in str(err.value.message)
    upheld.refresh_from_db()
    assert upheld.status == CaseStatus.UPHELD and upheld.points == 2


def test_two_agents_deciding_from_the_same_version_one_wins(cast):
    case = file(cast)
    case = services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="no", now=FILED)
    seen = case.version
    services.case_decide(
        case_id=case.pk,
        agent=cast.erin,
        outcome="reject",
        reasons="Not enough evidence.",
        expected_version=seen,
        now=FILED,
    )
    with pytest.raises(Conflict):
        services.case_decide(
            case_id=case.pk,
            agent=cast.frank,
            outcome="uphold",
            tier="serious",
            reasons="Threats.",
            expected_version=seen,
            now=FILED,
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED and case.decided_by == cast.erin
    assert case.events.filter(kind="decided").count() == 1


def test_assignment_counts_as_handling_and_moves_the_queue_deadline(cast):
    case = file(cast)
    case = services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="no", now=FILED)
    assert case.next_deadline_at == case.handle_by
    case = services.case_assign(case_id=case.pk, agent=cast.erin, now=FILED + timedelta(hours=1))
    assert case.assigned_agent == cast.erin and case.handled_at is not None
    assert case.next_deadline_at == case.decide_by
    with pytest.raises(ValidationFailed):
        services.case_assign(case_id=case.pk, agent=cast.erin, assignee=cast.bob, now=FILED)
