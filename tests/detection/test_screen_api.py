"""POST /api/screen/messages: the chat backend asks before delivering; context comes from what we know."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import translation

from reviewshield.chat.models import ChatConversation, ChatMessage
from reviewshield.detection.labels import reason_for
from reviewshield.detection.models import Alert, ChatMute, ScreenedMessage
from reviewshield.screening import default_lexicon
from tests.detection.conftest import NOW, SCREEN_URL, item, screen

pytestmark = pytest.mark.django_db

COURIER = "I'll come to your place tomorrow"
BOBS_STREET = "你住上海市浦东新区世纪大道100号吧"


def verdicts(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.content
    return {v["message_id"]: v for v in response.json()["verdicts"]}


def test_harmless_messages_pass_and_nothing_is_stored(chat_backend: Any, bad_review: Any) -> None:
    got = verdicts(
        screen(
            chat_backend,
            item("m1", "您的包裹已发出，顺丰单号SF1234567890"),
            item("m2", "Sorry about the tea, we can refund you in full."),
        )
    )
    assert [got["m1"]["action"], got["m2"]["action"]] == ["allow", "allow"]
    assert got["m1"]["reason"]["code"] == "clean"
    assert ScreenedMessage.objects.count() == 0 and Alert.objects.count() == 0


def test_the_same_words_are_held_only_after_the_buyers_bad_review(chat_backend: Any, members: Any) -> None:
    """A courier's "I'll come to your place" is nothing without a bad review; after one it is held."""
    before = verdicts(screen(chat_backend, item("m1", COURIER)))
    assert before["m1"]["action"] == "allow"
    assert before["m1"]["context_applied"] is True

    from reviewshield.marketplace.models import Review

    order = members.order(trade_success_at=NOW - timedelta(days=2))
    review = Review.objects.create(
        order=order, rating="bad", text="Stale.", posted_at=NOW - timedelta(hours=1)
    )
    after = verdicts(screen(chat_backend, item("m2", COURIER)))["m2"]
    assert after["action"] == "hold"
    assert [c["code"] for c in after["categories"]] == ["threat"]
    assert after["factors"] == ["after_review"]
    assert "bad review" in after["reason"]["text"]

    stored = ScreenedMessage.objects.get(message_id="m2")
    lexicon = default_lexicon()
    assert (stored.action, stored.lexicon_version, stored.lexicon_hash) == (
        "hold",
        lexicon.version,
        lexicon.content_hash,
    )
    alert = Alert.objects.get()
    assert (alert.shop_id, alert.buyer_id, alert.order_id, alert.review_id) == (
        members.shop.pk,
        members.bob.pk,
        order.pk,
        review.pk,
    )
    assert alert.status == "open" and alert.message_count == 1


def test_the_buyers_own_phone_and_address_make_a_message_doxxing(chat_backend: Any, members: Any) -> None:
    """Bob's address is known to ReviewShield, Carol's is another: the same text is doxxing only to Bob."""
    got = verdicts(screen(chat_backend, item("m1", BOBS_STREET), item("m2", BOBS_STREET, buyer="tb_carol")))
    assert got["m1"]["action"] == "warn"
    assert [c["code"] for c in got["m1"]["categories"]] == ["doxxing"]
    span = next(s for s in got["m1"]["spans"] if s["category"] == "doxxing")
    assert "世纪大道" in BOBS_STREET[span["start"] : span["end"]]
    assert got["m2"]["action"] == "allow"
    stored = ScreenedMessage.objects.get()  # a warning is kept for agents, but raises no alert
    assert (stored.message_id, stored.buyer_id) == ("m1", members.bob.pk)
    assert Alert.objects.count() == 0


def test_a_buyers_changed_address_counts_from_the_next_batch(chat_backend: Any, members: Any) -> None:
    """The API keeps each buyer's folded data between batches; a change of address must not be
    screened against the old one."""
    from reviewshield.accounts.models import User

    new_street = "你住杭州市西湖区文三路55号吧"
    first = verdicts(screen(chat_backend, item("m1", BOBS_STREET), item("m2", new_street)))
    assert first["m1"]["action"] == "warn" and first["m2"]["action"] == "allow"

    User.objects.filter(pk=members.bob.pk).update(address="杭州市西湖区文三路55号")
    second = verdicts(screen(chat_backend, item("m3", BOBS_STREET), item("m4", new_street)))

    assert [c["code"] for c in second["m4"]["categories"]] == ["doxxing"]
    assert second["m4"]["action"] == "warn"
    assert second["m3"]["action"] == "allow"  # the old street is nobody's address now


def test_the_reason_comes_in_the_callers_language(chat_backend: Any, bad_review: Any) -> None:
    chat_backend.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    got = verdicts(screen(chat_backend, item("m1", "我知道你住哪，小心点")))["m1"]
    assert got["action"] == "block"
    assert "差评" in got["reason"]["text"]
    assert got["categories"][0]["label"] == "威胁"


def test_one_message_may_be_sent_on_its_own(chat_backend: Any, members: Any) -> None:
    response = chat_backend.post(
        SCREEN_URL,
        {"platform": "taobao", "message": item("m1", "I will kill you")},
        content_type="application/json",
    )
    got = verdicts(response)["m1"]
    assert got["action"] == "block"
    body = response.json()
    assert body["lexicon"]["version"] == default_lexicon().version
    assert len(body["alerts"]) == 1


def test_messages_the_seller_pushed_in_the_hour_before_count_as_flooding(
    chat_backend: Any, members: Any
) -> None:
    conversation = ChatConversation.objects.create(
        platform=members.taobao,
        external_id="C1",
        shop=members.shop,
        buyer=members.bob,
        created_at=NOW - timedelta(hours=2),
    )
    ChatMessage.objects.bulk_create(
        ChatMessage(
            conversation=conversation,
            external_id=f"old{i}",
            sender="seller",
            sent_at=NOW - timedelta(minutes=50) + timedelta(seconds=20 * i),
            text=f"Hello, are you there? ({i})",
            received_at=NOW,
        )
        for i in range(60)
    )
    flooded = verdicts(screen(chat_backend, item("m1", "Hello, are you there?")))["m1"]
    quiet = verdicts(screen(chat_backend, item("m2", "Hello, are you there?", buyer="tb_carol")))["m2"]
    assert "spam" in [c["code"] for c in flooded["categories"]]
    assert quiet["action"] == "allow"


def test_screening_a_message_again_stores_it_once(chat_backend: Any, bad_review: Any) -> None:
    for _ in range(2):
        assert verdicts(screen(chat_backend, item("m1", "I will kill you")))["m1"]["action"] == "block"
    assert ScreenedMessage.objects.count() == 1
    assert Alert.objects.get().message_count == 1


def test_each_flagged_message_is_stored_with_its_verdict_and_alert(
    chat_backend: Any, members: Any, bad_review: Any
) -> None:
    """What agents read later is what the chat backend was told: every value of each stored row."""
    lexicon = default_lexicon()
    sent = [
        item("t1", "我知道你住哪，小心点", at=NOW),
        item("t2", "我知道你住哪，小心点", at=NOW + timedelta(seconds=5)),  # the same verdict, shared
        item(
            "w1",
            "能不能把差评删了？",
            at=NOW + timedelta(seconds=9),
            order_id=bad_review.order.external_id,
        ),
        item("ok", "您的包裹已发货", at=NOW + timedelta(seconds=12)),
    ]
    body = screen(chat_backend, *sent).json()
    got = {v["message_id"]: v for v in body["verdicts"]}

    rows = {m.message_id: m for m in ScreenedMessage.objects.select_related("alert")}
    assert set(rows) == {"t1", "t2", "w1"}  # the allowed message is not kept
    (alert,) = Alert.objects.all()
    assert body["alerts"] == [alert.reference]
    for message in sent[:3]:
        row, verdict = rows[message["message_id"]], got[message["message_id"]]
        assert row.action == verdict["action"]
        assert row.categories == [c["code"] for c in verdict["categories"]]
        assert row.scores == verdict["scores"]
        assert row.spans == [[s["start"], s["end"], s["category"], s["entry"]] for s in verdict["spans"]]
        assert row.reason_code == verdict["reason"]["code"] and row.factors == verdict["factors"]
        with translation.override("en"):  # what an agent's page renders from the stored row
            assert reason_for(row.reason_code, row.reason_params) == verdict["reason"]["text"]
        assert row.muted is False and row.text == message["text"] and row.sender == "seller"
        assert row.sent_at == datetime.fromisoformat(message["sent_at"])
        assert (row.shop_id, row.buyer_id) == (bad_review.order.shop_id, bad_review.order.buyer_id)
        assert row.conversation_id == message["conversation_id"] and row.platform.code == "taobao"
        assert (row.lexicon_version, row.lexicon_hash) == (lexicon.version, lexicon.content_hash)
        assert row.screened_at is not None and row.screened_at.tzinfo is not None
    assert rows["t1"].action in ("hold", "block") and rows["t1"].alert == alert and rows["t2"].alert == alert
    assert rows["w1"].alert is None and rows["w1"].order_id == bad_review.order.pk
    assert rows["t1"].order_id is None

    # An agent mutes the pair: the next message is blocked, and kept as muted.
    ChatMute.objects.create(
        shop_id=bad_review.order.shop_id,
        buyer_id=bad_review.order.buyer_id,
        alert=alert,
        muted_by=members.erin,
        muted_at=NOW,
    )
    muted = verdicts(screen(chat_backend, item("m1", "您的包裹已发货", at=NOW + timedelta(minutes=1))))["m1"]
    row = ScreenedMessage.objects.get(message_id="m1")
    assert muted["action"] == "block" and muted["muted"] is True
    assert (row.action, row.muted, row.reason_code, row.sender) == ("block", True, "muted", "seller")


def test_a_second_threat_joins_the_pairs_open_alert(chat_backend: Any, bad_review: Any) -> None:
    screen(chat_backend, item("m1", "I will kill you"))
    screen(chat_backend, item("m2", COURIER, at=NOW + timedelta(minutes=5)))
    alert = Alert.objects.get()
    assert alert.message_count == 2
    assert alert.action == "block"
    assert alert.last_at == NOW + timedelta(minutes=5)
    assert [e.kind for e in alert.events.all()] == ["raised", "messages_added"]


def test_one_batch_raises_an_alert_per_pair_and_extends_the_one_still_open(
    chat_backend: Any, bad_review: Any
) -> None:
    from reviewshield.evidence.models import LogQueue

    older = bad_review.order
    screen(chat_backend, item("m0", "I will kill you"))
    bobs = Alert.objects.get()
    carol_order = _carols_order(bad_review)
    response = screen(
        chat_backend,
        item("m1", "I will kill you", at=NOW + timedelta(minutes=1)),
        item("m2", "I know where you live, I will kill you", buyer="tb_carol", at=NOW + timedelta(minutes=2)),
        item("m3", "你个傻X，等着吧", buyer="tb_carol", at=NOW + timedelta(minutes=3)),
    )
    assert response.status_code == 200, response.content
    bobs.refresh_from_db()
    carols_alert = Alert.objects.exclude(pk=bobs.pk).get()
    assert sorted(response.json()["alerts"]) == sorted([bobs.reference, carols_alert.reference])
    assert (bobs.message_count, bobs.version, bobs.order_id) == (2, 2, older.pk)
    assert [e.kind for e in bobs.events.all()] == ["raised", "messages_added"]
    assert carols_alert.buyer.username == "carol" and carols_alert.order_id == carol_order.pk
    assert carols_alert.review_id is None and carols_alert.message_count == 2
    assert set(carols_alert.categories) >= {"threat", "insult"}
    assert {m.message_id: m.alert_id for m in ScreenedMessage.objects.all()} == {
        "m0": bobs.pk,
        "m1": bobs.pk,
        "m2": carols_alert.pk,
        "m3": carols_alert.pk,
    }
    events = [e.pk for a in (bobs, carols_alert) for e in a.events.all()]
    assert {q.ref for q in LogQueue.objects.filter(ref__startswith="alert_event:")} == {
        f"alert_event:{pk}" for pk in events
    }


def _carols_order(bad_review: Any) -> Any:
    from reviewshield.accounts.models import User
    from reviewshield.marketplace.models import Order

    carol = User.objects.get(username="carol")
    older = bad_review.order
    Order.objects.create(
        platform=older.platform, channel=older.channel, shop=older.shop, buyer=carol, external_id="C-OLD",
        amount="10.00", status="trade_success", paid_at=NOW - timedelta(days=30),
        trade_success_at=NOW - timedelta(days=25),
    )  # fmt: skip
    return Order.objects.create(
        platform=older.platform, channel=older.channel, shop=older.shop, buyer=carol, external_id="C-NEW",
        amount="10.00", status="trade_success", paid_at=NOW - timedelta(days=3),
        trade_success_at=NOW - timedelta(days=1),
    )  # fmt: skip


def test_buyer_messages_are_not_judged(chat_backend: Any, bad_review: Any) -> None:
    got = verdicts(screen(chat_backend, item("m1", "I will kill you", sender="buyer")))["m1"]
    assert got["action"] == "allow"


def test_unknown_pairs_are_screened_without_context(chat_backend: Any, members: Any) -> None:
    got = verdicts(screen(chat_backend, item("m1", "I will kill you", shop="S-unknown")))["m1"]
    assert got["action"] == "block" and got["context_applied"] is False
    assert ScreenedMessage.objects.get().shop is None
    assert Alert.objects.count() == 0


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "at most 1000 messages"), ("zh-hans", "最多 1000 条")],
)
def test_a_batch_over_1000_is_refused_whole(
    chat_backend: Any, members: Any, lang: str, expected: str
) -> None:
    chat_backend.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    response = screen(chat_backend, *[item(f"m{i}", "I will kill you") for i in range(1001)])
    assert response.status_code == 422
    assert expected in response.json()["message"]
    assert ScreenedMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field", "en"),
    [
        ({"platform": "nowhere", "messages": [item("m1", "hi")]}, "platform", "Unknown platform"),
        (
            {"platform": "taobao", "messages": [item("m1", "hi", sender="courier")]},
            "sender",
            "Unknown sender",
        ),
        ({"platform": "taobao", "messages": [item("m1", "hi"), item("m1", "again")]}, "message_id", "twice"),
        ({"platform": "taobao", "messages": [item("m1", "x" * 5001)]}, "text", "at most 5000"),
        # The second message of a good batch fails: the whole batch is refused.
        ({"platform": "taobao", "messages": [item("m1", "hi"), item("  ", "hi")]}, "message_id", "id"),
        (
            {
                "platform": "taobao",
                "messages": [item("m1", "hi"), item("m2", "hi", at=NOW.replace(tzinfo=None))],
            },
            "sent_at",
            "time zone",
        ),
        (
            {"platform": "taobao", "messages": [item("m1", "hi"), item("m2", "hi", shop=" ")]},
            "shop_id",
            "required",
        ),
        (
            {"platform": "taobao", "messages": [item("m1", "hi"), item("m2", "hi", buyer="")]},
            "buyer_id",
            "required",
        ),
        ({"platform": "taobao"}, None, "either one message"),
        ({"platform": "taobao", "messages": []}, None, "at least one"),
    ],
)
def test_bad_batches_get_a_clear_error_and_nothing_is_stored(
    chat_backend: Any, members: Any, body: dict[str, Any], field: str | None, en: str
) -> None:
    response = chat_backend.post(SCREEN_URL, body, content_type="application/json")
    assert response.status_code == 422, response.content
    payload = response.json()
    assert en in payload["message"]
    if field:
        assert field in [e["field"] for e in payload["details"]["errors"]]
    zh = chat_backend.post(SCREEN_URL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.json()["message"] != payload["message"]
    assert ScreenedMessage.objects.count() == 0


@pytest.mark.parametrize("body", ['{"platform": "taobao", "messages": [', "platform=taobao", "\xff\xfe"])
def test_a_body_that_is_not_json_gets_a_clear_error_in_the_callers_language(
    chat_backend: Any, members: Any, body: str
) -> None:
    """The chat backend's bug (a cut-off body, a form post) is named as such, in both languages."""
    answers = {
        language: chat_backend.post(
            SCREEN_URL, body.encode("latin-1"), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
        )
        for language in ("en", "zh-hans")
    }

    assert {a.status_code for a in answers.values()} == {400}
    assert {a.json()["code"] for a in answers.values()} == {"invalid_json"}
    assert answers["en"].json()["message"] == "The request body is not valid JSON."
    assert answers["zh-hans"].json()["message"] == "请求内容不是有效的 JSON。"
    assert ScreenedMessage.objects.count() == 0


def test_people_cannot_call_the_screening_endpoint(members: Any) -> None:
    from tests.conftest import as_user

    for user in (members.alice, members.bob, members.erin):
        response = as_user(user).post(
            SCREEN_URL,
            {"platform": "taobao", "messages": [item("m1", "hi")]},
            content_type="application/json",
        )
        assert response.status_code in (401, 403)
