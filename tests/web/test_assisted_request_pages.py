"""A buyer past the filing window asks for an assisted complaint from the page that says the window
has passed; the request waits on the agents' pages, the agent issues the link from it, and the buyer
follows its status in the rights centre."""

from __future__ import annotations

import re

import pytest

from reviewshield.cases.models import AssistedRequest, AssistedRequestStatus
from tests.conftest import as_user, local

TS = local(2026, 10, 1, 10, 0)
LATE = local(2026, 11, 2, 10, 0)


@pytest.fixture
def late(time_machine):
    time_machine.move_to(LATE, tick=False)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Ask for an assisted complaint", "Ask an agent for an assisted complaint"]),
        ("zh-hans", ["申请协助投诉", "申请小二协助投诉"]),
    ],
)
def test_past_the_window_the_buyer_has_a_request_to_click(cast, late, lang, words):
    order = cast.order(trade_success_at=TS)
    page = as_user(cast.bob, lang).get(f"/orders/{order.pk}/complain/").content.decode()
    for word in words:
        assert word in page
    assert f'action="/orders/{order.pk}/assisted-request/"' in page


def test_the_request_reaches_the_agents_who_issue_the_link_from_it(cast, late):
    order = cast.order(trade_success_at=TS)
    bob = as_user(cast.bob)
    # an empty description is refused at its field, nothing written
    res = bob.post(f"/orders/{order.pk}/assisted-request/", {"description": ""})
    assert res.status_code == 422
    page = res.content.decode()
    assert 'id="request-description_error"' in page and 'href="#request-description"' in page
    assert not AssistedRequest.objects.exists()
    res = bob.post(
        f"/orders/{order.pk}/assisted-request/",
        {"description": "A curse letter came by courier."},
        follow=True,
    )
    made = AssistedRequest.objects.get()
    page = res.content.decode()
    assert (
        made.reference in page
        and "Your requests for assisted filing" in page
        and "Waiting for an agent" in page
    )
    # the agents see it in their queue and on the assisted-filing page
    erin = as_user(cast.erin)
    assert "1 buyer asked for an assisted complaint." in erin.get("/agent/").content.decode()
    assisted = erin.get("/agent/assisted/").content.decode()
    assert made.reference in assisted and "A curse letter came by courier." in assisted
    res = erin.post("/agent/assisted/", {"request": made.pk, "reason": "Checked: courier waybill shown."})
    assert res.status_code == 200
    link_url = re.search(r'id="issued-url" type="text" readonly value="([^"]+)"', res.content.decode()).group(
        1
    )
    made.refresh_from_db()
    assert made.status == AssistedRequestStatus.LINK_ISSUED
    # the buyer sees the new status, and the link works for the complaint form
    page = bob.get("/cases/").content.decode()
    assert "An agent sent you a filing link" in page
    path = link_url.split("testserver", 1)[1]
    assert "Assisted complaint: an agent opened this for you." in bob.get(path).content.decode()


def test_an_agent_must_say_why_when_answering_a_request(cast, late):
    order = cast.order(trade_success_at=TS)
    as_user(cast.bob).post(f"/orders/{order.pk}/assisted-request/", {"description": "Threats."})
    made = AssistedRequest.objects.get()
    res = as_user(cast.erin).post("/agent/assisted/", {"request": made.pk, "reason": ""})
    assert res.status_code == 422
    assert f'id="request-reason-{made.pk}_error"' in res.content.decode()
    made.refresh_from_db()
    assert made.status == AssistedRequestStatus.OPEN


def test_only_the_orders_buyer_may_ask(cast, late):
    order = cast.order(trade_success_at=TS)
    url = f"/orders/{order.pk}/assisted-request/"
    assert as_user(cast.alice).post(url, {"description": "Me."}).status_code == 403
    assert as_user(cast.carol).post(url, {"description": "Me."}).status_code == 404
    assert as_user(cast.erin).post(url, {"description": "Me."}).status_code == 403
    assert not AssistedRequest.objects.exists()
