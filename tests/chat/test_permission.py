"""The buyer's permission for agents to read the last 90 days of chat: per case, revocable, recorded."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest

from reviewshield.cases.models import CaseEvent
from reviewshield.chat.models import ChatConversation, ChatMessage
from reviewshield.evidence.models import LogQueue
from tests.chat.conftest import NOW, as_user, conversation, file_case, message, post, push


@pytest.fixture
def chats(members, system, at_now):
    """Bob's chats with Alice's Tea (in and out of the 90 days), with her JD shop, with Dave; Carol's."""
    cast = members
    push(
        system,
        conversation(
            "C1",
            messages=[
                message("old", NOW - timedelta(days=90, minutes=1), "Too old."),
                message("edge", NOW - timedelta(days=90) + timedelta(minutes=1), "Just inside."),
                message("recent", NOW - timedelta(days=1), "Delete your review."),
            ],
        ),
        conversation("C2", messages=[message("thread-2", NOW - timedelta(days=30), "Another thread.")]),
        conversation("C-dave", shop_id="S2", messages=[message("dave", NOW - timedelta(days=2), "Dave.")]),
        conversation(
            "C-carol", buyer_id="tb_carol", messages=[message("carol", NOW - timedelta(days=2), "Carol.")]
        ),
    )
    # Alice's other shop (on JD) chatting with Bob: same seller, another shop — not this complaint's.
    jd = ChatConversation.objects.create(
        platform=cast.jd, external_id="J-1", shop=cast.jd_shop, buyer=cast.bob, created_at=NOW
    )
    ChatMessage.objects.create(
        conversation=jd,
        external_id="jd",
        sender="seller",
        sent_at=NOW - timedelta(days=3),
        text="JD.",
        received_at=NOW,
    )
    return cast


def permission_url(case):
    return f"/api/cases/{case.pk}/chat-permission"


def test_with_permission_the_agent_reads_only_this_shops_last_90_days(chats, system, time_machine):
    case = file_case(chats)
    granted = post(as_user(chats.bob), permission_url(case))
    # Sent after the grant: the buyer agreed to the 90 days before ticking the box, not to what follows.
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    push(system, conversation("C1", messages=[message("after", NOW + timedelta(minutes=30), "Later.")]))

    chat = as_user(chats.erin).get(f"/api/cases/{case.pk}/chat")

    assert granted.status_code == 201, granted.content
    assert granted.json()["window_from"] == "2026-08-14T09:00:00+08:00"
    assert granted.json()["window_to"] == "2026-11-12T09:00:00+08:00"
    assert chat.status_code == 200, chat.content
    body = chat.json()
    assert [(m["conversation_id"], m["message_id"]) for m in body["items"]] == [
        ("C1", "edge"),
        ("C2", "thread-2"),
        ("C1", "recent"),
    ]
    assert body["count"] == 3


def test_revoking_stops_the_agent_and_stays_recorded(chats):
    case = file_case(chats)
    buyer = as_user(chats.bob)
    post(buyer, permission_url(case))

    revoked = buyer.delete(permission_url(case))
    chat = as_user(chats.erin).get(f"/api/cases/{case.pk}/chat")
    again = buyer.delete(permission_url(case))
    history = as_user(chats.erin).get(permission_url(case)).json()

    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert revoked.json()["revoked_at"] == "2026-11-12T09:00:00+08:00"
    assert chat.status_code == 403 and chat.json()["details"]["reason"] == "no_chat_permission"
    assert "has not allowed agents to read their chat" in chat.json()["message"]
    assert again.status_code == 409 and "nothing to revoke" in again.json()["message"]
    assert [(p["active"], p["revoked_at"] is not None) for p in history] == [(False, True)]


def test_grant_and_revoke_are_case_events_queued_for_the_log(chats):
    case = file_case(chats)
    buyer = as_user(chats.bob)

    first = post(buyer, permission_url(case))
    repeated = post(buyer, permission_url(case))  # a second tick changes nothing
    buyer.delete(permission_url(case))

    assert (first.status_code, repeated.status_code) == (201, 200)
    events = list(CaseEvent.objects.filter(case=case, kind__startswith="chat_permission").order_by("id"))
    assert [(e.kind, e.actor_role) for e in events] == [
        ("chat_permission_granted", "buyer"),
        ("chat_permission_revoked", "buyer"),
    ]
    assert events[0].data["days"] == 90 and events[0].data["from"].startswith("2026-08-14T01:00:00")
    queued = set(LogQueue.objects.values_list("ref", flat=True))
    assert {f"event:{e.pk}" for e in events} <= queued


def test_without_permission_nobody_reads_the_chat(chats):
    case = file_case(chats)

    agent = as_user(chats.erin).get(f"/api/cases/{case.pk}/chat")
    seller = as_user(chats.alice).get(f"/api/cases/{case.pk}/chat")
    buyer = as_user(chats.bob).get(f"/api/cases/{case.pk}/chat")

    assert agent.status_code == 403 and agent.json()["details"]["reason"] == "no_chat_permission"
    assert seller.status_code == 403 and buyer.status_code == 403


def test_only_the_cases_buyer_grants_or_revokes(chats):
    case = file_case(chats)

    by_seller = post(as_user(chats.alice), permission_url(case))
    by_agent = post(as_user(chats.erin), permission_url(case))
    by_outsider = post(as_user(chats.carol), permission_url(case))
    seller_revokes = as_user(chats.alice).delete(permission_url(case))

    assert (by_seller.status_code, by_agent.status_code, by_outsider.status_code) == (403, 403, 404)
    assert seller_revokes.status_code == 403
    assert "Only the Buyer can do this" in by_seller.json()["message"]
    assert not CaseEvent.objects.filter(case=case, kind__startswith="chat_permission").exists()


def test_a_permission_covers_only_its_own_case(chats):
    first = file_case(chats)
    second = file_case(chats)
    post(as_user(chats.bob), permission_url(first))

    assert as_user(chats.erin).get(f"/api/cases/{first.pk}/chat").status_code == 200
    assert as_user(chats.erin).get(f"/api/cases/{second.pk}/chat").status_code == 403


def test_the_refusal_for_a_seller_comes_in_chinese(chats):
    case = file_case(chats)

    res = as_user(chats.alice, "zh-hans").get(f"/api/cases/{case.pk}/chat")

    assert res.status_code == 403 and res.json()["code"] == "forbidden"
    assert res.json()["message"] == "您的角色无权执行此操作。"


def test_every_agents_read_is_recorded_and_the_buyer_sees_it(chats, time_machine):
    """Reading a buyer's chat is recorded: once per agent, complaint and Beijing day, on the
    timeline the buyer sees, and in the tamper-evident log. A refused read records nothing."""
    case = file_case(chats)
    as_user(chats.erin).get(f"/api/cases/{case.pk}/chat")  # no permission yet: refused
    assert not CaseEvent.objects.filter(case=case, kind="chat_read").exists()

    post(as_user(chats.bob), permission_url(case))
    as_user(chats.erin).get(f"/api/cases/{case.pk}/chat")
    as_user(chats.erin).get(f"/api/cases/{case.pk}/chat?page=2")  # paging on: the same read
    as_user(chats.erin).get(f"/agent/cases/{case.pk}/chat/")  # the portal page, same day
    as_user(chats.frank).get(f"/agent/cases/{case.pk}/chat/")  # another agent
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    as_user(chats.erin).get(f"/agent/cases/{case.pk}/chat/")  # the next day

    reads = list(CaseEvent.objects.filter(case=case, kind="chat_read").order_by("id"))
    assert [(e.actor_id, e.actor_role, e.data["via"]) for e in reads] == [
        (chats.erin.pk, "agent", "api"),
        (chats.frank.pk, "agent", "portal"),
        (chats.erin.pk, "agent", "portal"),
    ]
    assert reads[0].data["from"].startswith("2026-08-14T01:00:00")
    assert {f"event:{e.pk}" for e in reads} <= set(LogQueue.objects.values_list("ref", flat=True))
    for lang, words in (
        ("en", "An agent read the chat under the buyer's permission"),
        ("zh-hans", "客服在买家授权下查看了聊天记录"),
    ):
        page = html.unescape(as_user(chats.bob, lang).get(f"/cases/{case.pk}/").content.decode())
        assert words in page
