"""The agent's pages: the queue and its counters, the workspace, deciding, assisted filing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reviewshield.cases import services
from reviewshield.cases.models import Case, CaseStatus
from tests.conftest import as_user, local
from tests.samples import call_records, statement

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


def file_case(cast, buyer=None, *, shop=None, kinds=("threats_insults",), now=NOW, files=()):
    order = cast.order(buyer=buyer or cast.bob, shop=shop, trade_success_at=now - timedelta(days=2))
    return services.case_file(
        buyer=buyer or cast.bob,
        order_id=order.pk,
        harassment_types=list(kinds),
        occurred_at=now - timedelta(hours=2),
        narrative="他威胁说要来我家。 He said he would come to my home.",
        files=list(files),
        now=now,
    )


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)


def queue_rows(page: str) -> list[str]:
    """The case references of the queue, in the order shown."""
    return re.findall(r'href="/agent/cases/\d+/">(RS[^<]+)</a>', page)


def test_queue_orders_by_nearest_deadline_and_marks_risk(cast, at_now, time_machine):
    first = file_case(cast)  # respond_by NOW + 72 h
    time_machine.move_to(NOW + timedelta(hours=60), tick=False)
    second = file_case(cast, cast.carol, kinds=("phone_sms_bombing",), now=NOW + timedelta(hours=60))
    page = as_user(cast.erin).get("/agent/").content.decode()
    assert queue_rows(page) == [first.reference, second.reference]
    # The first answer window ends in 12 hours: at risk; the second is not.
    assert page.count('class="mark at-risk"') == 1 and 'class="mark breached"' not in page

    time_machine.move_to(NOW + timedelta(hours=73), tick=False)
    page = as_user(cast.erin).get("/agent/").content.decode()
    assert 'class="mark breached"' in page
    assert re.search(r'id="count-breached">1<', page) and re.search(r'id="count-open">2<', page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("harassment_type=phone_sms_bombing", "second"),
        ("platform=taobao", "both"),
        ("platform=jd", "none"),
        ("status=awaiting_response", "both"),
        ("status=awaiting_decision", "none"),
        ("risk=at_risk", "first"),
    ],
)
def test_queue_filters(cast, at_now, time_machine, query, expected):
    first = file_case(cast)
    time_machine.move_to(NOW + timedelta(hours=60), tick=False)
    second = file_case(cast, cast.carol, kinds=("phone_sms_bombing",), now=NOW + timedelta(hours=60))
    rows = queue_rows(as_user(cast.erin).get(f"/agent/?{query}").content.decode())
    want = {
        "first": [first.reference],
        "second": [second.reference],
        "both": [first.reference, second.reference],
    }
    assert rows == want.get(expected, [])


def test_queue_refreshes_itself_with_only_its_live_part(cast, at_now):
    case = file_case(cast)
    agent = as_user(cast.erin)
    full = agent.get("/agent/?platform=taobao").content.decode()
    assert 'hx-trigger="every 30s"' in full and 'hx-get="/agent/?platform=taobao"' in full
    assert "htmx" in full  # the script that does the polling is on the page
    part = agent.get("/agent/?platform=taobao", HTTP_HX_REQUEST="true").content.decode()
    assert case.reference in part and "<html" not in part and 'id="live"' in part


def test_counters_count_due_today_and_decided_this_week(cast, at_now, time_machine):
    due = file_case(cast)
    file_case(cast, cast.carol)
    services.case_answer(case_id=due.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    services.case_decide(
        case_id=due.pk, agent=cast.erin, outcome="reject", reasons="No evidence of contact.", now=NOW
    )
    page = as_user(cast.erin).get("/agent/").content.decode()
    assert re.search(r'id="count-open">1<', page)
    assert re.search(r'id="count-decided">1<', page)
    assert re.search(r'id="count-due-today">0<', page)
    # The open case's seller must answer by Nov 15 09:00: due today from midnight on.
    time_machine.move_to(local(2026, 11, 15, 1, 0), tick=False)
    page = as_user(cast.erin).get("/agent/").content.decode()
    assert re.search(r'id="count-due-today">1<', page)


def test_queue_query_count_does_not_grow_with_page_size(cast, at_now):
    for i in range(12):
        file_case(cast, cast.bob if i % 2 else cast.carol)
    agent = as_user(cast.erin)
    counts = []
    for per in (25, 100):
        with CaptureQueriesContext(connection) as q:
            page = agent.get(f"/agent/?per={per}").content.decode()
        assert len(queue_rows(page)) == 12
        counts.append(len(q))
    few = as_user(cast.erin)
    with CaptureQueriesContext(connection) as q:
        few.get("/agent/?per=25&page=1&status=awaiting_response")
    assert counts[0] == counts[1] == len(q)


def test_workspace_shows_both_sides_rules_and_deadlines(cast, at_now):
    case = file_case(cast, files=[statement(name="chat.txt")])
    services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="defence",
        text="We only called about the refund.",
        files=[call_records(name="call-log.csv")],
        now=NOW,
    )
    page = as_user(cast.erin).get(f"/agent/cases/{case.pk}/").content.decode()
    for text in (
        "He said he would come to my home.",
        "We only called about the refund.",
        "chat.txt",
        "call-log.csv",
        "Taobao harassment rule (from 2021-12-28)",
        "Platform decides by",
        case.order.external_id,
        "2 points (class A) for the seller; 300 yuan to the buyer",
        "12 points (class A)",
        "48 points (class B)",
    ):
        assert text in page, text
    zh = as_user(cast.erin, "zh-hans").get(f"/agent/cases/{case.pk}/").content.decode()
    assert "淘宝骚扰他人规则（2021-12-28 起）" in zh and "平台判定期限" in zh


def test_provisional_deadlines_are_marked(cast, time_machine):
    at = local(2026, 12, 28, 10, 0)
    time_machine.move_to(at, tick=False)
    case = file_case(cast, now=at)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=at)
    case.refresh_from_db()
    assert "decide_by" in case.provisional_deadlines
    page = as_user(cast.erin).get(f"/agent/cases/{case.pk}/").content.decode()
    assert "provisional: next year's holiday calendar is not published yet" in page


def test_agent_downloads_evidence_of_either_side_and_no_one_else_can(cast, at_now):
    case = file_case(cast, files=[statement("chat-bytes", name="chat.txt")])
    item = case.evidence.get()
    res = as_user(cast.erin).get(f"/agent/evidence/{item.pk}/")
    assert res.status_code == 200 and b"".join(res.streaming_content) == b"chat-bytes"
    assert f'filename="evidence-{item.pk}.txt"' in res["Content-Disposition"]
    for outsider in (cast.alice, cast.carol, cast.bob):
        assert as_user(outsider).get(f"/agent/evidence/{item.pk}/").status_code == 403


def test_take_then_uphold_with_a_tier_from_the_page(cast, at_now):
    case = file_case(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    agent = as_user(cast.erin)
    case.refresh_from_db()
    res = agent.post(f"/agent/cases/{case.pk}/take/", {"version": case.version}, follow=True)
    assert "The case is yours." in res.content.decode()
    case.refresh_from_db()
    assert case.assigned_agent == cast.erin
    res = agent.post(
        f"/agent/cases/{case.pk}/decide/",
        {
            "version": case.version,
            "outcome": "uphold",
            "tier": "serious",
            "reasons": "Threat recorded in chat.",
        },
        follow=True,
    )
    assert "The decision is recorded" in res.content.decode()
    case.refresh_from_db()
    assert (case.status, case.tier, case.points, case.points_class) == (CaseStatus.UPHELD, "serious", 12, "A")
    assert case.events.filter(kind="decided", actor=cast.erin).exists()


@pytest.mark.parametrize(
    ("lang", "message"),
    [("en", "Write the reasons for the decision"), ("zh-hans", "请填写判定理由")],
)
def test_a_refused_decision_keeps_what_the_agent_wrote(cast, at_now, lang, message):
    case = file_case(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    case.refresh_from_db()
    res = as_user(cast.erin, lang).post(
        f"/agent/cases/{case.pk}/decide/",
        {"version": case.version, "outcome": "uphold", "tier": "no-such-tier", "reasons": "   "},
    )
    page = res.content.decode()
    assert res.status_code == 422 and message in page
    assert 'value="uphold" id="outcome-uphold" checked' in page
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION and not case.events.filter(kind="decided").exists()


def test_assisted_filing_finds_the_order_records_why_and_the_buyer_files_once(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=40))  # the 15-day window is long gone
    buyer = as_user(cast.bob)
    refused = buyer.get(f"/orders/{order.pk}/complain/")
    assert (
        refused.status_code == 422
        and "Ask an agent to open an assisted complaint" in refused.content.decode()
    )

    agent = as_user(cast.erin)
    found = agent.get("/agent/assisted/", {"q": "bob"}).content.decode()
    assert order.external_id in found and "window ended" in found
    res = agent.post("/agent/assisted/", {"order": order.pk, "q": "bob", "reason": ""})
    assert (
        res.status_code == 422 and "Record why the buyer may file outside the window." in res.content.decode()
    )
    res = agent.post(
        "/agent/assisted/",
        {"order": order.pk, "q": "bob", "reason": "Buyer was in hospital; chat proves it."},
    )
    page = res.content.decode()
    url = re.search(
        r'id="issued-url" type="text" readonly value="http://testserver(/file/[^"]+/)"', page
    ).group(1)

    assert as_user(cast.carol).get(url).status_code == 410  # only the buyer it was issued to
    form = buyer.get(url)
    assert form.status_code == 200 and "an agent opened this for you" in form.content.decode()
    res = buyer.post(
        url,
        {"harassment_types": ["threats_insults"], "occurred_at": "2026-11-11T20:00", "narrative": "Threats."},
    )
    case = Case.objects.get(order=order)
    assert res.status_code == 302 and res["Location"] == f"/cases/{case.pk}/"
    assert case.assisted_link.issued_by == cast.erin and "hospital" in case.assisted_link.reason
    again = buyer.get(url)
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_assisted_filing_search_by_order_number_and_member_id(cast, at_now):
    order = cast.order(trade_success_at=NOW - timedelta(days=40))
    agent = as_user(cast.erin)
    assert order.external_id in agent.get("/agent/assisted/", {"q": order.external_id}).content.decode()
    cast.bob.external_id = "taobao:tb-778899"
    cast.bob.save()
    member = "tb-778899"
    assert order.external_id in agent.get("/agent/assisted/", {"q": member}).content.decode()
    assert "No order matches" in agent.get("/agent/assisted/", {"q": "nobody-at-all"}).content.decode()


def test_a_decision_on_a_stale_page_says_someone_was_faster(cast, at_now):
    case = file_case(cast)
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    res = as_user(cast.erin).post(
        f"/agent/cases/{case.pk}/decide/", {"version": "1", "outcome": "reject", "reasons": "Stale page."}
    )
    page = res.content.decode()
    assert res.status_code == 422 and "changed this case first" in page
    assert f'<li class="error">{case.reference}</li>' not in page
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_DECISION
