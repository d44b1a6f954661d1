"""Chat evidence in the portals: the buyer picks a stretch and gives the 90-day permission, the seller
reads the cited stretch masked and cites a number, the agent reads what was cited and the chat."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reviewshield.chat.models import ChatCitation, ChatPermission
from tests.chat.conftest import NOW, as_user, conversation, file_case, message, push


@pytest.fixture
def scene(members, system, at_now):
    cast = members
    bob = cast.bob
    push(
        system,
        conversation(
            "C1",
            messages=[
                message("m1", NOW - timedelta(days=3), "Your parcel shipped today.", shop_id="S1"),
                message("m2", NOW - timedelta(days=2), "Delete your review or else.", shop_id="S1"),
                message("m3", NOW - timedelta(days=2, hours=-1), f"I know you live at {bob.address}."),
                message("m4", NOW - timedelta(days=1), "Leave me alone.", sender="buyer"),
            ],
        ),
    )
    return cast, file_case(cast)


def test_the_buyer_picks_a_stretch_and_it_is_cited_with_the_platforms_messages(scene):
    cast, case = scene
    bob = as_user(cast.bob)
    page = bob.get(f"/cases/{case.pk}/").content.decode()
    assert "Delete your review or else." in page and "Get a chat evidence number for this stretch" in page
    res = bob.post(
        f"/cases/{case.pk}/chat/cite/",
        {"conversation": "taobao:C1", "first": "m2", "last": "m3"},
        follow=True,
    )
    page = res.content.decode()
    citation = ChatCitation.objects.get(case=case)
    assert "is cited in your complaint" in page and citation.evidence.number in page
    assert citation.evidence.message_count == 2

    # The seller reads the cited stretch with the buyer's address masked.
    seller_page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()
    assert citation.evidence.number in seller_page and "Delete your review or else." in seller_page
    assert cast.bob.address not in seller_page and "Your parcel shipped today." not in seller_page

    # The agent reads it as the platform's log holds it, marked unchanged.
    agent_page = as_user(cast.erin, "zh-hans").get(f"/agent/cases/{case.pk}/").content.decode()
    assert citation.evidence.number in agent_page and cast.bob.address in agent_page
    assert "未被改动" in agent_page


def test_a_stretch_without_both_ends_is_refused_with_a_reason(scene):
    cast, case = scene
    res = as_user(cast.bob, "zh-hans").post(
        f"/cases/{case.pk}/chat/cite/", {"conversation": "taobao:C1", "first": "m2"}, follow=True
    )
    assert "请选择这段对话的第一条和最后一条消息" in res.content.decode()
    assert not ChatCitation.objects.exists()


def test_the_permission_opens_and_closes_the_chat_for_the_agent(scene):
    cast, case = scene
    agent = as_user(cast.erin)
    refused = agent.get(f"/agent/cases/{case.pk}/chat/")
    assert refused.status_code == 403 and "has not allowed agents" in refused.content.decode()

    as_user(cast.bob).post(f"/cases/{case.pk}/chat/permission/", {"grant": "yes"})
    assert ChatPermission.objects.get(case=case).active
    page = agent.get(f"/agent/cases/{case.pk}/chat/").content.decode()
    assert "Your parcel shipped today." in page and "Leave me alone." in page

    as_user(cast.bob).post(f"/cases/{case.pk}/chat/permission/", {"grant": "no", "confirm": "yes"})
    assert agent.get(f"/agent/cases/{case.pk}/chat/").status_code == 403
    assert ChatPermission.objects.filter(case=case).count() == 1  # the revoked one stays recorded


def test_the_seller_cites_a_number_and_others_cannot_act_for_the_buyer(scene):
    cast, case = scene
    as_user(cast.bob).post(
        f"/cases/{case.pk}/chat/cite/", {"conversation": "taobao:C1", "first": "m1", "last": "m1"}
    )
    number = ChatCitation.objects.get().evidence.number
    res = as_user(cast.alice).post(f"/seller/cases/{case.pk}/chat/cite/", {"number": number}, follow=True)
    assert "already cited" in res.content.decode()
    assert as_user(cast.alice).post(f"/cases/{case.pk}/chat/permission/", {"grant": "yes"}).status_code == 403
    assert as_user(cast.carol).post(f"/cases/{case.pk}/chat/permission/", {"grant": "yes"}).status_code == 404
    assert (
        as_user(cast.dave).post(f"/seller/cases/{case.pk}/chat/cite/", {"number": number}).status_code == 404
    )
    assert not ChatPermission.objects.exists()
