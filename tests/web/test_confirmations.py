"""A destructive step asks first (a plain page, no JavaScript needed) and says afterwards what it did,
in the person's language: withdrawing a complaint, accepting a settlement (which withdraws it),
taking the chat permission back, withdrawing an extortion report."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from reviewshield.chat import services as chat_services
from reviewshield.chat.models import ChatPermission
from reviewshield.extortion.models import ExtortionReport, ReportStatus
from tests.conftest import as_user, local
from tests.extortion.conftest import file as extortion_file

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)

WORDS = {
    "en": {
        "withdraw?": "Withdraw complaint",
        "keep": "No, keep my complaint",
        "withdrawn": "you withdrew complaint",
        "accept?": "Accept the settlement of complaint",
        "accepted": "You accepted the settlement; your complaint is withdrawn.",
        "revoke?": "Take the chat permission back?",
        "revoked": "You took the permission back",
        "report?": "Withdraw report",
        "reported": "The report was withdrawn; the buyer was told.",
    },
    "zh-hans": {
        "withdraw?": "撤销投诉",
        "keep": "不，保留我的投诉",
        "withdrawn": "您已撤销投诉",
        "accept?": "接受投诉",
        "accepted": "您已接受协商方案，投诉已撤销。",
        "revoke?": "撤回聊天记录授权？",
        "revoked": "您已撤回授权",
        "report?": "撤回举报",
        "reported": "举报已撤回，已通知买家。",
    },
}


def text(res) -> str:
    return res.content.decode()


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    return services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW - timedelta(hours=1),
        narrative="N-1", now=NOW,
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_withdrawing_a_complaint_asks_first_then_says_it_is_done(cast, case, lang):
    bob, words = as_user(cast.bob, lang), WORDS[lang]
    asked = bob.post(f"/cases/{case.pk}/withdraw/", {"reason": "Sorted out", "version": case.version})
    assert asked.status_code == 200
    assert words["withdraw?"] in text(asked) and words["keep"] in text(asked)
    assert 'name="confirm" value="yes"' in text(asked) and 'value="Sorted out"' in text(asked)
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE  # nothing happened yet

    done = bob.post(
        f"/cases/{case.pk}/withdraw/",
        {"reason": "Sorted out", "version": case.version, "confirm": "yes"},
        follow=True,
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert words["withdrawn"] in text(done).lower() and case.reference in text(done)
    assert case.events.get(kind="withdrawn").data["reason"] == "Sorted out"


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_accepting_a_settlement_asks_first_because_it_withdraws_the_complaint(cast, case, lang):
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="settlement", text="Refund", now=NOW)
    bob, words = as_user(cast.bob, lang), WORDS[lang]
    asked = bob.post(f"/cases/{case.pk}/settlement/", {"accept": "yes"})
    assert asked.status_code == 200 and words["accept?"] in text(asked)
    case.refresh_from_db()
    assert case.status == CaseStatus.SETTLEMENT_PROPOSED
    done = bob.post(f"/cases/{case.pk}/settlement/", {"accept": "yes", "confirm": "yes"}, follow=True)
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN and words["accepted"] in text(done)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_taking_the_chat_permission_back_asks_first(cast, case, lang):
    chat_services.chat_permission_grant(case_id=case.pk, buyer=cast.bob, now=NOW)
    bob, words = as_user(cast.bob, lang), WORDS[lang]
    asked = bob.post(f"/cases/{case.pk}/chat/permission/", {"grant": "no"})
    assert asked.status_code == 200 and words["revoke?"] in text(asked)
    assert ChatPermission.objects.get(case=case).active
    done = bob.post(f"/cases/{case.pk}/chat/permission/", {"grant": "no", "confirm": "yes"}, follow=True)
    assert not ChatPermission.objects.get(case=case).active and words["revoked"] in text(done)


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_withdrawing_an_extortion_report_asks_first(cast, lang):
    report = extortion_file(cast)
    alice, words = as_user(cast.alice, lang), WORDS[lang]
    asked = alice.post(f"/seller/extortion/{report.pk}/withdraw/", {"version": report.version})
    assert asked.status_code == 200 and words["report?"] in text(asked)
    assert ExtortionReport.objects.get(pk=report.pk).status != ReportStatus.WITHDRAWN
    done = alice.post(
        f"/seller/extortion/{report.pk}/withdraw/", {"version": report.version, "confirm": "yes"}, follow=True
    )
    assert ExtortionReport.objects.get(pk=report.pk).status == ReportStatus.WITHDRAWN
    assert words["reported"] in text(done)
