"""Chat evidence numbers (举证号): made by the buyer, cited by either side, read from the platform's log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from reviewshield.cases.models import CaseEvent
from reviewshield.chat import services
from reviewshield.chat.models import ChatEvidence, ChatMessage
from reviewshield.evidence.models import LogQueue
from tests.chat.conftest import EVIDENCE_URL, NOW, as_user, conversation, file_case, message, post, push
from tests.privacy.renderings import ADDRESS, RENDERINGS, assert_nothing_of_bob

ID_NUMBER = "110101199003071234"


@pytest.fixture
def chat(members, system, at_now):
    """Bob's conversation C1 with Alice's Tea; the seller's last message quotes Bob's personal data."""
    cast = members
    push(
        system,
        conversation(
            messages=[
                message("m1", NOW - timedelta(hours=5), "Hello, any questions?"),
                message("m2", NOW - timedelta(hours=4), "The tea was stale.", sender="buyer"),
                message("m3", NOW - timedelta(hours=3), "Delete your review."),
                message(
                    "m4",
                    NOW - timedelta(hours=2),
                    f"I know you, {cast.bob.real_name}: {cast.bob.phone}, {cast.bob.address}, ID {ID_NUMBER}.",
                ),
            ]
        ),
        conversation("D1", shop_id="S2", messages=[message("d1", NOW - timedelta(hours=1), "Dave here.")]),
    )
    return cast


def make_number(cast, first="m2", last="m4", conversation_id="C1", user=None):
    body = {
        "platform": "taobao",
        "conversation_id": conversation_id,
        "first_message_id": first,
        "last_message_id": last,
    }
    return post(as_user(user or cast.bob), EVIDENCE_URL, body)


def test_the_buyer_gets_a_number_for_a_stretch_of_their_conversation(chat):
    res = make_number(chat)

    assert res.status_code == 201, res.content
    shown = res.json()
    assert shown["number"].startswith("JZ20261112") and len(shown["number"]) == 18
    assert [m["message_id"] for m in shown["messages"]] == ["m2", "m3", "m4"]
    assert shown["intact"] is True and shown["viewer_side"] == "buyer"
    evidence = ChatEvidence.objects.get(number=shown["number"])
    assert evidence.sha256 == shown["sha256"] and evidence.buyer == chat.bob
    # The hash is in the tamper-evident log from the moment the number exists.
    assert LogQueue.objects.filter(ref=f"chat_evidence:{evidence.pk}").exists()


def test_numbers_are_refused_for_reversed_unknown_or_too_long_stretches(chat, monkeypatch):
    reversed_ = make_number(chat, first="m4", last="m2")
    unknown = make_number(chat, first="m2", last="m99")
    monkeypatch.setattr(services, "MAX_EXCERPT_MESSAGES", 2)
    too_long = make_number(chat, first="m1", last="m4")

    assert reversed_.status_code == 422 and "comes after the last one" in reversed_.json()["message"]
    assert unknown.status_code == 422 and "m99" in unknown.json()["details"]["last_message_id"]
    assert too_long.status_code == 422
    assert "at most 2 messages; this stretch has 4" in too_long.json()["message"]
    assert not ChatEvidence.objects.exists()


def test_nobody_else_can_make_a_number_from_a_buyers_conversation(chat):
    for other in (chat.carol, chat.alice, chat.erin):
        res = make_number(chat, user=other)
        assert res.status_code == 404, other
    assert not ChatEvidence.objects.exists()


def test_a_number_keeps_its_messages_and_shows_a_later_change(chat, system):
    number = make_number(chat, first="m1", last="m3").json()["number"]
    # A message with a time inside the stretch arrives late: the number does not change.
    push(
        system,
        conversation(messages=[message("m2b", NOW - timedelta(hours=3.5), "late one", sender="buyer")]),
    )
    before = as_user(chat.erin).get(f"{EVIDENCE_URL}/{number}").json()

    ChatMessage.objects.filter(external_id="m3").update(text="Have a nice day.")  # someone edits the log
    after = as_user(chat.erin).get(f"{EVIDENCE_URL}/{number}").json()

    assert [m["message_id"] for m in before["messages"]] == ["m1", "m2", "m3"] and before["intact"] is True
    assert after["intact"] is False


def test_who_sees_a_number_and_the_seller_only_masked_once_cited(chat):
    case = file_case(chat)
    number = make_number(chat).json()["number"]
    url = f"{EVIDENCE_URL}/{number}"

    before_citation = as_user(chat.alice).get(url)
    cited = post(as_user(chat.bob), f"/api/cases/{case.pk}/chat-citations", {"number": number})
    seller = as_user(chat.alice).get(url)
    agent = as_user(chat.erin).get(url).json()

    assert before_citation.status_code == 404
    assert cited.status_code == 201, cited.content
    assert seller.status_code == 200 and seller.json()["viewer_side"] == "seller"
    text = seller.content.decode()
    for private in (chat.bob.real_name, chat.bob.phone, chat.bob.address, ID_NUMBER, '"bob"'):
        assert private not in text, private
    masked = seller.json()["messages"][-1]["text"]
    assert masked.startswith("I know you, ***") and masked.count("***") == 4
    assert seller.json()["buyer_alias"] == "b***b"
    # The agent reads the authoritative text, unmasked.
    assert chat.bob.phone in agent["messages"][-1]["text"] and agent["viewer_side"] == "agent"
    for outsider in (chat.dave, chat.carol):
        assert as_user(outsider).get(url).status_code == 404


def test_either_side_cites_and_the_citation_enters_the_case_log(chat):
    case = file_case(chat)
    first = make_number(chat, first="m1", last="m2").json()
    second = make_number(chat, first="m3", last="m4").json()

    by_buyer = post(as_user(chat.bob), f"/api/cases/{case.pk}/chat-citations", {"number": first["number"]})
    by_seller = post(
        as_user(chat.alice), f"/api/cases/{case.pk}/chat-citations", {"number": second["number"].lower()}
    )
    twice = post(as_user(chat.alice), f"/api/cases/{case.pk}/chat-citations", {"number": first["number"]})

    assert by_buyer.status_code == 201 and by_buyer.json()["side"] == "buyer"
    assert by_seller.status_code == 201 and by_seller.json()["side"] == "seller"
    assert twice.status_code == 409 and twice.json()["code"] == "already_cited"
    events = CaseEvent.objects.filter(case=case, kind="chat_cited").order_by("id")
    assert [(e.actor_role, e.data["number"], e.data["sha256"]) for e in events] == [
        ("buyer", first["number"], first["sha256"]),
        ("seller", second["number"], second["sha256"]),
    ]
    queued = set(LogQueue.objects.values_list("ref", flat=True))
    assert {f"event:{e.pk}" for e in events} <= queued
    timeline = as_user(chat.alice).get(f"/api/cases/{case.pk}/events").json()
    assert [e["data"]["number"] for e in timeline if e["kind"] == "chat_cited"] == [
        first["number"],
        second["number"],
    ]


def test_a_number_from_another_conversation_or_no_number_cannot_be_cited(chat, system):
    case = file_case(chat)
    # Bob's chat with Dave's shop is real, but this complaint is against Alice's Tea.
    foreign = make_number(chat, first="d1", last="d1", conversation_id="D1").json()["number"]
    url = f"/api/cases/{case.pk}/chat-citations"

    other = post(as_user(chat.bob), url, {"number": foreign})
    missing = post(as_user(chat.bob), url, {"number": "JZ20261112DEADBEEF"})
    outsider = post(as_user(chat.carol), url, {"number": foreign})
    agent = post(as_user(chat.erin), url, {"number": foreign})

    assert other.status_code == 422 and other.json()["details"]["reason"] == "other_conversation"
    assert foreign in other.json()["message"] and "this complaint's buyer and shop" in other.json()["message"]
    assert missing.status_code == 404 and "JZ20261112DEADBEEF" in missing.json()["message"]
    assert outsider.status_code == 404 and agent.status_code == 403
    assert not CaseEvent.objects.filter(kind="chat_cited").exists()


def test_a_closed_complaint_takes_no_more_citations(chat):
    from reviewshield.cases.services import case_withdraw

    case = file_case(chat)
    case_withdraw(case_id=case.pk, buyer=chat.bob, reason="Settled.", now=NOW)
    number = make_number(chat).json()["number"]

    res = post(as_user(chat.bob), f"/api/cases/{case.pk}/chat-citations", {"number": number})

    assert res.status_code == 409 and "only while the complaint is open" in res.json()["message"]


def test_refusals_carry_a_stable_code_in_chinese_too(chat):
    res = post(
        as_user(chat.bob, "zh-hans"),
        EVIDENCE_URL,
        {"platform": "taobao", "conversation_id": "C1", "first_message_id": "m4", "last_message_id": "m2"},
    )

    # The sentence itself waits for its zh-Hans translation; programs rely on the code and field.
    assert res.status_code == 422 and res.json()["code"] == "invalid"
    assert res.json()["details"] == {"last_message_id": "m2"}


def test_a_cited_chat_reaches_the_seller_with_no_rendering_of_the_buyers_data(members, system, at_now):
    cast = members
    cast.bob.refresh_from_db()
    cast.bob.address = ADDRESS
    cast.bob.save()
    start = NOW - timedelta(hours=5)
    pushed = push(
        system,
        conversation(
            "R1",
            messages=[
                message(f"r{i}", start + timedelta(minutes=i), f"记下：{r}", sender="buyer")
                for i, r in enumerate(RENDERINGS)
            ],
        ),
    )
    assert pushed.status_code == 200, pushed.content
    case = file_case(cast)
    made = make_number(cast, first="r0", last=f"r{len(RENDERINGS) - 1}", conversation_id="R1")
    assert made.status_code == 201, made.content
    number = made.json()["number"]
    assert (
        post(as_user(cast.bob), f"/api/cases/{case.pk}/chat-citations", {"number": number}).status_code == 201
    )

    api = as_user(cast.alice).get(f"{EVIDENCE_URL}/{number}").json()
    page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()

    assert len(api["messages"]) == len(RENDERINGS)
    assert_nothing_of_bob(json.dumps(api, ensure_ascii=False))
    assert_nothing_of_bob(page)
    assert "记下" in page
