"""The marketplace pushes its chat: idempotent on message ids, never overwriting what is stored."""

from __future__ import annotations

from datetime import timedelta

from reviewshield.chat.models import ChatConversation, ChatMessage
from tests.chat.conftest import NOW, as_user, conversation, message, push

SHA = "ab" * 32


def three_messages() -> list[dict]:
    return [
        message("m1", NOW - timedelta(hours=3), "Why the bad review?"),
        message(
            "m2", NOW - timedelta(hours=2), "The tea was stale.", sender="buyer", attachment_hashes=[SHA]
        ),
        message("m3", NOW - timedelta(hours=1), "Change it or else.", sender="seller"),
    ]


def test_a_push_stores_messages_and_a_repush_adds_nothing(members, system):
    first = push(system, conversation(messages=three_messages()))
    again = push(system, conversation(messages=three_messages()))

    assert first.status_code == 200, first.content
    assert (first.json()["created"], first.json()["unchanged"]) == (3, 0)
    assert (again.json()["created"], again.json()["unchanged"], again.json()["conflicts"]) == (0, 3, 0)
    stored = ChatMessage.objects.order_by("sent_at")
    assert [m.external_id for m in stored] == ["m1", "m2", "m3"]
    assert stored[1].attachment_hashes == [SHA] and stored[1].conversation.buyer == members.bob


def test_a_repush_with_other_text_is_a_conflict_and_the_stored_message_stays(members, system):
    push(system, conversation(messages=three_messages()))
    edited = [
        message("m3", NOW - timedelta(hours=1), "Have a nice day.", sender="seller"),
        message("m4", NOW, "Hello?", sender="buyer"),
    ]

    body = push(system, conversation(messages=edited)).json()

    assert (body["created"], body["conflicts"]) == (1, 1)
    assert [c["message_id"] for c in body["items"][0]["conflicts"]] == ["m3"]
    assert "stored message is kept" in body["items"][0]["conflicts"][0]["reason"]
    assert ChatMessage.objects.get(external_id="m3").text == "Change it or else."
    assert ChatMessage.objects.filter(external_id="m4").exists()


def test_unknown_parties_or_a_bad_message_reject_that_conversation_and_nothing_of_it_is_written(
    members, system
):
    foreign_order = members.order(buyer=members.carol)
    body = push(
        system,
        conversation("OK", messages=three_messages()),
        conversation("C-nobody", buyer_id="tb_nobody", messages=three_messages()),
        conversation("C-noshop", shop_id="S404", messages=three_messages()),
        conversation("C-order", order_id=foreign_order.external_id, messages=three_messages()),
        conversation(
            "C-bad",
            messages=[
                message("x1", NOW, "fine"),
                message("x2", NOW, "bad hash", attachment_hashes=["not-a-hash"]),
            ],
        ),
    ).json()

    status = {i["conversation_id"]: i["status"] for i in body["items"]}
    assert status == {
        "OK": "accepted",
        "C-nobody": "rejected",
        "C-noshop": "rejected",
        "C-order": "rejected",
        "C-bad": "rejected",
    }
    fields = {i["conversation_id"]: [e["field"] for e in i["errors"]] for i in body["items"]}
    assert fields["C-nobody"] == ["buyer_id"] and fields["C-noshop"] == ["shop_id"]
    assert fields["C-order"] == ["order_id"] and fields["C-bad"] == ["messages.1.attachment_hashes"]
    assert "push their orders first" in body["items"][1]["errors"][0]["reason"]
    assert (body["created"], body["rejected"], body["conversations_rejected"]) == (3, 11, 4)
    assert list(ChatConversation.objects.values_list("external_id", flat=True)) == ["OK"]
    assert not ChatMessage.objects.filter(external_id__startswith="x").exists()


def test_a_conversation_cannot_move_to_another_buyer(members, system):
    push(system, conversation(messages=three_messages()))

    moved = push(system, conversation(buyer_id="tb_carol", messages=[message("m9", NOW, "hi")])).json()

    assert moved["items"][0]["status"] == "rejected"
    assert ChatConversation.objects.get().buyer == members.bob
    assert not ChatMessage.objects.filter(external_id="m9").exists()


def test_only_the_marketplace_pushes_and_a_push_is_limited(members, system):
    too_many = [message(f"m{i}", NOW - timedelta(seconds=i), "x") for i in range(1001)]

    refused = push(as_user(members.alice), conversation(messages=three_messages()))
    big = push(system, conversation(messages=too_many))

    assert refused.status_code == 403
    assert big.status_code == 422 and big.json()["code"] == "invalid"
    assert "at most 1000 messages" in big.json()["message"] and "1001 messages" in big.json()["message"]
    assert not ChatMessage.objects.exists()


def test_a_time_without_offset_is_refused(members, system):
    naive = message("m1", NOW, "hi")
    naive["sent_at"] = "2026-11-12T09:00:00"

    body = push(system, conversation(messages=[naive])).json()

    assert body["items"][0]["errors"][0]["field"] == "messages.0.sent_at"
    assert "UTC offset" in body["items"][0]["errors"][0]["reason"]
