"""What the deadline worker does to extortion reports: the buyer's silence, the platform's breached SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviewshield.deadlines.models import Deadline
from reviewshield.errors import InvalidTransition
from reviewshield.extortion import services
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from reviewshield.outbox.models import Notification
from tests.cases.test_deadlines import run_worker_at
from tests.extortion.conftest import FILED, answered, file


def outcomes(report):
    return dict(Deadline.objects.filter(payload__report=report.pk).values_list("kind", "outcome"))


def test_a_buyer_who_never_answers_goes_to_the_platform_as_no_answer(cast):
    report = file(cast)
    run_worker_at(report.answer_by - timedelta(seconds=1))
    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING_BUYER  # not a second early
    run_worker_at(report.answer_by)
    report.refresh_from_db()
    assert (report.status, report.no_answer) == (ReportStatus.AWAITING_DECISION, True)
    event = report.events.get(kind="no_answer")
    assert (event.actor, event.actor_role, event.from_status) == (None, "system", "awaiting_buyer")
    for person in (cast.bob, cast.alice):
        assert Notification.objects.filter(recipient=person, kind="extortion.no_answer").exists()
    assert report.next_deadline_at == report.decide_by  # the queue now shows the decision's deadline
    run_worker_at(report.answer_by + timedelta(hours=1))  # running again changes nothing
    assert report.events.filter(kind="no_answer").count() == 1
    # the buyer's late answer is refused; the agent may decide now
    with pytest.raises(InvalidTransition):
        answered(cast, report, now=report.answer_by + timedelta(minutes=5))
    assert (
        services.report_decide(
            report_id=report.pk, agent=cast.erin, outcome="uphold", reasons="No answer.", now=report.answer_by
        ).status
        == ReportStatus.UPHELD
    )


def test_a_breached_decision_window_escalates_once(cast):
    report = answered(cast, file(cast))
    run_worker_at(report.decide_by)
    report.refresh_from_db()
    assert report.escalated is True and report.status == ReportStatus.AWAITING_DECISION
    assert list(report.events.filter(kind="sla_breached").values_list("data__sla", flat=True)) == ["decide"]
    assert outcomes(report) == {"extortion.answer_by": "cancelled", "extortion.decide_by": "fired"}


def test_deadlines_of_a_report_that_moved_on_are_obsolete(cast):
    report = file(cast)
    # an answer that (as if on another path) left its deadline open: the handler checks the state
    ExtortionReport.objects.filter(pk=report.pk).update(status=ReportStatus.AWAITING_DECISION)
    run_worker_at(report.answer_by)
    assert outcomes(report)["extortion.answer_by"] == "obsolete"
    assert not report.events.filter(kind="no_answer").exists()
    ExtortionReport.objects.filter(pk=report.pk).update(status=ReportStatus.REJECTED)
    run_worker_at(report.decide_by)
    assert outcomes(report)["extortion.decide_by"] == "obsolete"
    report.refresh_from_db()
    assert report.escalated is False


def test_a_withdrawn_report_has_no_deadline_left(cast):
    report = file(cast)
    services.report_withdraw(report_id=report.pk, seller=cast.alice, reason="", now=FILED)
    run_worker_at(report.decide_by + timedelta(days=1))
    assert outcomes(report) == {"extortion.answer_by": "cancelled", "extortion.decide_by": "cancelled"}
    assert list(report.events.values_list("kind", flat=True))[-1] == "withdrawn"
