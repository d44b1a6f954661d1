"""Build the demo: 3 platforms, 30 shops, ~500 orders with reviews, ~60 complaints in every state.

Everything goes through the services with instants in the recent past, so deadlines, events and
notifications are exactly what real use would have produced; then the deadline worker catches up
once, moving cases whose seller never answered and flagging breached SLAs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from reviewshield.accounts.models import ApiToken, Role, User
from reviewshield.cases import services as cases
from reviewshield.cases.models import Case
from reviewshield.demo.accounts import DEMO_PASSWORD, DEMO_TOKEN
from reviewshield.errors import ReviewShieldError
from reviewshield.marketplace import services as market
from reviewshield.marketplace.models import Order, OrderStatus

SHOP_NAMES = [
    "清风茶舍",
    "Alice's Tea House",
    "小米粒数码",
    "Blue Harbor Outdoor",
    "暖阳母婴",
    "Pixel Cases",
    "江南丝绸坊",
    "Northwind Kitchen",
    "百草堂养生",
    "Luna Cosmetics",
    "极客外设",
    "Maple Books",
    "山野户外",
    "Sunny Pet Supplies",
    "优品家纺",
    "Urban Sneakers",
    "田园果鲜",
    "Crystal Jewelry",
    "星辰玩具",
    "Evergreen Garden",
    "老街零食铺",
    "Atlas Luggage",
    "云端手机配件",
    "Harvest Coffee",
    "锦绣服饰",
    "Polar Electronics",
    "绿野仙踪花艺",
    "Metro Watches",
    "匠心木作",
    "Ocean Fishing Gear",
]
BUYERS = [
    ("demo.buyer", "王芳", "13812345678", "上海市徐汇区漕溪北路88号 3号楼 1202室"),
    ("li_lei", "李雷", "13911112222", "北京市海淀区中关村大街1号"),
    ("han.mei", "韩梅梅", "13722223333", "广州市天河区体育西路101号"),
    ("zhang.wei", "张伟", "13633334444", "深圳市南山区科技园南路5号"),
    ("emily_chen", "Emily Chen", "13544445555", "杭州市西湖区文三路477号"),
    ("liu.yang", "刘洋", "13455556666", "成都市武侯区人民南路四段9号"),
    ("chen.jing", "陈静", "13366667777", "南京市鼓楼区中山路321号"),
    ("david.wu", "David Wu", "13277778888", "武汉市洪山区珞喻路1037号"),
    ("zhao.min", "赵敏", "13188889999", "西安市雁塔区长安南路88号"),
    ("sun.li", "孙丽", "15011112222", "重庆市渝中区解放碑步行街2号"),
    ("grace.lin", "Grace Lin", "15122223333", "苏州市工业园区星湖街328号"),
    ("zhou.jie", "周杰", "15233334444", "天津市和平区南京路189号"),
]
TITLES = [
    "明前龙井 250g",
    "Bluetooth earbuds",
    "婴儿湿巾 10包",
    "Hiking backpack 40L",
    "真丝围巾",
    "Phone case",
    "不锈钢炒锅",
    "Face cream 50 ml",
    "机械键盘",
    "Paperback novel set",
    "猫粮 2kg",
    "Running shoes",
]
BAD_REVIEWS = [
    "收到的茶叶受潮了，客服态度很差。",
    "The earbuds stopped working after two days.",
    "和描述不符，有异味。",
    "Late delivery and the box was crushed.",
    "质量一般，不值这个价。",
]
GOOD_REVIEWS = [
    "很好，物流快。",
    "Great quality, would buy again.",
    "包装仔细，满意。",
    "As described, thanks!",
]
NARRATIVES = [
    (
        "phone_sms_bombing",
        "给了差评后，我的手机一晚上收到了两百多条验证码短信，凌晨两点还有陌生号码连续打来。",
    ),
    (
        "threats_insults",
        "The seller messaged me: 'delete the review or you will regret it, I know where you live.'",
    ),
    ("items_mailed", "差评三天后，我收到一个没有寄件人的包裹，里面是冥币和一封诅咒信。"),
    ("review_pressure", "店家每天打电话要求我删除差评，说返现20元，我拒绝后就开始骂人。"),
    (
        "social_doxxing",
        "Someone added me on WeChat using my real name and posted my order screenshot in a group.",
    ),
    ("personal_data_leaked", "卖家把我的手机号和地址发到了一个群里，之后陆续有人来骚扰。"),
    (
        "visits_in_person",
        "A man came to my building and asked the guard for me by name after my one-star review.",
    ),
]
SELLER_DEFENCES = [
    "我们只打过一次电话确认售后问题，没有骚扰。",
    "We never sent those messages; the number is not ours.",
    "客服只是想了解差评原因，并无恶意。",
]
SETTLEMENTS = [
    "非常抱歉给您带来困扰，我们全额退款并保证不再联系您。",
    "We apologise, refund the order and have disciplined the staff member.",
]


@dataclass
class Demo:
    rng: random.Random
    now: datetime
    agents: list[User]


_PASSWORD_HASH: list[str] = []


def _user(username: str, role: str, **extra: Any) -> User:
    # Hash the shared demo password once: a fresh PBKDF2 per user would cost a minute.
    if not _PASSWORD_HASH:
        _PASSWORD_HASH.append(make_password(DEMO_PASSWORD))
    user, _created = User.objects.get_or_create(username=username, defaults={"role": role, **extra})
    user.role = role
    for k, v in extra.items():
        setattr(user, k, v)
    user.password = _PASSWORD_HASH[0]
    user.save()
    return user


def demo_loaded() -> bool:
    return User.objects.filter(username="demo.agent").exists()


def demo_load(*, now: datetime, seed: int = 2026) -> dict[str, int]:
    """Load the demo dataset (call once; `demo_loaded()` tells). Returns counts."""
    rng = random.Random(seed)
    with transaction.atomic():
        market.platforms_ensure()
        agents = [
            _user("demo.agent", Role.AGENT),
            _user("agent.li", Role.AGENT),
            _user("agent.smith", Role.AGENT),
        ]
        _user("demo.senior", Role.SENIOR_AGENT)
        _user("demo.admin", Role.ADMIN, is_staff=True, is_superuser=True)
        system = _user("marketplace.system", Role.SYSTEM)
        if not ApiToken.objects.filter(token_hash=ApiToken.hash(DEMO_TOKEN)).exists():
            ApiToken.objects.create(
                user=system,
                name="demo marketplace",
                token_hash=ApiToken.hash(DEMO_TOKEN),
                prefix=DEMO_TOKEN[:8],
            )
        sellers = [_user("demo.seller", Role.SELLER)] + [
            _user(f"seller{i:02d}", Role.SELLER) for i in range(1, 15)
        ]
        buyers = []
        for username, real_name, phone, address in BUYERS:
            buyers.append(
                _user(
                    username,
                    Role.BUYER,
                    real_name=real_name,
                    phone=phone,
                    address=address,
                    external_id=f"taobao:{username}",
                )
            )
        for i in range(len(BUYERS), 60):
            buyers.append(
                _user(
                    f"buyer{i:02d}",
                    Role.BUYER,
                    real_name=f"买家{i}",
                    phone=f"1580000{i:04d}",
                    address=f"示例市示例路{i}号",
                    external_id=f"taobao:buyer{i:02d}",
                )
            )

        platforms = ["taobao"] * 12 + ["tmall"] * 9 + ["jd"] * 9
        shops = []
        for i, (name, platform) in enumerate(zip(SHOP_NAMES, platforms, strict=True)):
            owner = sellers[0] if i in (0, 12, 21) else sellers[1 + i % 14]
            shop, _ = market.shop_upsert(
                platform=platform, external_id=f"{platform.upper()}-S{i + 1:03d}", name=name, sellers=[owner]
            )
            shops.append(shop)

        orders: list[Order] = []
        for n in range(500):
            shop = shops[n % len(shops)]
            buyer = buyers[0] if n % 25 == 0 else rng.choice(buyers)
            ts = now - timedelta(days=rng.uniform(0.5, 40), minutes=rng.randint(0, 600))
            shipped = n % 17 == 0
            channel = "tmall" if shop.platform_id == "taobao" and n % 11 == 0 else shop.platform_id
            order, _ = market.order_upsert(
                platform=shop.platform_id,
                external_id=f"{shop.platform_id[:2].upper()}{2026000000 + n}",
                shop_external_id=shop.external_id,
                buyer_external_id=buyer.username,
                channel=channel,
                amount=Decimal(rng.randint(900, 89900)) / 100,
                status=OrderStatus.SHIPPED if shipped else OrderStatus.TRADE_SUCCESS,
                paid_at=ts - timedelta(days=rng.randint(2, 6)),
                trade_success_at=None if shipped else ts,
                title=rng.choice(TITLES),
                now=ts,
            )
            if order.buyer_id != buyer.pk:  # order_upsert keyed the buyer by platform member id
                Order.objects.filter(pk=order.pk).update(buyer=buyer)
                order.buyer = buyer
            orders.append(order)
        # Members are per platform; the demo lets one person buy on all three, so drop the
        # per-platform stand-ins order_upsert made for tmall and jd.
        User.objects.filter(role=Role.BUYER, orders__isnull=True, username__regex=r"^(tmall|jd)_").delete()

        # Reviews: a bad review on one order in four, a good one on most others; the rest get the
        # automatic review from the worker when their window ends.
        for order in orders:
            if order.trade_success_at is None:
                continue
            roll = rng.random()
            posted = min(
                order.trade_success_at + timedelta(hours=rng.randint(1, 48)), now - timedelta(minutes=5)
            )
            if posted <= order.trade_success_at:
                continue
            if roll < 0.25:
                market.review_upsert(
                    platform=order.platform_id,
                    order_external_id=order.external_id,
                    external_id=f"R{order.external_id}",
                    rating="bad",
                    text=rng.choice(BAD_REVIEWS),
                    anonymous=rng.random() < 0.3,
                    posted_at=posted,
                    now=posted,
                )
            elif roll < 0.8 and order.trade_success_at < now - timedelta(days=1):
                market.review_upsert(
                    platform=order.platform_id,
                    order_external_id=order.external_id,
                    external_id=f"R{order.external_id}",
                    rating="good",
                    text=rng.choice(GOOD_REVIEWS),
                    anonymous=False,
                    posted_at=order.trade_success_at + timedelta(hours=rng.randint(1, 20)),
                    now=order.trade_success_at + timedelta(hours=20),
                )

    demo = Demo(rng=rng, now=now, agents=agents)
    made = _complaints(demo, orders)
    _chat_and_screenshots(buyers[0], now)
    _appeal(now)
    _extortion(now)
    _blacklisted(now)
    _alerts(now)
    _phone_export(buyers[0], now)
    from reviewshield.deadlines.claiming import deadlines_run_once

    while deadlines_run_once(worker="demo-loader", now=now, limit=500, lease=timedelta(minutes=5)):
        pass
    return {"shops": len(shops), "orders": len(orders), "cases": made}


def _complaints(demo: Demo, orders: list[Order]) -> int:
    """About 60 complaints spread over every state, some close to a deadline."""
    rng, now = demo.rng, demo.now
    fileable = [
        o
        for o in orders
        if o.trade_success_at and o.channel == o.platform_id and now - o.trade_success_at < timedelta(days=14)
    ]
    rng.shuffle(fileable)
    plan = (
        ["awaiting"] * 12
        + ["about_to_miss"] * 4
        + ["settlement"] * 6
        + ["defence"] * 10
        + ["no_answer"] * 8
        + ["upheld"] * 8
        + ["rejected"] * 5
        + ["withdrawn"] * 4
        + ["settled"] * 3
    )
    made = 0
    for order, target in zip(fileable, plan, strict=False):
        age = now - order.trade_success_at  # type: ignore[operator]
        if target in ("awaiting", "settlement"):
            filed = now - timedelta(hours=rng.uniform(1, min(60, age.total_seconds() / 3600)))
        elif target == "about_to_miss":
            filed = now - timedelta(hours=70, minutes=rng.randint(0, 90))
        else:
            filed = now - timedelta(hours=rng.uniform(76, max(77, age.total_seconds() / 3600)))
        if filed <= order.trade_success_at or filed - order.trade_success_at > timedelta(days=15):  # type: ignore[operator]
            continue
        kind, narrative = rng.choice(NARRATIVES)
        kinds = list({kind, rng.choice(NARRATIVES)[0]}) if rng.random() < 0.4 else [kind]
        try:
            case = cases.case_file(
                buyer=order.buyer,
                order_id=order.pk,
                harassment_types=kinds,
                occurred_at=filed - timedelta(hours=rng.randint(2, 30)),
                narrative=narrative,
                now=filed,
            )
        except ReviewShieldError:
            continue
        made += 1
        _advance(demo, case, target, filed)
    return made


def _advance(demo: Demo, case: Case, target: str, filed: datetime) -> None:
    rng = demo.rng
    seller = case.shop.sellers.first()
    answered = filed + timedelta(hours=rng.uniform(2, 40))
    if target == "settlement":
        answered = min(answered, demo.now - timedelta(minutes=30))
        cases.case_answer(
            case_id=case.pk, seller=seller, kind="settlement", text=rng.choice(SETTLEMENTS), now=answered
        )
    elif target in ("defence", "upheld", "rejected", "settled"):
        if target == "settled":
            cases.case_answer(
                case_id=case.pk, seller=seller, kind="settlement", text=rng.choice(SETTLEMENTS), now=answered
            )
            cases.case_settlement_reply(
                case_id=case.pk, buyer=case.buyer, accept=True, now=answered + timedelta(hours=3)
            )
            return
        cases.case_answer(
            case_id=case.pk, seller=seller, kind="defence", text=rng.choice(SELLER_DEFENCES), now=answered
        )
        agent = rng.choice(demo.agents)
        if rng.random() < 0.6 or target != "defence":
            cases.case_assign(case_id=case.pk, agent=agent, now=answered + timedelta(hours=4))
        if target == "upheld":
            tier = rng.choice(list(cases.ruleset_registry().get(case.ruleset_id).tiers))
            cases.case_decide(
                case_id=case.pk,
                agent=agent,
                outcome="uphold",
                tier=tier,
                now=answered + timedelta(hours=20),
                reasons="通话清单和短信截图显示商家在差评后连续骚扰买家。 Call records confirm repeated contact after the review.",
            )
        elif target == "rejected":
            cases.case_decide(
                case_id=case.pk,
                agent=agent,
                outcome="reject",
                now=answered + timedelta(hours=20),
                reasons="现有证据不足以证明骚扰来自该商家。 The evidence does not show the calls came from this seller.",
            )
    elif target == "withdrawn":
        cases.case_withdraw(
            case_id=case.pk, buyer=case.buyer, reason="已与商家协商解决", now=filed + timedelta(hours=5)
        )


CHAT = [
    ("seller", "亲，包裹已经发出了，请注意查收。"),
    ("seller", "看到你给了差评，马上删掉，不然后果自负。"),
    ("seller", "我知道你住哪儿，别逼我上门。"),
    ("buyer", "请不要再骚扰我，我会向平台投诉。"),
    ("seller", "删了差评给你返 20 元。"),
]


def _appeal(now: datetime) -> None:
    """The seller of the most recent upheld case appeals it, so the senior agent's queue has work."""
    from reviewshield.cases.models import CaseStatus
    from reviewshield.errors import ReviewShieldError
    from reviewshield.sanctions.appeals import appeal_file

    for case in Case.objects.filter(status=CaseStatus.UPHELD).order_by("-decided_at")[:5]:
        seller = case.shop.sellers.first()
        if seller is None:
            continue
        try:
            appeal_file(
                case_id=case.pk,
                user=seller,
                reasons="这些电话是快递员打的，不是本店。 The calls came from the courier, not from our shop.",
                now=now - timedelta(minutes=40),
            )
        except ReviewShieldError:  # outside its window: try an older one
            continue
        return


def _blacklisted(now: datetime) -> None:
    """A complaint of serious harassment upheld eight weeks ago and never appealed: its shop is on
    the public seller credit blacklist (and its seller sees why and until when)."""
    from reviewshield.marketplace.models import Shop

    shop = Shop.objects.filter(platform_id="taobao").order_by("pk")[3]
    buyer = User.objects.get(username="buyer30")
    ts = now - timedelta(days=60)
    order, _ = market.order_upsert(
        platform="taobao",
        external_id="TA2025999001",
        shop_external_id=shop.external_id,
        buyer_external_id=buyer.username,
        channel="taobao",
        amount=Decimal("129.00"),
        status=OrderStatus.TRADE_SUCCESS,
        paid_at=ts - timedelta(days=3),
        trade_success_at=ts,
        title=TITLES[0],
        now=ts,
    )
    Order.objects.filter(pk=order.pk).update(buyer=buyer)
    filed = ts + timedelta(days=2)
    case = cases.case_file(
        buyer=buyer,
        order_id=order.pk,
        harassment_types=["threats_insults", "personal_data_leaked"],
        occurred_at=filed - timedelta(hours=6),
        narrative="差评后店家连夜打电话辱骂，还说要把我的住址发到网上。 After my bad review the shop called at night and threatened to post my address online.",
        now=filed,
    )
    seller = shop.sellers.first()
    cases.case_answer(
        case_id=case.pk,
        seller=seller,
        kind="defence",
        text=SELLER_DEFENCES[0],
        now=filed + timedelta(hours=5),
    )
    cases.case_decide(
        case_id=case.pk,
        agent=User.objects.get(username="demo.agent"),
        outcome="uphold",
        tier="serious",
        now=filed + timedelta(days=2),
        reasons="通话录音和截图证实了威胁。 The call recording and screenshots confirm the threats.",
    )


def _screenshot_png() -> bytes:
    """A small drawn picture standing in for a phone screenshot (demo only)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (360, 240), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    for i, (side, _text) in enumerate(CHAT[:4]):
        x = 20 if side == "seller" else 140
        draw.rounded_rectangle(
            (x, 20 + i * 52, x + 200, 60 + i * 52), 8, fill=(255, 255, 255) if x == 20 else (158, 234, 106)
        )
    draw.text((20, 222), "demo screenshot", fill=(120, 120, 120))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _chat_and_screenshots(buyer: User, now: datetime) -> None:
    """The demo buyer's open complaints get the shop's chat (one stretch cited) and a screenshot."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviewshield.chat import services as chat
    from reviewshield.evidence.intake import Upload

    open_cases = Case.objects.filter(
        buyer=buyer, platform_id="taobao", status__in=["awaiting_response", "awaiting_decision"]
    )
    for case in open_cases.select_related("shop", "order")[:2]:
        at = case.filed_at - timedelta(hours=6)
        messages = [
            chat.IncomingMessage(
                message_id=f"{case.order.external_id}-m{i}",
                sender=sender,
                sent_at=at + timedelta(minutes=17 * i),
                text=text,
            )
            for i, (sender, text) in enumerate(CHAT)
        ]
        conversation_id = f"CV-{case.order.external_id}"
        chat.chat_messages_push(
            platform="taobao",
            conversation_id=conversation_id,
            shop_id=case.shop.external_id,
            buyer_id=buyer.username,
            order_id=case.order.external_id,
            messages=messages,
            now=case.filed_at,
        )
        evidence = chat.chat_evidence_create(
            buyer=buyer,
            platform="taobao",
            conversation_id=conversation_id,
            first_message_id=messages[1].message_id,
            last_message_id=messages[2].message_id,
            now=case.filed_at,
        )
        chat.chat_evidence_cite(case_id=case.pk, user=buyer, number=evidence.number, now=case.filed_at)
        shot = _screenshot_png()
        cases.case_evidence_add(
            case_id=case.pk,
            user=buyer,
            files=[
                Upload(file=SimpleUploadedFile("chat.png", shot), name="聊天截图.png", kind="chat_screenshot")
            ],
            now=case.filed_at,
        )


def _phone_export(buyer: User, now: datetime) -> None:
    """demo.buyer gives a phone export (SMS Backup & Restore) on an open complaint: four weeks of
    ordinary traffic, then a verification-code bombing two hours after the complaint and missed
    calls three nights running. The worker analyses it when the loader runs the deadlines: the
    report is on the case, and its findings raise an alert in the agents' queue."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviewshield.evidence.intake import Upload
    from reviewshield.forensics import synthetic
    from reviewshield.localtime import to_local

    case = (
        Case.objects.filter(buyer=buyer, status__in=["awaiting_response", "awaiting_decision"])
        .order_by("filed_at")
        .first()
    )
    if case is None or case.filed_at > now - timedelta(days=4):
        return
    rng = random.Random(6)
    filed = int(case.filed_at.timestamp() * 1000)
    night = to_local(case.filed_at + timedelta(days=1)).replace(hour=1, minute=30, second=0, microsecond=0)
    first_night = int(night.timestamp() * 1000)
    start = filed - 28 * synthetic.DAY_MS
    records = sorted(
        [
            *synthetic.background(rng, start, 31, 24),
            *synthetic.code_burst(rng, filed + 2 * synthetic.HOUR_MS, 160, 9_000, 5),
            *synthetic.late_night(first_night, 3, "16698765432", 3),
        ],
        key=lambda r: r.at_ms,
    )
    records = [r for r in records if r.at_ms < int(now.timestamp() * 1000)]
    files = [
        Upload(
            file=SimpleUploadedFile(name, synthetic.as_bytes(writer, records)),
            name=name,
            kind="phone_export",
        )
        for name, writer in (("sms.xml", synthetic.write_sms_xml), ("calls.xml", synthetic.write_calls_xml))
    ]
    cases.case_evidence_add(case_id=case.pk, user=buyer, files=files, now=case.filed_at + timedelta(days=4))


def _extortion(now: datetime) -> None:
    """Buyer-extortion reports: one upheld two days before the same buyer's later complaint (agents
    see the strike on it; the review is folded), and one from demo.seller that demo.buyer may answer."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviewshield.evidence.intake import Upload
    from reviewshield.extortion import services as extortion
    from reviewshield.marketplace.models import Review

    def evidence() -> list[Upload]:
        shot = SimpleUploadedFile("demand.png", _screenshot_png())
        return [Upload(file=shot, name="买家索要截图.png", kind="chat_screenshot")]

    later = (
        Case.objects.filter(status="awaiting_decision", platform_id="taobao").order_by("-filed_at").first()
    )
    if later is not None:
        filed = later.filed_at - timedelta(days=2)
        order = (
            Order.objects.filter(
                buyer=later.buyer_id, paid_at__lt=filed - timedelta(days=1), shop__sellers__isnull=False
            )
            .exclude(pk=later.order_id)
            .exclude(review__rating__in=["good", "neutral"])
            .order_by("-paid_at")
            .first()
        )
        if order is not None:
            if not Review.objects.filter(order=order).exists():
                market.review_upsert(
                    platform=order.platform_id,
                    order_external_id=order.external_id,
                    external_id=f"R{order.external_id}",
                    rating="bad",
                    text="东西很差！除非退我 200 元，否则差评不改。 Awful — this stays unless I get 200 yuan back.",
                    anonymous=False,
                    posted_at=filed - timedelta(hours=6),
                    now=filed - timedelta(hours=6),
                )
            report = extortion.report_file(
                seller=order.shop.sellers.first(),  # type: ignore[arg-type]
                order_id=order.pk,
                threat="bad_review",
                demand="退款 200 元且不退货，否则不改差评。 A 200 yuan refund without a return, or the bad review stays.",
                demand_amount="200",
                occurred_at=filed - timedelta(hours=4),
                narrative="买家在聊天中说：不退 200 元就一直差评，还要去平台投诉。 "
                "The buyer wrote in chat: no 200 yuan refund, the bad review stays and I complain to the platform.",
                files=evidence(),
                now=filed,
            )
            extortion.report_answer(
                report_id=report.pk,
                buyer=order.buyer,
                text="商品确实有问题，我只是想要补偿。 The goods were faulty; I only wanted compensation.",
                now=filed + timedelta(hours=5),
            )
            extortion.report_decide(
                report_id=report.pk,
                agent=User.objects.get(username="demo.agent"),
                outcome="uphold",
                reasons="聊天记录显示买家以差评为条件索要 200 元。 The chat shows the buyer asking for 200 yuan in exchange for the review.",
                now=filed + timedelta(days=1),
            )
    buyer, seller = User.objects.get(username="demo.buyer"), User.objects.get(username="demo.seller")
    order = Order.objects.filter(
        buyer=buyer, shop__sellers=seller, paid_at__lt=now - timedelta(days=2)
    ).first()
    if order is not None:
        extortion.report_file(
            seller=seller,
            order_id=order.pk,
            threat="complaint",
            demand="再补偿 100 元，否则去平台投诉。 Another 100 yuan, or I complain to the platform.",
            demand_amount="100",
            occurred_at=now - timedelta(hours=30),
            narrative="买家收货后要求额外补偿，否则投诉我们售假。 After delivery the buyer asked for extra money or a "
            "complaint that we sell fakes.",
            files=evidence(),
            now=now - timedelta(hours=20),
        )


def _alerts(now: datetime) -> None:
    """Chat screening at work: the chat backend screened messages after two bad reviews. demo.buyer's
    alert waits for their answer on the Protection page; another buyer's is open in the agents' queue."""
    from reviewshield.detection import services as detection
    from reviewshield.detection.models import Alert
    from reviewshield.detection.screen import Incoming, screen_batch

    agent = User.objects.get(username="demo.agent")
    scripts = [
        [
            (21, "亲，您的差评我们看到了，能给个机会处理一下吗？"),
            (20, "再不删差评，我知道你住漕溪北路88号，你小心点"),
            (19, "你个傻X，等着吧，晚上走夜路注意安全"),
        ],
        [
            (30, "Hi, sorry the kettle arrived late. We can refund the shipping."),
            (29, "Delete the review or else. I know where you live."),
        ],
    ]
    candidates = Order.objects.filter(
        platform_id="taobao", status=OrderStatus.TRADE_SUCCESS, review__isnull=True
    )
    candidates = candidates.exclude(cases__isnull=False).order_by("-trade_success_at")
    demo_buyer = User.objects.get(username="demo.buyer")
    orders = [
        candidates.filter(buyer=demo_buyer).first(),
        candidates.exclude(buyer=demo_buyer).filter(buyer__username__startswith="buyer").first(),
    ]
    buyers = [demo_buyer]
    for order, script in zip(orders, scripts, strict=True):
        if order is None:
            continue
        buyer = order.buyer
        first = now - timedelta(hours=script[0][0])
        market.review_upsert(
            platform="taobao",
            order_external_id=order.external_id,
            external_id=f"R{order.external_id}",
            rating="bad",
            text="质量很差，客服态度也不好。 Poor quality and a rude shop.",
            anonymous=False,
            posted_at=first - timedelta(hours=2),
            now=first - timedelta(hours=2),
        )
        screen_batch(
            platform="taobao",
            items=[
                Incoming(
                    message_id=f"demo-{order.external_id}-{i}",
                    conversation_id=f"demo-{order.external_id}",
                    shop_id=order.shop.external_id,
                    buyer_id=buyer.external_id.split(":", 1)[1],
                    order_id=order.external_id,
                    sender="seller",
                    sent_at=now - timedelta(hours=hours),
                    text=text,
                )
                for i, (hours, text) in enumerate(script)
            ],
            now=now - timedelta(hours=script[-1][0]),
        )
    alert = Alert.objects.filter(buyer=buyers[0]).first()
    if alert is not None:
        detection.alert_warn_seller(
            alert_id=alert.pk,
            agent=agent,
            message="请立即停止联系买家。 Stop contacting the buyer at once.",
            now=now - timedelta(hours=18),
        )
        detection.alert_request_consent(alert_id=alert.pk, agent=agent, now=now - timedelta(hours=18))
