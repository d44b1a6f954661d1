"""No internal code ever reaches a person: every page, and every form's refusal, in both languages.

The codes are taken from the code itself — every choices class and string enum of ReviewShield,
the rulesets' ids, tiers, windows and measures, the error and refusal codes, event and notification
kinds, the sniffed types evidence is judged by, the platforms' codes and the chat's message ids —
never from a hand-written list. Only visible text counts (text nodes and the attributes a screen
reader speaks); what people typed is taken out first.

A code with a separator (`dangerous_type`, `taobao-2021`, `image/png`, `TA…-m1`) fails wherever it
stands. A one-word code (`uphold`, `serious`, `tmall`) fails on a Chinese page when it stands alone as
a piece of text (between tags or separators such as `·`, `:` or `,`): a raw value printed where a
label belongs. (On an English page such a word is also a plain English word — “1 open”, “(buyer)”.)
"""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import enums
from django.test import Client

from reviewshield.chat.services import IncomingMessage, chat_messages_push
from tests.conftest import as_user
from tests.samples import png
from tests.web.test_every_page import NOW, PAGE_NAMES, VisibleText, scene  # noqa: F401 (fixture)

EXE = b"MZ\x90\x00\x03" + b"\x00" * 200  # the start of a Windows program


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def internal_codes() -> set[str]:
    """Every stable code ReviewShield uses for programs, as the code defines them."""
    from reviewshield import errors
    from reviewshield.cases.services import NOT_ELIGIBLE_MESSAGES
    from reviewshield.chat.models import ChatMessage
    from reviewshield.detection.labels import CATEGORY_LABELS, FACTOR_LABELS
    from reviewshield.detection.labels import EVENT_LABELS as ALERT_EVENTS
    from reviewshield.evidence import kinds
    from reviewshield.evidence.intake import REFUSAL_MESSAGES
    from reviewshield.marketplace.models import Platform
    from reviewshield.outbox.texts import _TEXTS as NOTIFICATION_KINDS
    from reviewshield.policy.ruleset import MEASURES
    from reviewshield.policystore.services import ruleset_registry
    from reviewshield.web.labels import EVENT_LABELS, EXTORTION_EVENT_LABELS

    codes: set[str] = set()
    for cls in _subclasses(enums.Choices) + _subclasses(enum.StrEnum):
        if cls.__module__.startswith("reviewshield"):
            codes |= {str(member.value) for member in cls}  # type: ignore[attr-defined]
    for ruleset in ruleset_registry().all():
        codes |= {ruleset.id, *ruleset.tiers, *ruleset.windows, *ruleset.excluded_channels}
    codes |= set(MEASURES)
    codes |= {cls.code for cls in _subclasses(errors.ReviewShieldError)} - {"error"}
    codes |= set(REFUSAL_MESSAGES) | set(NOT_ELIGIBLE_MESSAGES)
    codes |= set(EVENT_LABELS) | set(EXTORTION_EVENT_LABELS) | set(ALERT_EVENTS)
    codes |= set(CATEGORY_LABELS) | set(FACTOR_LABELS) | set(NOTIFICATION_KINDS)
    codes |= kinds.DANGEROUS | frozenset().union(*(k.types for k in kinds.KINDS.values()))
    codes |= set(Platform.objects.values_list("code", flat=True))
    codes |= set(ChatMessage.objects.values_list("external_id", flat=True))
    return {c for c in codes if c}


SEPARATORS = re.compile(r"[\n·:：,，;；()（）\[\]|—–]+")


def codes_shown(html: str, codes: set[str], typed: list[str], lang: str = "zh-hans") -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted((t for t in typed if t not in codes), key=len, reverse=True):
        text = text.replace(value, " ")
    found = set()
    for code in codes:
        if re.search(r"[_\-/.]", code) and re.search(rf"(?<![\w\-/.]){re.escape(code)}(?![\w\-/])", text):
            found.add(code)
    if lang == "zh-hans":
        pieces = {p.strip() for p in SEPARATORS.split(text)}
        found |= {c for c in codes if c in pieces}
    if found and os.environ.get("SHOW_CODES"):  # where each stands, to fix it
        for code in found:
            at = text.find(code)
            print(code, "→", repr(text[max(0, at - 80) : at + 40]))
    return sorted(found)


@dataclass
class Refusal:
    who: object
    url: str
    data: dict


def _id(world, name: str) -> int:
    return int(re.findall(r"\d+", world.pages[name][1])[-1])


def _chat(cast) -> None:
    """A conversation between bob and alice's shop, to pick a stretch from (ids the marketplace's)."""
    from reviewshield.accounts.models import User

    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    chat_messages_push(
        platform="taobao",
        conversation_id="C-7",
        shop_id=cast.shop.external_id,
        buyer_id="tb_bob",
        messages=[
            IncomingMessage(
                message_id=f"TA2026000125-m{n}",
                sender="seller",
                sent_at=NOW - timedelta(hours=5 - n),
                text=f"M-{n}",
            )
            for n in (1, 2, 3)
        ],
        now=NOW,
    )


def refusals(world, cast) -> dict[str, Refusal]:
    """Every form of the portals sent as a person gets it wrong (empty, too long, a refused file …)."""
    waiting = _id(world, "buyer-case-awaiting_response")
    deciding = _id(world, "buyer-case-awaiting_decision")
    upheld = _id(world, "buyer-case-upheld")
    eligible = _id(world, "complain")
    appeal = _id(world, "agent-appeal")
    report_waiting = _id(world, "buyer-extortion-awaiting_buyer")
    report_deciding = _id(world, "agent-extortion-awaiting_decision")
    alert = _id(world, "agent-alert-open")
    too_long = "x" * 20000

    def exe() -> SimpleUploadedFile:
        return SimpleUploadedFile("setup.exe", EXE, content_type="image/png")

    def image() -> SimpleUploadedFile:
        return SimpleUploadedFile("photo.png", png(), content_type="image/png")

    return {
        "login": Refusal(None, "/login/", {"username": "bob", "password": "wrong"}),
        "complain-empty": Refusal(cast.bob, f"/orders/{eligible}/complain/", {"narrative": ""}),
        "complain-refused-file": Refusal(
            cast.bob,
            f"/orders/{eligible}/complain/",
            {
                "harassment_types": ["threats_insults"],
                "occurred_at": "2026-11-12T06:00",
                "narrative": "N-9",
                "evidence_kind": "chat_screenshot",
                "files": [exe()],
            },
        ),
        "complain-too-long": Refusal(
            cast.bob,
            f"/orders/{eligible}/complain/",
            {"harassment_types": ["other"], "occurred_at": "2026-11-12T06:00", "narrative": too_long},
        ),
        "evidence-wrong-type": Refusal(
            cast.bob, f"/cases/{waiting}/evidence/", {"evidence_kind": "audio", "files": [image()]}
        ),
        "evidence-no-kind": Refusal(cast.bob, f"/cases/{waiting}/evidence/", {"files": [image()]}),
        "chat-reversed": Refusal(
            cast.bob,
            f"/cases/{waiting}/chat/cite/",
            {"conversation": "taobao:C-7", "first": "TA2026000125-m3", "last": "TA2026000125-m1"},
        ),
        "chat-unknown": Refusal(
            cast.bob,
            f"/cases/{waiting}/chat/cite/",
            {"conversation": "taobao:C-7", "first": "x", "last": "y"},
        ),
        "withdraw-too-long": Refusal(
            cast.bob, f"/cases/{waiting}/withdraw/", {"reason": too_long, "confirm": "yes"}
        ),
        "appeal-empty": Refusal(cast.bob, f"/cases/{upheld}/appeal/", {"reasons": ""}),
        "seller-answer-no-kind": Refusal(cast.alice, f"/seller/cases/{waiting}/answer/", {"text": "T-1"}),
        "seller-answer-too-long": Refusal(
            cast.alice, f"/seller/cases/{waiting}/answer/", {"kind": "defence", "text": too_long}
        ),
        "seller-answer-refused-file": Refusal(
            cast.alice,
            f"/seller/cases/{waiting}/answer/",
            {"kind": "defence", "text": "T-1", "evidence_kind": "chat_screenshot", "files": [exe()]},
        ),
        "seller-chat-unknown": Refusal(cast.alice, f"/seller/cases/{waiting}/chat/cite/", {"number": "Q-0"}),
        "seller-appeal-too-long": Refusal(
            cast.alice, f"/seller/cases/{upheld}/appeal/", {"reasons": too_long}
        ),
        "agent-decide-nothing": Refusal(cast.erin, f"/agent/cases/{deciding}/decide/", {"reasons": ""}),
        "agent-decide-bad-tier": Refusal(
            cast.erin,
            f"/agent/cases/{deciding}/decide/",
            {"outcome": "uphold", "tier": "x", "reasons": "R-9"},
        ),
        "agent-decide-too-long": Refusal(
            cast.erin, f"/agent/cases/{deciding}/decide/", {"outcome": "reject", "reasons": too_long}
        ),
        "agent-assisted-empty": Refusal(
            cast.erin, "/agent/assisted/", {"order": eligible, "reason": "", "q": "bob"}
        ),
        "agent-appeal-bad-tier": Refusal(
            cast.frank,
            f"/agent/appeals/{appeal}/decide/",
            {"outcome": "tier_changed", "new_tier": "x", "reasons": "R-9"},
        ),
        "agent-appeal-empty": Refusal(cast.frank, f"/agent/appeals/{appeal}/decide/", {"reasons": ""}),
        "seller-extortion-empty": Refusal(cast.alice, "/seller/extortion/new/", {"demand": ""}),
        "seller-extortion-refused-file": Refusal(
            cast.alice,
            "/seller/extortion/new/",
            {
                "order_number": cast.shop.orders.first().external_id,
                "threat": "bad_review",
                "demand": too_long,
                "occurred_at": "2026-11-12T06:00",
                "narrative": "X-9",
                "evidence_kind": "chat_screenshot",
                "files": [exe()],
            },
        ),
        "buyer-extortion-empty": Refusal(cast.bob, f"/extortion/{report_waiting}/answer/", {"text": ""}),
        "buyer-extortion-too-long": Refusal(
            cast.bob, f"/extortion/{report_waiting}/answer/", {"text": too_long}
        ),
        "agent-extortion-empty": Refusal(
            cast.erin, f"/agent/extortion/{report_deciding}/decide/", {"reasons": ""}
        ),
        "agent-alert-warn-too-long": Refusal(
            cast.erin, f"/agent/alerts/{alert}/warn/", {"message": too_long}
        ),
        "agent-alert-close-no-note": Refusal(
            cast.erin, f"/agent/alerts/{alert}/close/", {"outcome": "false_alarm", "note": ""}
        ),
    }


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_no_page_and_no_refusal_shows_an_internal_code(scene, cast, settings, lang):  # noqa: F811
    settings.DEBUG = False
    _chat(cast)
    codes = internal_codes()
    assert {"dangerous_type", "taobao-2021", "uphold", "settlement", "serious", "tmall"} <= codes
    assert "TA2026000125-m1" in codes
    typed = [*scene.data, "N-9", "X-9", "T-1", "R-9", "setup.exe", "photo.png", "C-7", "x" * 20000]
    shown: dict[str, list[str]] = {}
    for name in PAGE_NAMES:
        who, url = scene.pages[name]
        client = as_user(who, lang) if who else Client(HTTP_ACCEPT_LANGUAGE=lang)
        res = client.get(url, HTTP_HX_REQUEST="true") if name.endswith("-live") else client.get(url)
        if found := codes_shown(res.content.decode(), codes, typed, lang):
            shown[name] = found
    for name, refusal in refusals(scene, cast).items():
        client = as_user(refusal.who, lang) if refusal.who else Client(HTTP_ACCEPT_LANGUAGE=lang)
        res = client.post(refusal.url, refusal.data, follow=True)
        assert res.status_code in (200, 422), (name, res.status_code)
        html = res.content.decode()
        assert 'role="alert"' in html or 'class="error"' in html, f"{name}: the refusal is not shown"
        if found := codes_shown(html, codes, typed, lang):
            shown[name] = found
    assert shown == {}, "\n".join(f"{name}: {found}" for name, found in shown.items())


def test_the_check_sees_codes_in_text_and_not_in_markup():
    codes = {"dangerous_type", "uphold", "image/png", "taobao-2021"}
    assert codes_shown("<p>dangerous_type</p><p>setup.exe</p>", codes, []) == ["dangerous_type"]
    assert codes_shown('<p class="uphold" data-x="taobao-2021">Upheld</p>', codes, []) == []
    assert codes_shown("<dd>Rules: taobao-2021</dd>", codes, []) == ["taobao-2021"]
    assert codes_shown("<dd>Decision · uphold</dd>", codes, []) == ["uphold"]
    assert codes_shown("<p>We uphold the complaint.</p>", codes, []) == []
    assert codes_shown("<dd>Decision · uphold</dd>", codes, [], "en") == []  # an English word there
    assert codes_shown('<input placeholder="image/png">', codes, []) == ["image/png"]
