"""The alert pages: agents work an alert through forms; the buyer answers; sellers have no way in."""

from __future__ import annotations

from typing import Any

import pytest

from reviewshield.cases.models import Case
from reviewshield.detection.models import Alert
from tests.conftest import as_user
from tests.detection.conftest import NOW, item, screen

pytestmark = pytest.mark.django_db


@pytest.fixture
def alert(chat_backend: Any, bad_review: Any, time_machine: Any) -> Alert:
    time_machine.move_to(NOW, tick=False)
    screen(chat_backend, item("m1", "<b>I will kill you</b>"))
    return Alert.objects.get()


@pytest.mark.parametrize(
    ("lang", "words"), [("en", ["Alerts", "Threat", "Block"]), ("zh-hans", ["预警", "威胁", "拦截"])]
)
def test_the_agents_queue_and_alert_page_speak_both_languages(
    alert: Alert, members: Any, lang: str, words: list[str]
) -> None:
    client = as_user(members.erin, lang)
    queue = client.get("/agent/alerts/").content.decode()
    assert alert.reference in queue and all(w in queue for w in words)
    page = client.get(f"/agent/alerts/{alert.pk}/").content.decode()
    # The seller's text is shown escaped, with the threat marked.
    assert "&lt;b&gt;" in page and "<mark" in page and "kill you" in page


def test_an_agent_mutes_and_asks_the_buyer_through_the_page(
    alert: Alert, members: Any, chat_backend: Any
) -> None:
    client = as_user(members.erin)
    response = client.post(f"/agent/alerts/{alert.pk}/mute/", {"version": alert.version, "reason": "threat"})
    assert response.status_code == 302
    assert screen(chat_backend, item("m2", "Hello")).json()["verdicts"][0]["action"] == "block"
    alert.refresh_from_db()
    client.post(f"/agent/alerts/{alert.pk}/ask/", {"version": alert.version})
    alert.refresh_from_db()
    assert alert.status == "awaiting_buyer"
    stale = client.post(f"/agent/alerts/{alert.pk}/close/", {"version": 1, "outcome": "handled"})
    assert stale.status_code == 422 and "Someone else changed this alert" in stale.content.decode()


def test_the_buyer_agrees_on_the_protection_page_and_lands_on_the_complaint(
    alert: Alert, members: Any
) -> None:
    buyer = as_user(members.bob, "zh-hans")
    assert alert.reference not in buyer.get("/protection/").content.decode()
    assert buyer.get(f"/protection/{alert.pk}/").status_code == 404
    as_user(members.erin).post(f"/agent/alerts/{alert.pk}/ask/", {"version": alert.version})
    centre = buyer.get("/cases/").content.decode()
    assert alert.reference in centre and "投诉" in centre
    page = buyer.get(f"/protection/{alert.pk}/").content.decode()
    assert "是否为您发起投诉" in page or "发起投诉" in page
    response = buyer.post(f"/protection/{alert.pk}/answer/", {"answer": "agree"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"


def test_sellers_and_other_buyers_cannot_open_alert_pages(alert: Alert, members: Any) -> None:
    assert as_user(members.alice).get("/agent/alerts/").status_code == 403
    assert as_user(members.alice).get(f"/agent/alerts/{alert.pk}/").status_code == 403
    as_user(members.erin).post(f"/agent/alerts/{alert.pk}/ask/", {"version": alert.version})
    assert as_user(members.carol).get(f"/protection/{alert.pk}/").status_code == 404
    assert as_user(members.alice).get(f"/protection/{alert.pk}/").status_code == 403
