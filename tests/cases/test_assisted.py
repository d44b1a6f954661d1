"""Assisted filing: an agent lets a buyer outside the window file through a single-use link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import translation

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from reviewshield.errors import LinkInvalid, NotEligible, PermissionDenied, ValidationFailed
from tests.conftest import local

TS = local(2026, 10, 1, 10, 0)
LATE = local(2026, 11, 2, 10, 0)  # a month after trade success


def _file(cast, order, token, now=LATE, buyer=None):
    return services.case_file(
        buyer=buyer or cast.bob,
        order_id=order.pk,
        harassment_types=["items_mailed"],
        occurred_at=now - timedelta(days=1),
        narrative="Someone mailed me hell money and a curse letter.",
        link_token=token,
        now=now,
    )


def test_buyer_outside_the_window_files_through_the_agents_link(cast):
    order = cast.order(trade_success_at=TS)
    with pytest.raises(NotEligible):
        _file(cast, order, None)
    link, token = services.assisted_link_issue(
        agent=cast.erin,
        order_id=order.pk,
        reason="Buyer phoned: funeral items arrived after the window.",
        now=LATE,
    )
    assert link.expires_at == LATE + timedelta(days=7)
    case = _file(cast, order, token, now=LATE + timedelta(hours=1))
    assert case.status == CaseStatus.AWAITING_RESPONSE
    assert case.assisted_link == link
    filed = case.events.get(kind="filed")
    assert filed.data["assisted_by"] == cast.erin.pk
    assert "funeral" in filed.data["assisted_reason"]
    # single use
    services.case_withdraw(case_id=case.pk, buyer=cast.bob, reason="", now=LATE + timedelta(hours=2))
    with translation.override("en"), pytest.raises(LinkInvalid) as err:
        _file(cast, order, token, now=LATE + timedelta(hours=3))
    with translation.override("en"):  # messages render in the language active when shown
        assert "already been used" in str(err.value.message)


def test_links_expire_and_belong_to_one_buyer_and_order(cast):
    order = cast.order(trade_success_at=TS)
    _link, token = services.assisted_link_issue(
        agent=cast.erin, order_id=order.pk, reason="Checked by phone.", now=LATE
    )
    with pytest.raises(LinkInvalid):
        _file(cast, cast.order(trade_success_at=TS), token)
    with pytest.raises(LinkInvalid):
        _file(cast, order, "not-a-token")
    with translation.override("en"), pytest.raises(LinkInvalid) as err:
        _file(cast, order, token, now=LATE + timedelta(days=7, seconds=1))
    with translation.override("en"):
        assert "expired" in str(err.value.message)


def test_a_link_does_not_bypass_channel_or_status(cast):
    order = cast.order(channel="tmall", trade_success_at=TS)
    _link, token = services.assisted_link_issue(agent=cast.erin, order_id=order.pk, reason="x", now=LATE)
    with pytest.raises(NotEligible) as err:
        _file(cast, order, token)
    assert err.value.details["reason"] == "excluded_channel"


def test_only_agents_issue_links_and_they_must_say_why(cast):
    order = cast.order(trade_success_at=TS)
    with pytest.raises(PermissionDenied):
        services.assisted_link_issue(agent=cast.alice, order_id=order.pk, reason="x", now=LATE)
    with pytest.raises(ValidationFailed):
        services.assisted_link_issue(agent=cast.erin, order_id=order.pk, reason="  ", now=LATE)
