"""What the chat does with a seller's message: deliver, warn, hold for an agent, or block — and why."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reviewshield.screening import Context, Message, Verdict, reason_text, screen

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTERNOON = datetime(2026, 4, 15, 15, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 4, 15, 23, 30, tzinfo=SHANGHAI)
CALM = Context()
BUYER = {
    "phone": ("13917206634",),
    "name": ("陈晓雯",),
    "address": ("上海市徐汇区漕溪北路398号2号楼1503室",),
    "employer": ("上海晨星广告有限公司",),
    "family": ("陈朵朵",),
}


def after_review(at: datetime = AFTERNOON, hours: float = 3, **extra: object) -> Context:
    return Context(bad_review_at=at - timedelta(hours=hours), **extra)  # type: ignore[arg-type]


def one(text: str, context: Context = CALM, at: datetime = AFTERNOON, sender: str = "seller") -> Verdict:
    return screen([Message(text, sender, at)], context)[0]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("再不删差评我弄死你", "threat"),
        ("信不信我找人收拾你", "threat"),
        ("你给我等着，走着瞧", "threat"),
        ("Delete the review or I'll kill you", "threat"),
        ("Watch your back, this isn't over", "threat"),
        ("你个傻逼", "insult"),
        ("你脑子有病吧", "insult"),
        ("You are an idiot", "insult"),
        ("Fuck you and your one star", "insult"),
        ("我知道你住哪", "doxxing"),
        ("再不删就把你人肉出来", "doxxing"),
        ("I know where you live", "doxxing"),
        ("I'll post your address online", "doxxing"),
        ("删差评给你返20", "review_pressure"),
        ("你把差评删了我就给你退款", "review_pressure"),
        ("We'll pay you 20 yuan to remove the review", "review_pressure"),
        ("Take the review down or you won't get your refund", "review_pressure"),
        ("给你寄了个花圈，记得签收", "funeral"),
        ("祝你全家死光", "funeral"),
        ("A funeral wreath is on its way to your door", "funeral"),
        ("I hope your whole family dies", "funeral"),
    ],
)
def test_every_category_is_flagged_in_both_languages_after_a_bad_review(text: str, category: str) -> None:
    verdict = one(text, after_review())

    assert category in verdict.categories
    assert verdict.action in ("warn", "hold", "block")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ＳＢ", "insult"),  # full width
        ("傻\u200b逼", "insult"),  # zero-width space
        ("傻 逼 买 家", "insult"),  # spaced out
        ("沙比", "insult"),  # homophone
        ("煞笔", "insult"),
        ("sha bi", "insult"),  # pinyin
        ("shǎbī", "insult"),  # pinyin with tones
        ("你个SB", "insult"),  # initials
        ("草泥马", "insult"),
        ("cao ni ma", "insult"),
        ("弄４你", "threat"),  # full-width digit for 死 (si)
        ("nong si ni", "threat"),
        ("弄si你", "threat"),  # mixed
        ("I will k1ll you", "threat"),  # digit for a letter
        ("k i l l   y o u", "threat"),
        ("𝐤𝐢𝐥𝐥 𝐲𝐨𝐮", "threat"),  # mathematical letters
        ("把差評刪了，不然有你好看", "review_pressure"),  # traditional characters
        ("删 差 评 给 红 包", "review_pressure"),
        ("r3m0ve the review and get a refund", "review_pressure"),
        ("全家死絕", "funeral"),  # traditional
        ("quan jia si guang", "funeral"),
    ],
)
def test_evasion_spellings_are_caught(text: str, category: str) -> None:
    assert category in one(text, after_review()).categories


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("给你退款", after_review()),  # a refund offer is not review pressure
        ("我们给您退款了，评价您随意", after_review()),
        ("We refunded you. Whatever you decide about the review is fine.", after_review()),
        ("Thanks for your review!", after_review()),
        ("感谢您的评价，我们会继续努力改进的", after_review()),
        ("I'll come to your place tomorrow to drop off the replacement", CALM),  # a visit with no quarrel
        ("The courier will come to your place on Monday to pick up the return", after_review()),
        ("明天师傅去你家安装空调", after_review()),  # an installer's visit
        ("您订的寿衣和纸钱已经发货了", CALM),  # a funeral-goods shop
        ("This dress is drop-dead gorgeous", CALM),
        ("That jacket looks killer with jeans", CALM),
        ("这个价格我们真的是亏死了", CALM),
        ("秒杀活动晚上八点开始", CALM),
        ("Flat 5B gets the parcel tomorrow", CALM),  # "5B" is no "SB"
        ("USB cable included", CALM),
        ("Setup takes skill, you'll love it", CALM),  # "kill" inside a word
        ("价格58元", CALM),  # digits read as letters are no "sb"
        ("如果方便的话，收到换货后再看看要不要更新评价，不更新也完全没关系", after_review()),
        ("If the issue is fixed, would you consider updating your review? No pressure.", after_review()),
        ("陈女士，补发的那件已经用顺丰寄到漕溪北路398号了", after_review(buyer_known=BUYER)),
        ("陈晓雯您好，您的订单已经打包好了", Context(buyer_known=BUYER)),
    ],
)
def test_harmless_look_alikes_are_delivered(text: str, context: Context) -> None:
    verdict = one(text, context)

    assert verdict.action == "allow"
    assert verdict.categories == ()


def test_buyers_are_not_screened_even_when_quoting_a_threat() -> None:
    verdict = one("你说要弄死我，我已经截图报警了", after_review(), sender="buyer")

    assert verdict.action == "allow"
    assert verdict.reason.code == "not_screened"
    assert verdict.spans == ()


def test_i_know_where_you_live_after_a_bad_review_late_at_night_is_blocked_and_warned_otherwise() -> None:
    night = one("我知道你住哪", after_review(NIGHT, hours=2), at=NIGHT)
    day = one("我知道你住哪", CALM)

    assert night.action in ("hold", "block")
    assert {"threat", "doxxing"} <= set(night.categories)
    assert night.factors == ("after_review", "late_night")
    assert day.action == "warn"
    assert day.factors == ()


def test_a_visit_is_a_threat_only_after_a_quarrel() -> None:
    text = "I'll come to your place tonight"

    assert one(text, CALM).action == "allow"
    assert one(text, after_review()).categories == ("threat",)


def test_the_review_window_ends_after_n_days() -> None:
    text = "I'll come to your place tonight"
    inside = Context(bad_review_at=AFTERNOON - timedelta(days=6))
    outside = Context(bad_review_at=AFTERNOON - timedelta(days=8))
    shorter = Context(bad_review_at=AFTERNOON - timedelta(days=6), review_window_days=3)

    assert one(text, inside).action != "allow"
    assert one(text, outside).action == "allow"
    assert one(text, shorter).action == "allow"


def test_an_open_complaint_raises_a_polite_review_request_to_pressure() -> None:
    text = "方便的话追加一下评价"

    assert one(text, after_review()).action == "allow"
    pressed = one(text, after_review(open_complaint=True))
    assert pressed.categories == ("review_pressure",)
    assert pressed.factors == ("open_complaint",)


def test_asking_about_the_review_again_within_the_hour_is_pressure() -> None:
    first = Message("您好，问题解决了的话方便追加一下评价吗", "seller", AFTERNOON)
    second = Message("亲，方便追加个好评吗", "seller", AFTERNOON + timedelta(minutes=20))
    much_later = Message("亲，方便追加个好评吗", "seller", AFTERNOON + timedelta(hours=3))
    context = after_review()

    verdicts = screen([first, second, much_later], context)

    assert [v.action for v in verdicts] == ["allow", "warn", "allow"]
    assert verdicts[1].factors == ("repeated",)
    # the requests of the hour before the batch count too
    earlier = after_review(recent_texts=("您好，问题解决了的话方便追加一下评价吗",))
    assert one("亲，方便追加个好评吗", earlier).categories == ("review_pressure",)


def test_the_buyers_own_phone_address_and_family_are_doxxing_in_any_spelling() -> None:
    context = after_review(buyer_known=BUYER)

    for text in (
        "139 1720 6634，这是你的号码吧",
        "１３９１７２０６６３４",
        "幺三九幺七二零六六三四",
        "漕溪北路398号2号楼，没错吧",
        "你女儿叫陈朵朵吧",
        "晨星广告，你在那上班对吧",
    ):
        assert "doxxing" in one(text, context).categories, text


def test_a_refund_offer_stays_harmless_but_a_refund_for_the_review_is_pressure() -> None:
    assert one("我们给您退款", after_review()).categories == ()
    assert one("你把差评删了我就给你退款", after_review()).categories == ("review_pressure",)


def test_spans_point_at_the_original_characters_even_through_noise() -> None:
    text = "亲，你个傻\u200b逼，再不删我ｎｏｎｇ　ｓｉ　ｎｉ"

    verdict = one(text, after_review())
    found = {(text[s.start : s.end], s.category, s.entry) for s in verdict.spans}

    assert ("傻\u200b逼", "insult", "insult/worst-zh") in found
    assert ("ｎｏｎｇ　ｓｉ　ｎｉ", "threat", "threat/kill-zh") in found


def test_the_reason_reads_in_chinese_and_english() -> None:
    verdict = one("我知道你住哪", after_review(NIGHT, hours=2), at=NIGHT)

    assert reason_text(verdict.reason, "zh-hans").startswith("已")
    assert "（差评后、深夜发送）" in reason_text(verdict.reason, "zh-hans")
    assert "(sent after the buyer's bad review, late at night)" in reason_text(verdict.reason, "en")
    assert reason_text(one("好的亲").reason, "en") == "Nothing in this message needs attention."
    assert reason_text(one("好的", sender="buyer").reason, "zh") == "仅筛查商家发给买家的消息。"


def test_a_seller_flooding_the_buyer_or_repeating_one_message_is_spam() -> None:
    messages = [Message(f"亲，看到请回复{i}", "seller", AFTERNOON + timedelta(minutes=i)) for i in range(25)]
    flooded = screen(messages, after_review())

    assert "spam" not in flooded[0].categories
    assert "spam" in flooded[-1].categories
    repeated = screen([Message("在吗？", "seller", AFTERNOON + timedelta(minutes=i)) for i in range(3)], CALM)
    assert ["spam" in v.categories for v in repeated] == [False, False, True]
    assert "spam" in one("在 吗", Context(recent_texts=("在吗", "在吗？"))).categories
    assert "spam" in one("亲", Context(recent_seller_messages=30)).categories
    assert "spam" not in one("亲", Context(recent_seller_messages=5)).categories


def test_messages_an_hour_apart_are_not_a_flood() -> None:
    messages = [Message("在吗？", "seller", AFTERNOON + timedelta(hours=i)) for i in range(5)]

    assert all(v.categories == () for v in screen(messages, CALM))


def test_a_batch_keeps_each_conversation_apart() -> None:
    alice, bob = after_review(), after_review()
    messages = [Message("在吗？", "seller", AFTERNOON + timedelta(minutes=i)) for i in range(4)]

    verdicts = screen(messages, [alice, bob, alice, bob])

    assert all("spam" not in v.categories for v in verdicts)


def test_a_batch_judges_each_message_with_its_own_context() -> None:
    messages = [Message("I'll come to your place tonight", "seller", AFTERNOON)] * 2

    calm, quarrel = screen(messages, [CALM, after_review()])

    assert calm.action == "allow" and quarrel.action != "allow"


def test_a_naive_time_and_a_wrong_number_of_contexts_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        screen([Message("我弄死你", "seller", datetime(2026, 4, 15, 15, 0))], after_review())  # noqa: DTZ001
    with pytest.raises(ValueError, match="2 messages but 1 contexts"):
        screen([Message("a", "seller", AFTERNOON)] * 2, [CALM])


@pytest.mark.parametrize(
    ("at", "late"),
    [
        (datetime(2026, 4, 15, 22, 0, tzinfo=SHANGHAI), True),
        (datetime(2026, 4, 15, 21, 59, tzinfo=SHANGHAI), False),
        (datetime(2026, 4, 16, 6, 59, tzinfo=SHANGHAI), True),
        (datetime(2026, 4, 16, 7, 0, tzinfo=SHANGHAI), False),
        (datetime(2026, 4, 15, 15, 30, tzinfo=ZoneInfo("UTC")), True),  # 23:30 in Beijing
        (datetime(2026, 4, 15, 15, 30, tzinfo=ZoneInfo("Europe/Berlin")), False),  # 21:30 in Beijing
    ],
)
def test_late_night_is_22_to_7_beijing_time_whatever_zone_the_time_comes_in(at: datetime, late: bool) -> None:
    verdict = one("I'll come to your place tonight", after_review(at), at=at)

    assert ("late_night" in verdict.factors) is late


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("你家住哪我清楚", "threat"),
        ("出门注意安全", "threat"),
        ("走夜路小心点", "threat"),
        ("晚上回家路上当心点", "threat"),
        ("说不定哪天你家就出点什么意外", "threat"),
        ("你每天几点下班我都知道", "threat"),
        ("这事没完，咱们慢慢玩", "threat"),
        ("有种你出来，当面说清楚", "threat"),
        ("You'd better watch out", "threat"),
        ("I know where you live", "threat"),
        ("Something might happen to your family", "threat"),
        ("Be careful walking home after dark", "threat"),
        ("You picked the wrong shop to mess with", "threat"),
        ("I know your routine", "threat"),
        # 2026.12-1: a fate foretold, a grudge, a meeting in real life, a weapon at hand
        ("你这种人迟早出事", "threat"),
        ("别让我在现实里碰到你", "threat"),
        ("我手里有刀，你试试看", "threat"),
        ("我保证你下半辈子都在轮椅上过", "threat"),
        ("You'll regret the day you wrote that review.", "threat"),
        ("People like you end up in the hospital.", "threat"),
        ("You have no idea who you're messing with.", "threat"),
        ("你儿子在实验小学上学吧", "doxxing"),
        ("亲，评价的事考虑好了吗", "review_pressure"),
        ("Have you changed the review yet?", "review_pressure"),
        ("Edit your rating to 5 stars and we'll refund the shipping", "review_pressure"),
        ("你这头猪", "insult"),
        ("You are a waste of space", "insult"),
        ("祝你不得善终", "funeral"),
        ("I pray you die slowly", "funeral"),
    ],
)
def test_veiled_wording_is_caught_by_family_after_a_bad_review(text: str, category: str) -> None:
    assert category in one(text, after_review()).categories


@pytest.mark.parametrize(
    "text",
    [
        "天气冷了，出门记得多穿点",
        "亲，快递员说下班路上顺便给您送过去，注意查收",
        "您放心，包裹有保价，路上出意外我们全赔",
        "不好意思又找你麻烦了，麻烦确认一下收货地址",
        "评价的事您不用有压力，东西用着好就行",
        "您的退款我们已经同意了，五星好评就不用了",
        "Be careful when you open the box, the glass edges are sharp.",
        "If anything happens to the kettle within a year, the warranty covers it.",
        "Grab the winter sale while you can, it ends Sunday.",
        "Please pay the price difference and we'll send the larger size.",
        "The driver says he'll drop it at your door after work tomorrow.",
        "Your dog will love this chew toy.",
        # a product recommended for the buyer's family is not their school found out
        "你孩子上学用这个书包正合适",
        "Your kids will love walking to school with this backpack.",
        "我们会让您满意的，直到问题解决为止",
        "You'll love it, we guarantee you won't regret it.",
        "Sorry for messing with your order, the refund is done.",
        "Keep the receipt, you're going to need it for the warranty.",
    ],
)
def test_the_same_words_in_ordinary_talk_are_delivered_even_after_a_bad_review(text: str) -> None:
    verdict = one(text, after_review())

    assert verdict.categories == ()


@pytest.mark.parametrize("text", ["路上小心点", "晚上回家路上当心", "Watch your step", "Lock your doors"])
def test_a_safety_warning_without_a_quarrel_is_small_talk(text: str) -> None:
    assert "threat" not in one(text, CALM).categories


def test_a_batch_of_one_template_sent_to_many_buyers_judges_each_in_its_own_context() -> None:
    # The engine judges a repeated text once per circumstances: each buyer still gets their own verdict.
    text = "I'll come to your place tonight"
    contexts = [CALM, after_review(), CALM, after_review(NIGHT, hours=2), after_review()]
    times = [AFTERNOON, AFTERNOON, AFTERNOON, NIGHT, AFTERNOON]

    verdicts = screen([Message(text, "seller", at) for at in times], contexts)

    assert [v.action for v in verdicts] == [
        one(text, c, at).action for c, at in zip(contexts, times, strict=True)
    ]
    assert verdicts[0].action == "allow" and verdicts[1].categories == ("threat",)
    assert "late_night" in verdicts[3].factors


def test_a_phone_number_spaced_with_ideographic_spaces_is_still_a_phone_number() -> None:
    verdict = one("你的电话是139\u30001720\u30006634吧", after_review())

    assert "doxxing" in verdict.categories
