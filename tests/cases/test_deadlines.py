"""What the deadline worker does to cases: missed answers, lapsed settlements, breached SLAs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from reviewshield.cases.transitions import TRANSITIONS, case_transition
from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.deadlines.models import Deadline
from reviewshield.errors import InvalidTransition
from reviewshield.outbox.models import Notification
from tests.conftest import local

TS = local(2026, 11, 10, 10, 0)
FILED = local(2026, 11, 12, 9, 30)


def run_worker_at(now):
    while deadlines_run_once(worker="test", now=now, limit=50, lease=timedelta(minutes=1)):
        pass


def file(cast):
    return services.case_file(
        buyer=cast.bob,
        order_id=cast.order(trade_success_at=TS).pk,
        harassment_types=["phone_sms_bombing"],
        occurred_at=FILED - timedelta(hours=1),
        narrative="Calls every night.",
        now=FILED,
    )


def test_seller_who_never_answers_the_case_goes_to_the_platform(cast):
    case = file(cast)
    run_worker_at(case.respond_by - timedelta(seconds=1))
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE  # not a second early
    run_worker_at(case.respond_by)
    case.refresh_from_db()
    assert (case.status, case.response) == (CaseStatus.AWAITING_DECISION, "no_answer")
    event = case.events.get(kind="no_answer")
    assert (event.actor, event.actor_role, event.from_status) == (None, "system", "awaiting_response")
    assert Notification.objects.filter(recipient=cast.bob, kind="case.no_answer").exists()
    # the queue now shows it by its handling deadline
    assert case.next_deadline_at == case.handle_by
    run_worker_at(case.respond_by + timedelta(hours=1))  # running again changes nothing
    assert case.events.filter(kind="no_answer").count() == 1


def test_unanswered_settlement_goes_on_to_the_platform(cast):
    case = file(cast)
    case = services.case_answer(
        case_id=case.pk, seller=cast.alice, kind="settlement", text="Refund", now=FILED
    )
    run_worker_at(case.settlement_reply_by)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
    assert case.events.filter(kind="settlement_lapsed").exists()


def test_breached_slas_escalate_once_and_the_answered_respond_deadline_is_obsolete(cast):
    case = file(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=FILED)
    run_worker_at(case.handle_by)
    case.refresh_from_db()
    assert case.escalated is True
    assert list(case.events.filter(kind="sla_breached").values_list("data__sla", flat=True)) == ["handle"]
    run_worker_at(case.decide_by)
    assert list(case.events.filter(kind="sla_breached").values_list("data__sla", flat=True)) == [
        "handle",
        "decide",
    ]
    outcomes = dict(Deadline.objects.filter(case=case).values_list("kind", "outcome"))
    assert outcomes == {"case.respond_by": "cancelled", "case.handle_by": "fired", "case.decide_by": "fired"}


def test_a_case_handled_in_time_is_not_escalated(cast):
    case = file(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=FILED)
    services.case_assign(case_id=case.pk, agent=cast.erin, now=FILED + timedelta(hours=2))
    run_worker_at(case.handle_by)
    case.refresh_from_db()
    assert case.escalated is False
    assert Deadline.objects.get(case=case, kind="case.handle_by").outcome == "obsolete"


@pytest.mark.parametrize("start", list(TRANSITIONS))
def test_every_move_outside_the_transition_table_is_refused(cast, start):
    case = file(cast)
    type(case).objects.filter(pk=case.pk).update(status=start)
    for target in set(CaseStatus.values) - set(TRANSITIONS[start]):
        with pytest.raises(InvalidTransition):
            case_transition(
                case_id=case.pk, to=target, kind="probe", actor=None, actor_role="system", now=FILED
            )
    case.refresh_from_db()
    assert case.status == start and not case.events.filter(kind="probe").exists()
