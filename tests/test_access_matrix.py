"""The role × object matrix: nobody reads or changes what is not theirs, through any door.

One scene is built once for the module through the services: a buyer (bob) and a seller (alice, of
"Alice's Tea") with one object of every kind the API and the portals address by id — complaints with
evidence, an appeal, a compensation, a chat evidence number and permission, extortion reports with
evidence, alerts, an assisted-filing request and link, a forensic report, notifications, a webhook
delivery. Then every operation of the live `/api/openapi.json` and every portal address with an id
is tried with those objects' ids by everyone who is not their party: nobody (anonymous), a buyer
who is not the party (carol), the seller of another shop (dave) and — where only agents or the
marketplace's systems may act — the party's own buyer and seller.

- A read of one object must be refused (401/403/404/405/410, or the login page for nobody); a read
  that may legitimately answer everyone (lists that filter, public shop facts) must not carry any of
  the parties' private marks (references, narratives, the buyer's phone and name, chat numbers …).
- A write must be refused or, for the caller's own scope, leave every table of the parties as it
  was (every row of every ReviewShield table is compared before and after).

An operation or address added without a place in the tables below fails `test_*_is_placed`: a new
endpoint must say who may use it, and is then tried like the others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import local, make_cast
from tests.samples import call_records, png, screenshot

NOW = local(2026, 11, 12, 9, 0)
TS = local(2026, 11, 10, 10, 0)

# Who may use each operation. Everyone not allowed is tried:
#   PARTY  — one object of its buyer/seller (and agents): nobody, another buyer, another shop's seller;
#   AGENT  — agents, admins or the marketplace's systems only: also the party's own buyer and seller;
#   OWN    — the caller's own scope (a list that filters, or a write about the caller's own things):
#            another buyer or seller may get 200, but never the parties' marks, and nothing of the
#            parties changes; nobody is refused;
#   SIGNED — any signed-in caller may read (rulesets, public facts of a shop): nobody is refused,
#            the others get no private marks;
#   OPEN   — no login by design; still no private marks for anyone.
PARTY, AGENT, OWN, SIGNED, OPEN = "party", "agent", "own", "signed", "open"

API: dict[str, str] = {
    # the marketplace's systems push their data
    "POST /api/marketplace/orders": AGENT,
    "POST /api/marketplace/reviews": AGENT,
    "POST /api/chat/messages": AGENT,
    "POST /api/screen/messages": AGENT,
    "GET /api/screen/lexicon": AGENT,
    "POST /api/screen/lexicon/reload": AGENT,
    # orders and shops
    "GET /api/orders": OWN,
    "GET /api/orders/{order_id}": PARTY,
    "GET /api/shops": SIGNED,  # the shop catalogue: names only
    "GET /api/shops/{shop_id}/status": SIGNED,  # what the shop may do: the marketplace enforces it
    "GET /api/shops/{shop_id}/ledger": PARTY,
    "GET /api/shops/{shop_id}/blacklist": SIGNED,  # the blacklist is public (see /api/public/blacklist)
    "GET /api/shops/{shop_id}/rating": SIGNED,  # the good share shoppers see
    "POST /api/shops/{shop_id}/exam": AGENT,
    # complaints
    "GET /api/cases": OWN,
    "POST /api/cases": OWN,  # with the party's order: refused
    "GET /api/cases/{case_id}": PARTY,
    "GET /api/cases/{case_id}/events": PARTY,
    "POST /api/cases/{case_id}/answer": PARTY,
    "POST /api/cases/{case_id}/settlement": PARTY,
    "POST /api/cases/{case_id}/withdraw": PARTY,
    "POST /api/cases/{case_id}/assign": AGENT,
    "POST /api/cases/{case_id}/decide": AGENT,
    "GET /api/cases/{case_id}/decision-preview": AGENT,
    "POST /api/cases/{case_id}/evidence": PARTY,
    "GET /api/cases/{case_id}/bundle": PARTY,
    "GET /api/cases/{case_id}/evidence/{evidence_id}/file": PARTY,
    "GET /api/cases/{case_id}/forensics": PARTY,
    "GET /api/queue": AGENT,
    "GET /api/queue/counters": AGENT,
    # assisted filing
    "POST /api/assisted-links": AGENT,
    "GET /api/assisted-links/{token}": PARTY,
    "POST /api/assisted-requests": OWN,  # with the party's order: refused
    "GET /api/assisted-requests": OWN,
    "POST /api/assisted-requests/{request_id}/link": AGENT,
    # notifications
    "GET /api/notifications": OWN,
    "POST /api/notifications/read": OWN,  # marks the caller's own only
    # chat
    "POST /api/chat/evidence": OWN,  # with the party's conversation: refused
    "GET /api/chat/evidence/{number}": PARTY,
    "POST /api/cases/{case_id}/chat-citations": PARTY,
    "GET /api/cases/{case_id}/chat-permission": PARTY,
    "POST /api/cases/{case_id}/chat-permission": PARTY,
    "DELETE /api/cases/{case_id}/chat-permission": PARTY,
    "GET /api/cases/{case_id}/chat": AGENT,
    # rulesets and the log
    "GET /api/rulesets": SIGNED,  # the published rules
    "GET /api/rulesets/{ruleset_id}": SIGNED,
    "POST /api/policy/deadlines": SIGNED,  # a calculation: writes nothing
    "GET /api/log/checkpoint": OPEN,  # the log's key and head are published so outsiders can pin them
    "POST /api/log/checkpoint": AGENT,
    "GET /api/log/inclusion": SIGNED,  # a hash path: no content of the record
    "GET /api/log/consistency": SIGNED,
    # sanctions, appeals, compensation
    "GET /api/compensations": OWN,
    "GET /api/compensations.csv": OWN,
    "POST /api/compensations/{compensation_id}/paid": AGENT,
    "POST /api/cases/{case_id}/appeals": PARTY,
    "GET /api/cases/{case_id}/appeals": PARTY,
    "GET /api/appeals": AGENT,
    "POST /api/appeals/{appeal_id}/decision": AGENT,
    "GET /api/webhooks/deliveries": AGENT,
    "POST /api/webhooks/deliveries/{delivery_id}/replay": AGENT,
    # extortion
    "POST /api/extortion": OWN,  # another shop's seller reporting about the party's order: refused
    "GET /api/extortion": OWN,
    "GET /api/extortion/{report_id}": PARTY,
    "POST /api/extortion/{report_id}/answer": PARTY,
    "POST /api/extortion/{report_id}/evidence": PARTY,
    "GET /api/extortion/{report_id}/evidence/{evidence_id}/file": PARTY,
    "POST /api/extortion/{report_id}/withdraw": PARTY,
    "POST /api/extortion/{report_id}/assign": AGENT,
    "POST /api/extortion/{report_id}/decision": AGENT,
    "GET /api/buyers/{buyer_id}/strikes": AGENT,
    # public pages of the API
    "GET /api/public/blacklist": OPEN,  # the seller credit blacklist is public by the rules
    "GET /api/public/warnings": OPEN,  # so are public warnings
    # alerts
    "GET /api/alerts": OWN,
    "GET /api/alerts/{alert_id}": PARTY,
    "POST /api/alerts/{alert_id}/warn": AGENT,
    "POST /api/alerts/{alert_id}/mute": AGENT,
    "POST /api/alerts/{alert_id}/unmute": AGENT,
    "POST /api/alerts/{alert_id}/request-consent": AGENT,
    "POST /api/alerts/{alert_id}/close": AGENT,
    "POST /api/alerts/{alert_id}/consent": PARTY,
}

# Portal addresses with an id (by URL name). Each is tried with GET and with POST.
WEB: dict[str, str] = {
    "notification_open": PARTY,
    "complain": PARTY,
    "assisted_request": PARTY,
    "assisted_file": PARTY,
    "case": PARTY,
    "case_bundle": PARTY,
    "case_evidence_add": PARTY,
    "case_chat_cite": PARTY,
    "case_chat_permission": PARTY,
    "case_evidence_file": PARTY,
    "case_settlement": PARTY,
    "case_withdraw": PARTY,
    "case_appeal": PARTY,
    "seller_case": PARTY,
    "seller_answer": PARTY,
    "seller_evidence_add": PARTY,
    "seller_chat_cite": PARTY,
    "seller_evidence_file": PARTY,
    "seller_appeal": PARTY,
    "seller_sanctions": PARTY,
    "agent_case": AGENT,
    "agent_take": AGENT,
    "agent_decide": AGENT,
    "agent_bundle": AGENT,
    "agent_chat": AGENT,
    "agent_evidence": AGENT,
    "agent_appeal": AGENT,
    "agent_appeal_decide": AGENT,
    "agent_compensation_paid": AGENT,
    "agent_webhook_replay": AGENT,
    "agent_alert": AGENT,
    "agent_alert_act": AGENT,
    "buyer_alert": PARTY,
    "buyer_alert_consent": PARTY,
    "seller_extortion_report": PARTY,
    "seller_extortion_evidence_add": PARTY,
    "seller_extortion_evidence_file": PARTY,
    "seller_extortion_withdraw": PARTY,
    "buyer_extortion_report": PARTY,
    "buyer_extortion_answer": PARTY,
    "buyer_extortion_evidence_add": PARTY,
    "buyer_extortion_evidence_file": PARTY,
    "agent_extortion_report": AGENT,
    "agent_extortion_take": AGENT,
    "agent_extortion_decide": AGENT,
    "agent_extortion_evidence": AGENT,
}

REFUSED = {401, 403, 404, 405, 409, 410, 422}
# Tables any caller may change: the limits count every attempt, refused ones too (the caller's rows,
# not the parties'); the tamper-evident log appends its queued leaves and signs a checkpoint for
# whoever asks for the newest one (GET /api/log/checkpoint, open by design). A write of the parties'
# data shows in the data tables themselves.
UNWATCHED = {"limits.LimitCounter", "limits.LimitHit", "evidence.LogCheckpoint", "evidence.LogLeaf",
             "evidence.LogNode", "evidence.LogQueue", "evidence.LogState"}  # fmt: skip
# Fields that change on any request and say nothing about the parties' objects.
VOLATILE = {"last_used_at", "last_login"}


@dataclass
class Scene:
    clients: dict[str, Client]  # api: bearer tokens; web: sessions
    web: dict[str, Client]
    fillings: list[dict[str, Any]]  # path parameters, one object of every kind per filling
    marks: list[str]  # what only the parties (and agents) may read
    bodies: dict[str, Any] = field(default_factory=dict)  # values for body fields by name


@pytest.fixture(scope="module")
def scene(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Made once for the module (each test runs in a savepoint inside) and rolled back at its end."""
    import time_machine
    from django.db import transaction
    from django.test import override_settings

    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=False), fast:
        yield _build()
        transaction.set_rollback(True)


def _build() -> Scene:
    from django.db import transaction

    from reviewshield.accounts.models import ApiToken, Role, User
    from reviewshield.cases import assisted, services
    from reviewshield.chat import services as chat
    from reviewshield.extortion.models import ExtortionEvidence
    from reviewshield.forensics.models import ForensicReport
    from reviewshield.outbox.models import Notification
    from reviewshield.sanctions import appeals
    from reviewshield.sanctions.models import Compensation
    from reviewshield.webhooks.models import WebhookDelivery, WebhookEndpoint
    from reviewshield.webhooks.services import webhook_emit
    from tests.web.test_every_page import _alerts, _extortion_reports

    cast = make_cast()
    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    cast.bob.refresh_from_db()
    system = User.objects.create_user(username="marketplace", password="pw", role=Role.SYSTEM)

    def filed(narrative: str, files: list[Any]) -> Any:
        order = cast.order(trade_success_at=TS)
        return services.case_file(
            buyer=cast.bob,
            order_id=order.pk,
            harassment_types=["threats_insults"],
            occurred_at=NOW - timedelta(hours=3),
            narrative=narrative,
            files=files,
            now=NOW,
        )

    open_case = filed("SECRET-NARRATIVE-1", [screenshot(name="SECRET-IMG-1.png")])
    decided = filed("SECRET-NARRATIVE-2", [screenshot(name="SECRET-IMG-2.png")])
    services.case_answer(
        case_id=decided.pk,
        seller=cast.alice,
        kind="defence",
        text="SECRET-DEFENCE",
        files=[call_records(name="SECRET-CALLS.csv")],
        now=NOW,
    )
    services.case_decide(
        case_id=decided.pk, agent=cast.erin, outcome="uphold", tier="ordinary", reasons="SECRET-R", now=NOW
    )
    appeal = appeals.appeal_file(case_id=decided.pk, user=cast.alice, reasons="SECRET-APPEAL", now=NOW)
    compensation = Compensation.objects.get(case=decided)
    chat.chat_permission_grant(case_id=open_case.pk, buyer=cast.bob, now=NOW)
    chat.chat_messages_push(
        platform="taobao",
        conversation_id="C1",
        shop_id="S1",
        buyer_id="tb_bob",
        messages=[
            chat.IncomingMessage("m1", "seller", NOW - timedelta(hours=2), "SECRET-CHAT-1"),
            chat.IncomingMessage("m2", "seller", NOW - timedelta(hours=1), "SECRET-CHAT-2"),
        ],
        now=NOW,
    )
    number = chat.chat_evidence_create(
        buyer=cast.bob, platform="taobao", conversation_id="C1", first_message_id="m1", last_message_id="m2",
        now=NOW,
    ).number  # fmt: skip
    reports = _extortion_reports(cast)
    alerts = _alerts(cast)
    fresh = cast.order(trade_success_at=TS)  # no complaint yet: the party's to file
    late = cast.order(trade_success_at=NOW - timedelta(days=40))
    request = assisted.assisted_request_file(
        buyer=cast.bob, order_id=late.pk, description="SECRET-ASK", now=NOW
    )
    _link, token = services.assisted_link_issue(
        agent=cast.erin,
        order_id=cast.order(trade_success_at=NOW - timedelta(days=40)).pk,
        reason="W",
        now=NOW,
    )
    ForensicReport.objects.create(case=open_case, requested_by=cast.bob, requested_at=NOW)
    WebhookEndpoint.objects.create(name="Market-1", url="https://market.example/hooks")
    with transaction.atomic():  # as the deciding service would, in its own transaction
        webhook_emit(event="case.decided", payload={"case_reference": decided.reference}, now=NOW)
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert delivery is not None

    def case_evidence(case: Any) -> int:
        return case.evidence.order_by("-id").first().pk

    common = {
        "order_id": fresh.pk,
        "shop_id": cast.shop.pk,
        "compensation_id": compensation.pk,
        "appeal_id": appeal.pk,
        "delivery_id": delivery.pk,
        "request_id": request.pk,
        "number": number,
        "buyer_id": cast.bob.pk,
        "token": token,
        "ruleset_id": decided.ruleset_id,
    }
    fillings = []
    for case, report, alert, recipient, action in (
        (open_case, reports[0], alerts[1], cast.alice, "warn"),
        (decided, reports[1], alerts[0], cast.bob, "close"),
    ):
        fillings.append(
            {
                **common,
                "case_id": case.pk,
                "evidence_id": case_evidence(case),
                "report_id": report.pk,
                "extortion_evidence_id": ExtortionEvidence.objects.filter(report=report).first().pk,
                "alert_id": alert.pk,
                "notification_id": Notification.objects.filter(recipient=recipient).first().pk,
                "action": action,
            }
        )
    marks = [
        open_case.reference, decided.reference, number, token, cast.bob.phone, cast.bob.real_name,
        "SECRET-", *(r.reference for r in reports), *(a.reference for a in alerts[:2]),
    ]  # fmt: skip
    people = {"bob": cast.bob, "alice": cast.alice, "carol": cast.carol, "dave": cast.dave}
    clients = {"anonymous": Client(HTTP_ACCEPT_LANGUAGE="en")}
    web = {"anonymous": Client(HTTP_ACCEPT_LANGUAGE="en")}
    for name, user in people.items():
        raw = ApiToken.issue(user=user, name="matrix")[1]
        clients[name] = Client(HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT_LANGUAGE="en")
        web[name] = Client(HTTP_ACCEPT_LANGUAGE="en")
        web[name].force_login(user)
    bodies = {
        "order_id": fresh.pk,
        "platform": "taobao",
        "conversation_id": "C1",
        "first_message_id": "m1",
        "last_message_id": "m2",
        "number": number,
        "agent_id": cast.erin.pk,
        "ids": [n.pk for n in Notification.objects.filter(recipient__in=[cast.bob, cast.alice])],
        "case_id": open_case.pk,
        "shop_id": cast.shop.pk,
        "kind": "chat_screenshot",  # an evidence kind (an enum, where the field has one, wins)
        "evidence_kind": "chat_screenshot",
        "ruleset": decided.ruleset_id,
        "ruleset_id": decided.ruleset_id,
    }
    assert system.pk  # the marketplace's user exists, as in production (its pushes are refused to others)
    return Scene(clients, web, fillings, marks, bodies)


@pytest.fixture(autouse=True)
def _at_now(time_machine: Any, settings: Any) -> None:
    time_machine.move_to(NOW, tick=False)
    # Per-actor limits off: a 429 would hide whether the access check itself refused.
    from reviewshield.limits.services import SCOPES

    settings.REVIEWSHIELD_LIMITS = {name: (0, 1) for name in SCOPES}


def snapshot() -> dict[str, str]:
    """Every row of every ReviewShield table, as a digest per table (the volatile stamps left out)."""
    from django.apps import apps

    digests = {}
    for model in apps.get_models():
        if not model.__module__.startswith("reviewshield.") or model._meta.label in UNWATCHED:
            continue
        rows = [
            {k: v for k, v in row.items() if k not in VOLATILE}
            for row in model.objects.order_by("pk").values()
        ]
        digests[model._meta.label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


def marks_in(scene: Scene, res: Any) -> list[str]:
    """The private marks an answer shows (a download is read whole)."""
    content = b"".join(res.streaming_content) if res.streaming else res.content
    text = content.decode("utf-8", errors="ignore")
    return [m for m in scene.marks if m and m in text]


def live_operations() -> dict[str, dict[str, Any]]:
    schema = live_schema()
    return {
        f"{method.upper()} {path}": op
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    }


_LIVE: dict[str, Any] = {}


def live_schema() -> dict[str, Any]:
    """The application's OpenAPI document (built once: building it takes seconds)."""
    if not _LIVE:
        from reviewshield.api.site import api

        _LIVE.update(api.get_openapi_schema())
    return _LIVE


OPERATIONS = live_operations()


# --- placing ----------------------------------------------------------------------------------------


def test_every_api_operation_is_placed_in_the_matrix(client: Client) -> None:
    live = client.get("/api/openapi.json").json()
    ops = {f"{m.upper()} {p}" for p, o in live["paths"].items() for m in o if m != "parameters"}
    unplaced = sorted(ops - set(API))
    assert not unplaced, (
        "API operations nobody placed in the access matrix (add each to API in tests/test_access_matrix.py "
        f"with who may use it): {unplaced}"
    )
    assert not sorted(set(API) - ops), (
        f"operations in the matrix that no longer exist: {sorted(set(API) - ops)}"
    )


def web_patterns() -> dict[str, str]:
    """Portal URL names with a parameter, and their route."""
    from django.urls import get_resolver

    return {
        p.name: str(p.pattern)
        for p in get_resolver("reviewshield.web.urls").url_patterns
        if p.pattern.converters  # type: ignore[attr-defined]
    }


def test_every_portal_address_with_an_id_is_placed_in_the_matrix() -> None:
    routes = web_patterns()
    unplaced = sorted(set(routes) - set(WEB))
    assert not unplaced, (
        "portal addresses with an id nobody placed in the access matrix (add each to WEB in "
        f"tests/test_access_matrix.py with who may use it): {unplaced}"
    )
    assert not sorted(set(WEB) - set(routes)), (
        f"addresses that no longer exist: {sorted(set(WEB) - set(routes))}"
    )


# --- trying ------------------------------------------------------------------------------------------


def callers(rule: str) -> list[str]:
    outsiders = ["anonymous", "carol", "dave"]
    return [*outsiders, "bob", "alice"] if rule == AGENT else outsiders


def api_path(path: str, filling: dict[str, Any]) -> str:
    values = dict(filling)
    if path.startswith("/api/extortion/"):
        values["evidence_id"] = filling["extortion_evidence_id"]
    return path.format(**values)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema["components"]["schemas"][name]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            return resolve(schema, options[0])
    return node


def example(schema: dict[str, Any], node: dict[str, Any], name: str, scene: Scene, version: int) -> Any:
    """A plausible value for a body field: the scene's object where the name says which, else a valid one."""
    node = resolve(schema, node)
    kind = node.get("type")
    if name == "version":
        return version
    if "enum" in node:
        return node["enum"][0]
    if name in scene.bodies:
        value = scene.bodies[name]
        return str(value) if kind == "string" and isinstance(value, int) else value
    if kind == "object":
        return {
            key: example(schema, sub, key, scene, version)
            for key, sub in node.get("properties", {}).items()
            if wanted(node, key, sub, scene)
        }
    if kind == "array":
        return [example(schema, node.get("items", {}), name, scene, version)]
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if node.get("format") == "date-time":
        return (NOW - timedelta(hours=1)).isoformat()
    if node.get("format") == "date":
        return NOW.date().isoformat()
    if node.get("format") == "binary":
        return SimpleUploadedFile("matrix.png", png())
    return "matrix"


def api_body(op: dict[str, Any], scene: Scene, version: int) -> tuple[dict[str, Any], Any]:
    """Keyword arguments for the test client: a JSON or multipart body built from the operation's schema."""
    body = op.get("requestBody")
    if not body:
        return {}, None
    live = live_schema()
    content = body["content"]
    if "application/json" in content:
        data = example(live, content["application/json"]["schema"], "", scene, version)
        return {"content_type": "application/json"}, data
    node = resolve(live, content["multipart/form-data"]["schema"])
    return {}, {
        key: example(live, sub, key, scene, version)
        for key, sub in node.get("properties", {}).items()
        if wanted(node, key, sub, scene)
    }


def wanted(node: dict[str, Any], key: str, sub: dict[str, Any], scene: Scene) -> bool:
    """The fields a plausible request sends: the required ones, the ones naming the scene's objects,
    the version, the files. (An optional field filled with a made-up value — a filing link, another
    assignee — would be refused for that value before any access check.)"""
    files = "binary" in repr(sub)
    return key in node.get("required", ()) or key in scene.bodies or key == "version" or files


def version_of(path: str, filling: dict[str, Any]) -> int:
    from reviewshield.cases.models import Case
    from reviewshield.detection.models import Alert
    from reviewshield.extortion.models import ExtortionReport

    for key, model in (("{report_id}", ExtortionReport), ("{alert_id}", Alert), ("{case_id}", Case)):
        if key in path:
            return model.objects.get(pk=filling[key.strip("{}")]).version
    return 1


def query(op: dict[str, Any], filling: dict[str, Any]) -> dict[str, Any]:
    """Query parameters the operation requires, pointing at the scene's objects."""
    params = {}
    for p in op.get("parameters", []):
        if p["in"] == "query" and p.get("required"):
            params[p["name"]] = filling.get(p["name"], filling.get(f"{p['name']}_id", 1))
    return params


@pytest.mark.parametrize("key", sorted(OPERATIONS))
def test_api_operation_refuses_everyone_it_is_not_for(scene: Scene, db: Any, key: str) -> None:
    assert key in API, f"{key} is not placed in the access matrix (API in tests/test_access_matrix.py)"
    rule, op = API[key], OPERATIONS[key]
    method, path = key.split(" ", 1)
    problems = []
    before = snapshot()
    for filling in scene.fillings:
        url = api_path(path, filling)
        for who in callers(rule):
            if rule == OPEN and method != "GET":
                continue
            extra, data = api_body(op, scene, version_of(path, filling))
            client = scene.clients[who]
            if method == "GET":
                res = client.get(url, query(op, filling))
            else:
                res = (
                    getattr(client, method.lower())(url, data, **extra)
                    if data is not None
                    else getattr(client, method.lower())(url)
                )
            seen = marks_in(scene, res)
            if res.status_code >= 500:
                problems.append(f"{who}: {url} answered {res.status_code}")
            if method != "GET":
                if rule in (PARTY, AGENT) and res.status_code not in REFUSED:
                    problems.append(f"{who}: {url} was not refused ({res.status_code})")
            elif who == "anonymous" and rule != OPEN:
                if res.status_code != 401:
                    problems.append(f"{who}: {url} answered {res.status_code}, not 401")
            elif rule in (PARTY, AGENT) and res.status_code not in REFUSED:
                problems.append(f"{who}: {url} was read ({res.status_code}) {seen[:3]}")
            if seen and res.status_code < 300:
                problems.append(f"{who}: {url} showed {seen[:5]}")
    if changed(before, snapshot()):
        problems.append(f"{key} by {callers(rule)} changed {changed(before, snapshot())}")
    assert not problems, "\n".join(problems)


def refused_anonymous(res: Any) -> bool:
    """Sent to the login page, or refused before that (405 for a form's address opened with GET)."""
    return (res.status_code == 302 and res.url.startswith("/login/")) or res.status_code in REFUSED


def web_url(route: str, filling: dict[str, Any]) -> str:
    values = dict(filling)
    if "extortion" in route:
        values["evidence_id"] = filling["extortion_evidence_id"]
    url = route
    for part in route.split("<")[1:]:
        spec = part.split(">", 1)[0]
        name = spec.split(":")[-1]
        url = url.replace(f"<{spec}>", str(values[name]))
    return "/" + url


def web_body(scene: Scene, filling: dict[str, Any]) -> dict[str, Any]:
    """What any of the portal's forms might take: unknown fields are ignored by Django forms."""
    return {
        "kind": "defence", "text": "matrix", "outcome": "reject", "reasons": "matrix", "accept": "yes",
        "decision": "accept", "answer": "yes", "version": 1, "number": scene.bodies["number"],
        "description": "matrix", "note": "matrix", "message": "matrix", "reason": "matrix", "tier": "ordinary",
        "payment_reference": "matrix", "agree": "yes", "first": "m1", "last": "m2",
        "files": SimpleUploadedFile("matrix.png", png()),
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(WEB))
def test_portal_address_refuses_everyone_it_is_not_for(scene: Scene, db: Any, name: str) -> None:
    routes = web_patterns()
    assert name in routes, f"{name} is not a portal address any more"
    rule = WEB[name]
    problems = []
    before = snapshot()
    for filling in scene.fillings:
        url = web_url(routes[name], filling)
        for who in callers(rule):
            client = scene.web[who]
            res = client.get(url)
            if who == "anonymous":
                if not refused_anonymous(res):
                    problems.append(f"{who}: GET {url} answered {res.status_code}")
            elif res.status_code not in REFUSED:
                problems.append(f"{who}: GET {url} was read ({res.status_code}) {marks_in(scene, res)[:3]}")
            res = client.post(url, web_body(scene, filling))
            if who == "anonymous":
                if not refused_anonymous(res):
                    problems.append(f"{who}: POST {url} answered {res.status_code}")
            elif res.status_code not in REFUSED:
                problems.append(f"{who}: POST {url} was not refused ({res.status_code})")
    if changed(before, snapshot()):
        problems.append(f"{name} by {callers(rule)} changed {changed(before, snapshot())}")
    assert not problems, "\n".join(problems)


def test_a_kept_file_is_claimed_only_by_its_owner_on_its_own_form(scene: Scene, db: Any) -> None:
    """Kept uploads (files that passed intake on a refused form) have no address: a form claims them
    by token, and only its owner on the same form may — another person with the token gets nothing."""
    from reviewshield.accounts.models import User
    from reviewshield.evidence.kept import kept_for, kept_store

    bob, carol = User.objects.get(username="bob"), User.objects.get(username="carol")
    purpose = f"complaint:{scene.bodies['order_id']}"
    [row] = kept_store(owner=bob, purpose=purpose, uploads=[screenshot()], side="buyer", now=NOW).kept
    assert kept_for(owner=bob, purpose=purpose, tokens=[row.token], now=NOW) == [row]
    assert kept_for(owner=carol, purpose=purpose, tokens=[row.token], now=NOW) == []
    assert kept_for(owner=bob, purpose="complaint:0", tokens=[row.token], now=NOW) == []
