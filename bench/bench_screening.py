"""Chat screening: speed on a large mixed batch, precision and recall on the labelled evaluation set.

screen_msgs_per_s — the pure engine (`reviewshield.screening.screen`) on one core, in batches of
1,000 (the API's largest), over 200,000 generated seller/buyer chat messages: about 60 % Chinese
and 40 % English; most of them shipping updates, refund offers, apologies, questions and polite
requests to update a review, about 6 % buyer replies and about 3 % the hard cases (threats,
insults, review pressure, funeral curses, doxxing with the buyer's own phone, evasion spellings)
— more than real chat holds, so the slow path is exercised. 4,000 conversations, a third of them
after a bad review, half with the buyer's phone, name and address known. Target ≥ 150,000.

screen_precision_<category> / screen_recall_<category> — on all of `screening/eval/messages.jsonl`
(hand-written, both languages, each line with its own context). Targets: threat and doxxing
recall ≥ 0.9 at precision ≥ 0.9.

screen_heldout_precision_<category> / screen_heldout_recall_<category> — the same on the slice
written after all tuning and never tuned on (`evaluation.held_out`): how the lexicon does on
wording it has not seen, which is what production chat is.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta

from harness import Figures, figures
from reviewshield.policy.calendar import BUSINESS_TZ
from reviewshield.screening import Context, Message, evaluation, screen
from reviewshield.screening.engine import default_lexicon
from reviewshield.screening.normalize import warm_up

MESSAGES = 200_000
BATCH = 1_000
CONVERSATIONS = 4_000

_PRODUCTS_ZH = [
    "保温杯",
    "蓝牙耳机",
    "连衣裙",
    "电饭煲",
    "数据线",
    "儿童雨靴",
    "茶叶礼盒",
    "床上四件套",
    "手机壳",
    "空气炸锅",
]
_PRODUCTS_EN = [
    "kettle",
    "phone case",
    "wool scarf",
    "desk lamp",
    "rice cooker",
    "yoga mat",
    "tea set",
    "backpack",
    "charger",
]
_COURIERS_ZH = ["顺丰", "中通", "圆通", "韵达", "京东快递", "申通", "邮政"]
_COURIERS_EN = ["SF Express", "ZTO", "YTO", "JD Logistics", "China Post"]
_HARMLESS_ZH = [
    "亲，您的{p}已经发货了，{c}单号{n}，请注意查收哦",
    "您好，{p}今天下午就能到，快递员会提前给您打电话",
    "不好意思让您久等了，我们给您申请了{a}元退款，请查收",
    "亲，收到货有任何问题随时联系我们，一定给您处理好",
    "实在抱歉，{p}颜色发错了，我们马上给您补发一个",
    "您看是退款还是换货呢？两种我们都可以安排",
    "好的亲，已经给您备注了，明天一早就发{c}",
    "亲，{p}的尺码表发您了，您参考一下哦",
    "收到，已为您修改收货地址，稍后会同步到物流",
    "感谢您的评价，我们会继续努力改进的",
    "这边看到物流停了两天，已经帮您催{c}了",
    "亲，{p}有七天无理由退货，您放心购买",
    "您好在吗？想跟您确认一下{p}的颜色",
    "给您带来不便非常抱歉，这是我们的失误",
    "问题解决了的话，方便的时候可以追加一下评价，谢谢您",
    "好的，退货地址是杭州市余杭区文一西路{a}号，收件人写售后部",
    "亲，活动价已经是最低了，再送您一个小挂件哈",
    "您的退款{a}元已原路退回，一般1到3个工作日到账",
    "早上好，{p}已经打包好了，等{c}来揽收",
    "在的亲，有什么可以帮您",
    "亲，这款{p}有三个颜色，您喜欢哪个？",
    "收到您的留言了，马上帮您查一下{c}的物流",
    "您好，{p}支持七天无理由退货，运费险已经帮您买了",
    "不好意思，{p}今天刚卖完，明天补货后第一时间发您",
    "亲，麻烦提供一下订单截图，我们帮您核实",
    "您好，这边看到您申请了退款，已经同意了",
    "好的，给您备注不要放驿站，直接送货上门",
    "您好，{p}的说明书电子版发您了，您看一下",
    "抱歉，仓库发错了尺码，已经安排{c}给您换货",
    "亲，今天下单的话明天就能到，{c}次日达",
    "您好，发票需要开公司抬头吗？",
    "给您补了{a}元的差价，请查收",
    "亲，您的{p}已经到站了，快递员下午派送",
    "您好，这个问题我们已经反馈给厂家了，会给您一个答复",
    "收到，已经帮您取消订单，退款会原路返回",
    "亲，店铺上新了，老客户有专属优惠",
    "谢谢亲的支持，欢迎下次再来",
    "您好，{p}是全新正品，有质量问题包退包换",
    "亲，周末仓库不发货，周一一早给您发",
    "您好，{c}那边说明天上午派送，请保持电话畅通",
]
_HARMLESS_EN = [
    "Hi, your {p} has shipped with {c}, tracking number {n}.",
    "Sorry for the delay! We have refunded {a} yuan to your account.",
    "The courier will call you before delivery tomorrow afternoon.",
    "Thanks for your review, we really appreciate the feedback.",
    "Could you send a photo of the damage so we can arrange a replacement?",
    "No problem, we can exchange the {p} for a larger size.",
    "We apologise for the mix-up. A new {p} goes out today.",
    "Your refund of {a} yuan has been processed and should arrive in 1-3 days.",
    "If the issue is fixed, would you consider updating your review? No pressure at all.",
    "Happy to help! Let us know if anything else comes up.",
    "The package is at the collection point near your building, code {a}.",
    "We'll pick it up from your place on Friday, the courier will bring a box.",
    "Good morning, just checking the {p} arrived safely?",
    "Our return address is 120 Wensan Road, Hangzhou. Please write the order number on the box.",
    "The {p} comes in three colours, which one would you like?",
    "We've checked with {c}, your parcel arrives tomorrow.",
    "Your {p} is covered by a one-year warranty.",
    "Sorry, the {p} sold out today, we restock on Friday.",
    "Could you send a screenshot of the order page?",
    "We've approved your refund request.",
    "No problem, we'll ask the courier to deliver to your door.",
    "The manual for the {p} is attached as a PDF.",
    "We sent the wrong size, a replacement is going out with {c} today.",
    "Orders placed before 4 pm ship the same day.",
    "Do you need a company invoice?",
    "We've refunded the {a} yuan price difference.",
]
_BUYER = [
    "好的谢谢",
    "什么时候发货？",
    "收到了",
    "东西坏了怎么办",
    "我已经给了差评",
    "你们态度太差了",
    "ok thanks",
    "When will it arrive?",
    "It's broken.",
    "我要退款",
    "你说要弄死我，我已经截图报警了",
    "Please stop messaging me.",
]
_HARD = [
    "再不删差评我弄死你",
    "删差评给你返{a}",
    "我知道你住哪，{k}对吧",
    "你个傻逼，给我等着",
    "给你寄个花圈，节哀",
    "I know where you live. Delete the review.",
    "We'll pay you {a} yuan to remove the review",
    "you f*cking idiot",
    "你的电话{phone}我已经发到网上了",
    "ｓｈａ ｂｉ 买家",
    "信不信我找人收拾你",
    "Watch your back, this isn't over",
    "祝你全家死光",
    "你女儿在哪上学我都知道",
    "差评不删的话后果自负",
    "把差評刪了，不然有你好看",
]


def _chat(
    rng: random.Random, contexts: list[Context], phones: list[str]
) -> tuple[list[Message], list[Context]]:
    base = datetime(2026, 4, 15, 9, 0, tzinfo=BUSINESS_TZ)
    messages: list[Message] = []
    chosen: list[Context] = []
    for i in range(MESSAGES):
        conversation = rng.randrange(CONVERSATIONS)
        roll = rng.random()
        slots = {
            "p": rng.choice(_PRODUCTS_ZH),
            "c": rng.choice(_COURIERS_ZH),
            "n": f"{rng.choice(['SF', 'ZT', 'YT', 'JD'])}{rng.randrange(10**11, 10**12)}",
            "a": str(rng.choice([5, 10, 20, 35, 50, 88, 120, 199])),
            "k": rng.choice(["虹桥路88号", "阳光小区3栋", "文三路100号"]),
            "phone": phones[conversation],
        }
        sender = "seller"
        if roll < 0.06:
            text, sender = rng.choice(_BUYER), "buyer"
        elif roll < 0.09:
            text = rng.choice(_HARD).format(**slots)
        elif roll < 0.67:
            text = rng.choice(_HARMLESS_ZH).format(**slots)
        else:
            slots["p"], slots["c"] = rng.choice(_PRODUCTS_EN), rng.choice(_COURIERS_EN)
            text = rng.choice(_HARMLESS_EN).format(**slots)
        messages.append(Message(text, sender, base + timedelta(seconds=i * 3)))
        chosen.append(contexts[conversation])
    return messages, chosen


def _contexts(rng: random.Random) -> tuple[list[Context], list[str]]:
    start = datetime(2026, 4, 14, 20, 0, tzinfo=BUSINESS_TZ)
    contexts: list[Context] = []
    phones: list[str] = []
    for _ in range(CONVERSATIONS):
        phone = f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}"
        phones.append(phone)
        known: dict[str, tuple[str, ...]] = {}
        if rng.random() < 0.5:
            known = {"phone": (phone,), "name": ("王小明",), "address": ("上海市长宁区虹桥路88号1201室",)}
        contexts.append(
            Context(
                bad_review_at=start if rng.random() < 0.33 else None,
                open_complaint=rng.random() < 0.05,
                buyer_known=known,
            )
        )
    return contexts, phones


@figures(
    "screen_msgs_per_s",
    *(
        f"screen_{part}{kind}_{category}"
        for part in ("", "heldout_")
        for category in evaluation.CATEGORIES
        for kind in ("precision", "recall")
    ),
)
def screening() -> Figures:
    warm_up()
    lexicon = default_lexicon()
    rng = random.Random(6)
    contexts, phones = _contexts(rng)
    messages, chosen = _chat(rng, contexts, phones)
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        for offset in range(0, MESSAGES, BATCH):
            screen(messages[offset : offset + BATCH], chosen[offset : offset + BATCH], lexicon=lexicon)
        rates.append(MESSAGES / (time.perf_counter() - started))
    result: Figures = {"screen_msgs_per_s": (statistics.median(rates), "msgs/s")}
    cases = evaluation.load_cases()
    result.update(evaluation.summary(evaluation.evaluate(cases, lexicon)))
    result.update(
        evaluation.summary(evaluation.evaluate(evaluation.held_out(cases), lexicon), "screen_heldout")
    )
    return result
