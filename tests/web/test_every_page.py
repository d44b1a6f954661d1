"""Every page of the portals, in both languages and through the eyes of everyone who might open it.

1. Each page as the person it is for, once in zh-Hans and once in en: any text left in the other
   language fails (the data people typed — names, narratives, order numbers — is taken out first).
2. Each page about one object as its owner, as the other party and as an outsider.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvidence
from reviewshield.chat import services as chat_services
from reviewshield.extortion import services as extortion
from reviewshield.extortion.models import ExtortionEvidence
from reviewshield.marketplace import services as market
from reviewshield.sanctions import appeals
from reviewshield.sanctions import services as sanction_services
from reviewshield.sanctions.models import Compensation
from reviewshield.webhooks.models import WebhookDelivery, WebhookEndpoint
from reviewshield.webhooks.services import webhook_emit
from tests.conftest import as_user, local
from tests.samples import call_records, screenshot
from tests.sanctions.conftest import decide

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)

# Words that are the same in both languages: the product's name, language names in the switcher,
# the time zone in countdown titles, the currency sign's neighbours.
NEUTRAL = ["ReviewShield", "CSV", "Excel", "English", "简体中文", "UTC", "API", "OpenAPI", "QQ", "ZIP", "SHA-256", "JPEG", "PNG",
           "WebP", "GIF", "HEIC", "PDF", "MB", "UTF-8", "GB18030", "/api/public/blacklist", "/api/public/warnings",
           "reviewshield verify", "--fingerprint", "Python"]  # fmt: skip
SHOWN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt"}


class VisibleText(HTMLParser):
    """The words a person sees or hears from a screen reader: text nodes and labelling attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in SHOWN_ATTRIBUTES and value and not (tag == "time" and name == "title"):
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def leftover(html: str, lang: str, data: list[str]) -> list[str]:
    """Text in the wrong language: English words on a Chinese page, Chinese on an English one."""
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted([*data, *NEUTRAL], key=len, reverse=True):
        text = text.replace(value, " ")
    if lang == "zh-hans":
        return sorted(set(re.findall(r"[A-Za-z]{2,}(?:[ '][A-Za-z]{2,})*", text)))
    return sorted(set(re.findall(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff60]+", text)))


@dataclass
class Scene:
    pages: dict[str, tuple[object, str]]  # name -> (who, url)
    data: list[str]


@pytest.fixture
def scene(cast, time_machine) -> Scene:
    time_machine.move_to(NOW, tick=False)
    cast.shop.name = "Shop-7"  # data a person typed: neutral in both languages
    cast.shop.save()

    def filed(narrative: str):
        order = cast.order(trade_success_at=TS)
        case = services.case_file(
            buyer=cast.bob,
            order_id=order.pk,
            harassment_types=["threats_insults", "phone_sms_bombing"],
            occurred_at=NOW - timedelta(hours=3),
            narrative=narrative,
            files=[screenshot(name="IMG_0001.png")],
            now=NOW,
        )
        return order, case

    _, waiting = filed("N-1")
    _, settling = filed("N-2")
    services.case_answer(case_id=settling.pk, seller=cast.alice, kind="settlement", text="S-2", now=NOW)
    _, deciding = filed("N-3")
    services.case_answer(
        case_id=deciding.pk,
        seller=cast.alice,
        kind="defence",
        text="D-3",
        files=[call_records(name="LOG_0002.csv")],
        now=NOW,
    )
    _, decided = filed("N-4")
    services.case_answer(case_id=decided.pk, seller=cast.alice, kind="defence", text="D-4", now=NOW)
    services.case_decide(
        case_id=decided.pk, agent=cast.erin, outcome="uphold", tier="serious", reasons="R-4", now=NOW
    )
    # Appeals and compensation: the seller appeals the upheld case (it waits); the buyer appealed
    # another upheld case, a senior agent let the decision stand, and its compensation was paid.
    waiting_appeal = appeals.appeal_file(case_id=decided.pk, user=cast.alice, reasons="A-1", now=NOW)
    _, reviewed = filed("N-5")
    services.case_answer(case_id=reviewed.pk, seller=cast.alice, kind="defence", text="D-5", now=NOW)
    services.case_decide(
        case_id=reviewed.pk, agent=cast.erin, outcome="uphold", tier="ordinary", reasons="R-5", now=NOW
    )
    decided_appeal = appeals.appeal_file(case_id=reviewed.pk, user=cast.bob, reasons="A-2", now=NOW)
    appeals.appeal_decide(
        appeal_id=decided_appeal.pk, senior=cast.frank, outcome="stands", reasons="AR-2", now=NOW
    )
    sanction_services.compensation_mark_paid(
        compensation_id=Compensation.objects.get(case=reviewed).pk,
        user=cast.erin,
        now=NOW,
        payment_reference="P-1",
    )
    # The blacklist: dave's shop after a final serious decision, alice's after a serious one 40 days
    # ago (with the pair of upheld decisions that will list it again once the newer one is final).
    listed = [
        decide(cast, "serious", NOW - timedelta(days=30), shop=cast.other_shop, buyer=cast.carol),
        decide(cast, "serious", NOW - timedelta(days=40), buyer=cast.carol),
    ]
    eligible = cast.order(trade_success_at=TS)
    late = cast.order(trade_success_at=NOW - timedelta(days=40))
    _, raw = services.assisted_link_issue(agent=cast.erin, order_id=late.pk, reason="W-5", now=NOW)
    chat_services.chat_permission_grant(case_id=waiting.pk, buyer=cast.bob, now=NOW)
    reports = _extortion_reports(cast)  # before the endpoint: the webhook log below stays as it is
    open_alert, asked_alert, closed_alert = _alerts(cast)
    WebhookEndpoint.objects.create(name="Market-1", url="https://market.example/hooks")
    with transaction.atomic():  # as the deciding service would, in its own transaction
        events = [
            webhook_emit(event=kind, payload={"case_reference": decided.reference}, now=NOW)
            for kind in ("case.decided", "sanction.applied", "compensation.due")
        ]
    first, second, _ = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(pk=first.pk).update(delivered_at=NOW, attempts=1, last_status=204)
    WebhookDelivery.objects.filter(pk=second.pk).update(
        dead_at=NOW, attempts=12, last_error="timeout: no answer within 10 s (ReadTimeout)",
        replayed_at=NOW, replayed_by=cast.admin,
    )  # fmt: skip
    cases = [waiting, settling, deciding, decided]
    for c in cases:
        c.refresh_from_db()
    pages = {
        "home": (None, "/"),
        "login": (None, "/login/"),
        "home-buyer": (cast.bob, "/"),
        "orders": (cast.bob, "/orders/"),
        "complain": (cast.bob, f"/orders/{eligible.pk}/complain/"),
        "not-eligible": (cast.bob, f"/orders/{late.pk}/complain/"),
        "assisted-form": (cast.bob, f"/file/{raw}/"),
        "assisted-bad-link": (cast.bob, "/file/not-a-real-token/"),
        "rights-centre": (cast.bob, "/cases/"),
        **{f"buyer-case-{c.status}": (cast.bob, f"/cases/{c.pk}/") for c in cases},
        "seller-cases": (cast.alice, "/seller/cases/"),
        **{f"seller-case-{c.status}": (cast.alice, f"/seller/cases/{c.pk}/") for c in cases},
        "agent-queue": (cast.erin, "/agent/"),
        "agent-queue-filtered": (cast.erin, "/agent/?risk=at_risk&harassment_type=threats_insults&per=50"),
        "agent-queue-empty": (cast.erin, "/agent/?platform=jd"),
        "agent-queue-live": (cast.erin, "/agent/"),  # the part that refreshes itself
        **{f"agent-case-{c.status}": (cast.erin, f"/agent/cases/{c.pk}/") for c in cases},
        "agent-assisted": (cast.erin, "/agent/assisted/"),
        "agent-assisted-found": (cast.erin, "/agent/assisted/?q=bob"),
        "agent-assisted-none": (cast.erin, "/agent/assisted/?q=Q-0"),
        "agent-chat": (cast.erin, f"/agent/cases/{waiting.pk}/chat/"),
        "agent-chat-refused": (cast.erin, f"/agent/cases/{deciding.pk}/chat/"),
        "agent-webhooks": (cast.erin, "/agent/webhooks/"),
        "agent-webhooks-admin": (cast.admin, "/agent/webhooks/?status=dead&per=50"),
        "agent-webhooks-empty": (cast.erin, "/agent/webhooks/?event=appeal.decided"),
        "seller-sanctions": (cast.alice, f"/seller/shops/{cast.shop.pk}/sanctions/"),
        "seller-sanctions-empty": (cast.alice, f"/seller/shops/{cast.jd_shop.pk}/sanctions/"),
        "buyer-case-appeal-decided": (cast.bob, f"/cases/{reviewed.pk}/"),
        "seller-case-appeal-decided": (cast.alice, f"/seller/cases/{reviewed.pk}/"),
        "agent-appeals": (cast.erin, "/agent/appeals/"),
        "agent-appeals-decided": (cast.erin, "/agent/appeals/?status=decided"),
        "agent-appeal": (cast.frank, f"/agent/appeals/{waiting_appeal.pk}/"),
        "agent-appeal-read-only": (cast.erin, f"/agent/appeals/{waiting_appeal.pk}/"),
        "agent-appeal-decided": (cast.erin, f"/agent/appeals/{decided_appeal.pk}/"),
        "agent-compensations": (cast.erin, "/agent/compensations/"),
        "agent-compensations-paid": (cast.frank, "/agent/compensations/?status=paid&per=50"),
        "agent-compensations-empty": (cast.erin, "/agent/compensations/?status=reversed"),
        "public-blacklist": (None, "/blacklist/"),
        "public-blacklist-empty": (cast.bob, "/blacklist/?platform=jd"),
        "public-warnings": (None, "/warnings/"),
        "public-warnings-empty": (cast.alice, "/warnings/?platform=tmall"),
        "public-verify": (None, "/verify/"),
        "seller-extortion": (cast.alice, "/seller/extortion/"),
        "seller-extortion-file": (cast.alice, "/seller/extortion/new/"),
        **{f"seller-extortion-{r.status}": (cast.alice, f"/seller/extortion/{r.pk}/") for r in reports},
        "buyer-extortion": (cast.bob, "/extortion/"),
        **{f"buyer-extortion-{r.status}": (cast.bob, f"/extortion/{r.pk}/") for r in reports},
        "agent-extortion": (cast.erin, "/agent/extortion/"),
        **{f"agent-extortion-{r.status}": (cast.erin, f"/agent/extortion/{r.pk}/") for r in reports},
        "agent-alerts": (cast.erin, "/agent/alerts/"),
        "agent-alerts-closed": (cast.erin, "/agent/alerts/?status=closed&source=chat"),
        "agent-alerts-empty": (cast.erin, "/agent/alerts/?source=forensics"),
        "agent-alert-open": (cast.erin, f"/agent/alerts/{open_alert.pk}/"),
        "agent-alert-asked": (cast.erin, f"/agent/alerts/{asked_alert.pk}/"),
        "agent-alert-closed": (cast.erin, f"/agent/alerts/{closed_alert.pk}/"),
        "buyer-alerts": (cast.bob, "/protection/"),
        "buyer-alerts-empty": (cast.carol, "/protection/"),
        "buyer-alert-asked": (cast.bob, f"/protection/{asked_alert.pk}/"),
        # every kind of notification this scene sent, as each of its readers sees them
        "notifications-seller": (cast.alice, "/notifications/"),
        "notifications-seller-page-2": (cast.alice, "/notifications/?page=2"),
        "notifications-buyer": (cast.bob, "/notifications/"),
        "notifications-senior": (cast.frank, "/notifications/"),
        "notifications-empty": (cast.erin, "/notifications/"),
        "not-found": (cast.bob, "/cases/999999/"),
        "forbidden": (cast.alice, "/orders/"),
    }
    data = [
        *(c.reference for c in cases),
        *(o.external_id for o in cast.shop.orders.all()),
        *(u.username for u in (cast.bob, cast.alice, cast.erin, cast.admin)),
        "Market-1",
        reviewed.reference,
        cast.frank.username,
        *("A-1", "A-2", "AR-2", "P-1"),
        *(str(e.id) for e in events if e is not None),
        cast.bob.public_alias,
        *(shop.name for shop in (cast.shop, cast.other_shop, cast.jd_shop)),
        *(shop.external_id for shop in (cast.shop, cast.other_shop, cast.jd_shop)),
        *(c.reference for c in listed),
        "Oolong tea 250 g",
        "taobao-2021",
        "IMG_0001.png",
        *_log_key(),
        "LOG_0002.csv",
        "Q-0",
        *(e.sha256[:16] for e in CaseEvidence.objects.all()),
        *(r.reference for r in reports),
        *("X-1", "X-2", "X-3", "XR-1", "V-1", "X-IMG.png"),
        *(e.sha256[:16] for e in ExtortionEvidence.objects.all()),
        *(a.reference for a in (open_alert, asked_alert, closed_alert)),
        *("M-1", "N-1", cast.carol.username),
    ]
    return Scene(pages, data)


def _log_key():
    """The evidence log's key and fingerprint on /verify/: data, in no language."""
    from reviewshield.evidence.log import verifier
    from reviewshield.proofs.checkpoint import key_fingerprint

    return [verifier(), key_fingerprint(verifier())]


def _alerts(cast):
    """Alerts from chat screening: one open (the chat muted), one waiting for the buyer, one closed."""
    from reviewshield.detection import services as detection
    from reviewshield.detection.models import ScreenedMessage

    alerts = []
    for n, shop in enumerate((cast.shop, cast.other_shop, cast.jd_shop)):
        order = cast.order(shop=shop, trade_success_at=TS)
        message = ScreenedMessage.objects.create(
            platform=shop.platform, message_id=f"msg-{n}", shop=shop, buyer=cast.bob, order=order, sender="seller",
            sent_at=NOW, text="M-1", action="block", categories=["threat", "doxxing"], scores={"threat": 0.9},
            spans=[[0, 3, "threat", "kill-en"]], reason_code="threat",
            reason_params={"action": "block", "categories": "threat,doxxing", "factors": "after_review,late_night"},
            factors=["after_review", "late_night"], lexicon_version="v1", lexicon_hash="sha256:0", screened_at=NOW,
        )  # fmt: skip
        alerts.append(
            detection.alert_from_screening(
                shop=shop, buyer=cast.bob, review=None, messages=[message], now=NOW
            )
        )
    detection.alert_warn_seller(alert_id=alerts[0].pk, agent=cast.erin, message="N-1", now=NOW)
    detection.alert_mute(alert_id=alerts[0].pk, agent=cast.erin, reason="N-1", now=NOW)
    detection.alert_request_consent(alert_id=alerts[1].pk, agent=cast.erin, now=NOW)
    detection.alert_close(alert_id=alerts[2].pk, agent=cast.erin, outcome="false_alarm", note="N-1", now=NOW)
    for alert in alerts:
        alert.refresh_from_db()
    return alerts


def _extortion_reports(cast):
    """Extortion reports waiting for the buyer, with the platform, and upheld (its review folded)."""
    reports = []
    for step in ("awaiting_buyer", "awaiting_decision", "upheld"):
        order = cast.order(trade_success_at=TS)
        market.review_upsert(platform="taobao", order_external_id=order.external_id, external_id="", rating="bad",
                             text="V-1", anonymous=False, posted_at=NOW, now=NOW)  # fmt: skip
        report = extortion.report_file(seller=cast.alice, order_id=order.pk, threat="bad_review", demand="X-1",
                                       demand_amount="200", occurred_at=NOW - timedelta(hours=1), narrative="X-2",
                                       files=[screenshot(name="X-IMG.png")], now=NOW)  # fmt: skip
        if step != "awaiting_buyer":
            report = extortion.report_answer(report_id=report.pk, buyer=cast.bob, text="X-3", now=NOW)
        if step == "upheld":
            report = extortion.report_decide(report_id=report.pk, agent=cast.erin, outcome="uphold",
                                             reasons="XR-1", now=NOW)  # fmt: skip
        reports.append(report)
    return reports


PAGE_NAMES = [
    "home", "login", "home-buyer", "orders", "complain", "not-eligible", "assisted-form",
    "assisted-bad-link", "rights-centre",
    "buyer-case-awaiting_response", "buyer-case-settlement_proposed", "buyer-case-awaiting_decision",
    "buyer-case-upheld",
    "seller-cases",
    "seller-case-awaiting_response", "seller-case-settlement_proposed", "seller-case-awaiting_decision",
    "seller-case-upheld",
    "agent-queue", "agent-queue-filtered", "agent-queue-empty", "agent-queue-live",
    "agent-case-awaiting_response", "agent-case-settlement_proposed", "agent-case-awaiting_decision",
    "agent-case-upheld",
    "agent-assisted", "agent-assisted-found", "agent-assisted-none", "agent-chat", "agent-chat-refused",
    "agent-webhooks", "agent-webhooks-admin", "agent-webhooks-empty",
    "seller-sanctions", "seller-sanctions-empty", "buyer-case-appeal-decided", "seller-case-appeal-decided",
    "agent-appeals", "agent-appeals-decided", "agent-appeal", "agent-appeal-read-only", "agent-appeal-decided",
    "agent-compensations", "agent-compensations-paid", "agent-compensations-empty",
    "public-blacklist", "public-blacklist-empty", "public-warnings", "public-warnings-empty", "public-verify",
    "seller-extortion", "seller-extortion-file", "seller-extortion-awaiting_buyer",
    "seller-extortion-awaiting_decision", "seller-extortion-upheld", "buyer-extortion",
    "buyer-extortion-awaiting_buyer", "buyer-extortion-awaiting_decision", "buyer-extortion-upheld",
    "agent-extortion", "agent-extortion-awaiting_buyer", "agent-extortion-awaiting_decision",
    "agent-extortion-upheld",
    "agent-alerts", "agent-alerts-closed", "agent-alerts-empty", "agent-alert-open", "agent-alert-asked",
    "agent-alert-closed", "buyer-alerts", "buyer-alerts-empty", "buyer-alert-asked",
    "notifications-seller", "notifications-seller-page-2", "notifications-buyer", "notifications-senior",
    "notifications-empty",
    "not-found", "forbidden",
]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_speaks_one_language(scene, settings, name, lang):
    settings.DEBUG = False  # the real 403/404 pages
    who, url = scene.pages[name]
    client = as_user(who, lang) if who else Client(HTTP_ACCEPT_LANGUAGE=lang)
    res = client.get(url, HTTP_HX_REQUEST="true") if name.endswith("-live") else client.get(url)
    assert res.status_code in (200, 403, 404, 410, 422), (name, res.status_code)
    assert leftover(res.content.decode(), lang, scene.data) == [], f"{name} ({lang})"


def test_the_page_list_covers_every_portal_address():
    """A new page must join the list above (and so the language check)."""
    from django.urls import get_resolver

    names = {p.name for p in get_resolver("reviewshield.web.urls").url_patterns}
    checked_elsewhere = {"logout", "case_settlement", "case_withdraw", "case_bundle", "agent_bundle", "seller_answer", "agent_take", "agent_decide",
                         "agent_evidence", "case_evidence_add", "case_evidence_file", "seller_evidence_add",
                         "seller_evidence_file", "case_chat_cite", "case_chat_permission", "seller_chat_cite",
                         "agent_webhook_replay", "case_appeal", "seller_appeal", "agent_appeal_decide",
                         "agent_compensation_paid", "seller_extortion_evidence_add",
                         "seller_extortion_evidence_file", "seller_extortion_withdraw", "buyer_extortion_answer",
                         "buyer_extortion_evidence_add", "buyer_extortion_evidence_file", "agent_extortion_take",
                         "agent_extortion_decide", "agent_extortion_evidence", "agent_alert_act",
                         "buyer_alert_consent", "notification_open", "notifications_read_all",
                         "assisted_request"}  # fmt: skip
    shown = {
        "home", "login", "orders", "complain", "assisted_file", "cases", "case", "seller_cases", "seller_case",
        "agent_queue", "agent_case", "agent_assisted", "agent_chat", "agent_webhooks",
        "seller_sanctions", "agent_appeals", "agent_appeal", "agent_compensations",
        "public_blacklist", "public_warnings", "public_verify",
        "seller_extortion", "seller_extortion_file", "seller_extortion_report", "buyer_extortion",
        "buyer_extortion_report", "agent_extortion", "agent_extortion_report", "agent_alerts", "agent_alert",
        "buyer_alerts", "buyer_alert", "notifications",
    }  # fmt: skip
    assert names == shown | checked_elsewhere


@pytest.mark.parametrize(
    ("url", "owner", "other_party", "outsider"),
    [
        ("/cases/{case}/", "bob", ("alice", 403), ("carol", 404)),
        ("/seller/cases/{case}/", "alice", ("bob", 403), ("dave", 404)),
        ("/agent/cases/{case}/", "erin", ("alice", 403), ("bob", 403)),
        ("/orders/{order}/complain/", "bob", ("alice", 403), ("carol", 404)),
        ("/agent/evidence/{evidence}/", "erin", ("alice", 403), ("carol", 403)),
        ("/file/{token}/", "bob", ("alice", 403), ("carol", 410)),
        ("/agent/webhooks/", "erin", ("alice", 403), ("bob", 403)),
        ("/seller/shops/{shop}/sanctions/", "alice", ("bob", 403), ("dave", 404)),
        ("/agent/appeals/", "erin", ("alice", 403), ("bob", 403)),
        ("/agent/appeals/{appeal}/", "erin", ("alice", 403), ("bob", 403)),
        ("/agent/compensations/", "erin", ("alice", 403), ("bob", 403)),
    ],
)
def test_each_page_as_owner_other_party_and_outsider(cast, time_machine, url, owner, other_party, outsider):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["other"],
        occurred_at=NOW,
        narrative="x",
        files=[screenshot(name="a.png")],
        now=NOW,
    )
    fresh = cast.order(trade_success_at=TS)
    late = cast.order(trade_success_at=NOW - timedelta(days=40))
    _, raw = services.assisted_link_issue(agent=cast.erin, order_id=late.pk, reason="why", now=NOW)
    decided = services.case_file(  # decided and appealed by the seller
        buyer=cast.bob,
        order_id=cast.order(trade_success_at=TS).pk,
        harassment_types=["other"],
        occurred_at=NOW,
        narrative="y",
        now=NOW,
    )
    services.case_answer(case_id=decided.pk, seller=cast.alice, kind="defence", text="no", now=NOW)
    services.case_decide(
        case_id=decided.pk, agent=cast.erin, outcome="uphold", tier="ordinary", reasons="r", now=NOW
    )
    appeal = appeals.appeal_file(case_id=decided.pk, user=cast.alice, reasons="wrong", now=NOW)
    address = url.format(
        case=case.pk,
        order=fresh.pk,
        evidence=case.evidence.get().pk,
        token=raw,
        shop=cast.shop.pk,
        appeal=appeal.pk,
    )
    people = {u.username: u for u in (cast.bob, cast.carol, cast.alice, cast.dave, cast.erin)}
    assert as_user(people[owner]).get(address).status_code == 200
    for name, status in (other_party, outsider):
        assert as_user(people[name]).get(address).status_code == status, name
    anonymous = Client().get(address)
    assert anonymous.status_code == 302 and anonymous.url.startswith("/login/?next=")


@pytest.mark.parametrize(
    ("url", "who", "status"),
    [
        ("/cases/{case}/withdraw/", "carol", 404),
        ("/cases/{case}/settlement/", "alice", 403),
        ("/seller/cases/{case}/answer/", "dave", 404),
        ("/seller/cases/{case}/answer/", "bob", 403),
        ("/agent/cases/{case}/decide/", "alice", 403),
        ("/agent/cases/{case}/take/", "bob", 403),
        ("/agent/assisted/", "alice", 403),
        ("/agent/webhooks/1/replay/", "alice", 403),
        ("/agent/webhooks/1/replay/", "bob", 403),
        ("/cases/{case}/appeal/", "carol", 404),
        ("/cases/{case}/appeal/", "alice", 403),
        ("/seller/cases/{case}/appeal/", "dave", 404),
        ("/seller/cases/{case}/appeal/", "bob", 403),
        ("/agent/appeals/1/decide/", "alice", 403),
        ("/agent/compensations/1/paid/", "bob", 403),
    ],
)
def test_actions_refuse_everyone_but_their_party(cast, time_machine, url, who, status):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    case = services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW, narrative="x", now=NOW
    )
    person = {u.username: u for u in (cast.bob, cast.carol, cast.alice, cast.dave)}[who]
    res = as_user(person).post(url.format(case=case.pk), {"kind": "defence", "text": "t", "outcome": "reject",
                                                          "reasons": "r", "order": order.pk})  # fmt: skip
    assert res.status_code == status
    case.refresh_from_db()
    assert case.status == "awaiting_response" and case.events.count() == 1
