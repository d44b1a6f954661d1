"""Alerts: agents warn the seller, mute the chat, ask the buyer; the buyer's yes opens a complaint."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reviewshield.cases.models import Case
from reviewshield.detection.models import Alert
from reviewshield.evidence.models import LogQueue
from reviewshield.outbox.models import Notification
from tests.conftest import as_user
from tests.detection.conftest import NOW, item, post, screen
from tests.privacy.renderings import ADDRESS, RENDERINGS, assert_nothing_of_bob

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(chat_backend: Any, bad_review: Any, time_machine: Any) -> Alert:
    time_machine.move_to(NOW, tick=False)
    response = screen(chat_backend, item("m1", "I will kill you"), item("m2", "我知道你住哪，小心点"))
    assert response.status_code == 200
    return Alert.objects.get()


def test_agents_see_the_alert_with_its_messages_order_and_review(
    alert: Alert, members: Any, bad_review: Any
) -> None:
    client = as_user(members.erin)
    queue = client.get("/api/alerts").json()
    assert [a["reference"] for a in queue["items"]] == [alert.reference]
    detail = client.get(f"/api/alerts/{alert.pk}").json()
    assert detail["order_external_id"] == bad_review.order.external_id
    assert detail["review"]["rating"] == "bad"
    assert [m["message_id"] for m in detail["messages"]] == ["m1", "m2"]
    assert detail["messages"][0]["spans"][0]["category"] == "threat"
    assert detail["buyer"]["name"] == "bob"
    zh = as_user(members.erin, "zh-hans").get(f"/api/alerts/{alert.pk}").json()
    assert zh["status_label"] == "待处理" and zh["categories"][0]["label"] == "威胁"


def test_sellers_and_other_buyers_never_see_alerts(alert: Alert, members: Any) -> None:
    for user in (members.alice, members.dave):
        assert as_user(user).get("/api/alerts").status_code == 403
        assert as_user(user).get(f"/api/alerts/{alert.pk}").status_code == 403
    assert as_user(members.carol).get(f"/api/alerts/{alert.pk}").status_code in (403, 404)
    # Bob himself sees it only once he is asked about it.
    assert as_user(members.bob).get("/api/alerts").json()["items"] == []


def test_warning_the_seller_tells_the_shop_without_naming_the_buyer(alert: Alert, members: Any) -> None:
    response = post(
        as_user(members.erin),
        f"/api/alerts/{alert.pk}/warn",
        {"message": "Stop messaging 王小明 at 13800138000.", "version": alert.version},
    )
    assert response.status_code == 200, response.content
    assert response.json()["seller_warned_at"] is not None
    note = Notification.objects.get(recipient=members.alice, kind="alert.seller_warned")
    assert note.params["alert"] == alert.reference
    assert (
        "bob" not in str(note.params)
        and "王小明" not in str(note.params)
        and "13800138000" not in str(note.params)
    )
    assert note.params["message"] == "Stop messaging *** at ***."  # the agent quoted the buyer: masked
    page = as_user(members.alice).get("/notifications/").content.decode()
    assert "Stop messaging *** at ***." in page and "王小明" not in page and "13800138000" not in page
    assert LogQueue.objects.filter(ref__startswith="alert_event:").count() == 2  # raised, seller_warned
    stale = post(
        as_user(members.frank), f"/api/alerts/{alert.pk}/warn", {"message": "", "version": alert.version}
    )
    assert stale.status_code == 409


def test_a_muted_chat_blocks_every_seller_message_until_lifted(
    alert: Alert, members: Any, chat_backend: Any
) -> None:
    agent = as_user(members.erin)
    assert (
        post(agent, f"/api/alerts/{alert.pk}/mute", {"reason": "Threats after a bad review"}).json()["muted"]
        is True
    )
    polite = screen(chat_backend, item("m3", "Your parcel has shipped.", at=NOW + timedelta(minutes=1)))
    verdict = polite.json()["verdicts"][0]
    assert (verdict["action"], verdict["muted"], verdict["reason"]["code"]) == ("block", True, "muted")
    other = screen(
        chat_backend, item("m4", "Your parcel has shipped.", buyer="tb_carol", at=NOW + timedelta(minutes=1))
    )
    assert other.json()["verdicts"][0]["action"] == "allow"
    assert post(agent, f"/api/alerts/{alert.pk}/mute", {}).status_code == 409
    assert post(agent, f"/api/alerts/{alert.pk}/unmute").json()["muted"] is False
    again = screen(chat_backend, item("m5", "Your parcel has shipped.", at=NOW + timedelta(minutes=2)))
    assert again.json()["verdicts"][0]["action"] == "allow"
    assert Notification.objects.filter(recipient=members.alice, kind="alert.chat_muted").count() == 1


def test_the_buyers_consent_opens_a_complaint_with_the_messages(
    alert: Alert, members: Any, bad_review: Any
) -> None:
    asked = post(as_user(members.erin), f"/api/alerts/{alert.pk}/request-consent", {"version": alert.version})
    assert asked.json()["status"] == "awaiting_buyer"
    assert Notification.objects.filter(recipient=members.bob, kind="alert.consent_requested").exists()
    buyer = as_user(members.bob)
    mine = buyer.get("/api/alerts").json()["items"]
    assert [a["reference"] for a in mine] == [alert.reference] and mine[0]["buyer"] is None
    answer = post(buyer, f"/api/alerts/{alert.pk}/consent", {"agree": True})
    assert answer.status_code == 200, answer.content
    case = Case.objects.get()
    assert answer.json()["case_reference"] == case.reference
    assert (case.order_id, case.buyer_id, case.shop_id) == (
        bad_review.order_id,
        members.bob.pk,
        members.shop.pk,
    )
    assert set(case.harassment_types) == {"threats_insults", "personal_data_leaked"}
    assert "I will kill you" in case.narrative and alert.reference in case.narrative
    alert.refresh_from_db()
    assert (alert.status, alert.outcome, alert.case_id) == ("complaint_filed", "complaint", case.pk)
    assert post(buyer, f"/api/alerts/{alert.pk}/consent", {"agree": True}).status_code == 409
    assert Case.objects.count() == 1


def test_a_buyer_who_declines_closes_the_alert(alert: Alert, members: Any) -> None:
    post(as_user(members.erin), f"/api/alerts/{alert.pk}/request-consent")
    answer = post(as_user(members.bob), f"/api/alerts/{alert.pk}/consent", {"agree": False})
    assert (answer.json()["status"], answer.json()["outcome"]) == ("closed", "buyer_declined")
    assert Case.objects.count() == 0


def test_a_buyer_cannot_answer_before_being_asked_or_for_someone_else(alert: Alert, members: Any) -> None:
    assert post(as_user(members.bob), f"/api/alerts/{alert.pk}/consent", {"agree": True}).status_code == 409
    post(as_user(members.erin), f"/api/alerts/{alert.pk}/request-consent")
    assert post(as_user(members.carol), f"/api/alerts/{alert.pk}/consent", {"agree": True}).status_code == 404
    assert Case.objects.count() == 0


def test_past_the_buyers_window_the_complaint_is_filed_as_an_assisted_one(
    alert: Alert, members: Any, time_machine: Any
) -> None:
    post(as_user(members.erin), f"/api/alerts/{alert.pk}/request-consent")
    time_machine.move_to(NOW + timedelta(days=400), tick=False)
    answer = post(as_user(members.bob), f"/api/alerts/{alert.pk}/consent", {"agree": True})
    assert answer.status_code == 200, answer.content
    case = Case.objects.get()
    assert case.assisted_link is not None and case.assisted_link.issued_by_id == members.erin.pk


def test_closing_as_a_false_alarm_needs_a_reason(alert: Alert, members: Any) -> None:
    agent = as_user(members.erin)
    refused = post(agent, f"/api/alerts/{alert.pk}/close", {"outcome": "false_alarm"})
    assert refused.status_code == 422 and "false alarm" in str(refused.json())
    zh = post(as_user(members.erin, "zh-hans"), f"/api/alerts/{alert.pk}/close", {"outcome": "false_alarm"})
    assert "误报" in str(zh.json())
    closed = post(
        agent, f"/api/alerts/{alert.pk}/close", {"outcome": "false_alarm", "note": "A quote from a film."}
    )
    assert closed.json()["status"] == "closed"
    assert post(agent, f"/api/alerts/{alert.pk}/warn", {}).status_code == 409


def test_a_new_threat_after_an_alert_is_closed_raises_a_new_one(
    alert: Alert, members: Any, chat_backend: Any
) -> None:
    post(as_user(members.erin), f"/api/alerts/{alert.pk}/close", {"outcome": "handled"})
    screen(chat_backend, item("m9", "I will kill you", at=NOW + timedelta(hours=1)))
    assert Alert.objects.count() == 2
    assert Alert.objects.exclude(pk=alert.pk).get().status == "open"


def test_an_agents_warning_reaches_the_seller_with_no_rendering_of_the_buyers_data(
    alert: Alert, members: Any
) -> None:
    type(members.bob).objects.filter(pk=members.bob.pk).update(address=ADDRESS)
    words = "Stop: " + "; ".join(RENDERINGS)
    response = post(
        as_user(members.erin), f"/api/alerts/{alert.pk}/warn", {"message": words, "version": alert.version}
    )
    assert response.status_code == 200, response.content
    note = Notification.objects.get(recipient=members.alice, kind="alert.seller_warned")
    assert_nothing_of_bob(note.params["message"])
    page = as_user(members.alice).get("/notifications/").content.decode()
    assert_nothing_of_bob(page)
    assert "Stop: " in page
