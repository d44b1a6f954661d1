"""Phone exports through the real paths: upload (HTTP, libmagic, intake) → worker → report, the
report as evidence in the log, who reads what, and a bad file read as a clear sentence."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent, CaseEvidence
from reviewshield.deadlines.claiming import deadlines_run_once
from reviewshield.evidence.blobs import blob_open
from reviewshield.evidence.log import log_sequence_all
from reviewshield.evidence.models import LogLeaf
from reviewshield.forensics import synthetic
from reviewshield.forensics.models import ForensicReport
from reviewshield.forensics.services import report_findings
from reviewshield.marketplace.models import Review
from tests.conftest import as_user, local

NOW = local(2026, 11, 12, 10, 0)
REVIEW_AT = NOW - timedelta(days=3)
FLOODER = "17012345678"
NIGHT_CALLER = "16698765432"


def ms(at) -> int:
    return int(at.timestamp() * 1000)


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=4))
    Review.objects.create(order=order, rating="bad", text="Tea was stale.", posted_at=REVIEW_AT)
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["phone_sms_bombing"],
        occurred_at=NOW - timedelta(days=1),
        narrative="Hundreds of verification codes and calls at night after my review.",
        now=NOW,
    )


def export_records():
    rng = random.Random(3)
    records = list(synthetic.background(rng, ms(NOW - timedelta(days=40)), 39, 20))
    records += synthetic.code_burst(rng, ms(REVIEW_AT + timedelta(hours=2)), 60, 15_000, 5)
    records += synthetic.call_flood(ms(REVIEW_AT + timedelta(hours=20)), 8, 300_000, FLOODER)
    records += synthetic.late_night(
        ms(REVIEW_AT.replace(hour=23, minute=30) - timedelta(days=0)), 3, NIGHT_CALLER
    )
    return sorted(records, key=lambda r: r.at_ms)


def upload(user, case, *files, lang="en"):
    body = {"kind": "phone_export", "files": [SimpleUploadedFile(name, data) for name, data in files]}
    return as_user(user, lang).post(f"/api/cases/{case.pk}/evidence", body)


def run_worker():
    while deadlines_run_once(worker="test", now=NOW, limit=20, lease=timedelta(minutes=1)):
        pass


def test_an_uploaded_export_is_analysed_by_the_worker_and_the_report_is_logged_evidence(cast, case):
    # given: the buyer uploads sms.xml and calls.xml in one request
    records = export_records()
    response = upload(
        cast.bob,
        case,
        ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)),
        ("calls.xml", synthetic.as_bytes(synthetic.write_calls_xml, records)),
    )
    assert response.status_code == 201, response.content
    assert [e["content_type"] for e in response.json()] == ["text/xml", "text/xml"]
    report = ForensicReport.objects.get(case=case)  # one report for the two files
    assert report.status == "pending"
    assert as_user(cast.bob).get(f"/api/cases/{case.pk}/forensics").json()["status"] == "pending"

    # when: the worker runs
    run_worker()

    # then: one finished report, with the injected harassment found and correlated with the review
    report.refresh_from_db()
    assert report.status == "done"
    assert len(report.exports) == 2
    kinds = sorted((f["kind"], f["total"]) for f in report.findings)
    assert kinds == [("call_flood", 8), ("code_bombing", 60), ("late_night", 6)]
    assert report.suggested_tier == "serious"  # repeated late-night contact, 60 codes
    assert report.correlations[0]["anchor"] == "review"
    assert report.correlations[0]["delay_s"] == 2 * 3600
    # the report is itself evidence: its bytes are stored, hashed and queued for the log
    item = report.evidence
    assert (item.kind, item.side, item.content_type) == ("forensic_report", "agent", "application/json")
    with blob_open(item.blob) as fh:
        assert b'"code_bombing"' in fh.read()
    log_sequence_all(now=NOW)
    assert LogLeaf.objects.filter(ref=f"evidence:{item.pk}").exists()
    events = list(CaseEvent.objects.filter(case=case, kind__startswith="forensics").order_by("at", "id"))
    assert [e.kind for e in events] == ["forensics_requested", "forensics_reported"]
    assert events[1].data["sha256"] == item.sha256
    assert LogLeaf.objects.filter(ref=f"event:{events[1].pk}").exists()
    # what the alerts read
    found = report_findings(report)
    assert {f["kind"] for f in found} == {"code_bombing", "call_flood", "late_night"}
    assert all("records" not in f for f in found)
    # the buyer is told the export was read, and nobody else is
    from reviewshield.outbox.models import Notification

    told = Notification.objects.filter(kind="case.forensics_reported")
    assert [(n.recipient_id, n.case_id, n.params["findings"]) for n in told] == [(cast.bob.pk, case.pk, 3)]


def test_the_agent_reads_the_whole_report_with_its_chart_in_both_languages(cast, case):
    records = export_records()
    upload(cast.bob, case, ("calls.xml", synthetic.as_bytes(synthetic.write_calls_xml, records)))
    upload(cast.bob, case, ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)))
    run_worker()

    api = as_user(cast.erin).get(f"/api/cases/{case.pk}/forensics").json()
    assert api["status"] == "done"
    assert api["suggestion"]["tier"] == "serious"
    assert any(FLOODER in f["numbers"] for f in api["findings"])
    assert api["chart_svg"].startswith("<svg")

    page = as_user(cast.erin).get(f"/agent/cases/{case.pk}/").content.decode()
    assert "Phone-export forensics" in page
    assert "<svg" in page and "SMS and calls received per day (Beijing time)" in page
    assert "Suggested tier: serious" in page
    assert FLOODER in page
    page_zh = as_user(cast.erin, "zh-hans").get(f"/agent/cases/{case.pk}/").content.decode()
    assert "每天收到的短信和来电（北京时间）" in page_zh
    assert "验证码短信轰炸" in page_zh
    assert "来电（已拒接）" in page_zh  # the flooder's rejected calls, in the records behind the finding


def test_the_buyer_reads_the_summary_and_the_seller_nothing(cast, case):
    records = export_records()
    upload(cast.bob, case, ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)))
    buyer_page = as_user(cast.bob).get(f"/cases/{case.pk}/").content.decode()
    assert "Analysing the phone export" in buyer_page
    run_worker()

    buyer = as_user(cast.bob).get(f"/api/cases/{case.pk}/forensics").json()
    assert buyer["status"] == "done"
    assert any("verification-code SMS" in line for line in buyer["summary"])
    assert buyer["findings"] is None and buyer["chart_svg"] is None  # the agents' part
    assert buyer["suggestion"] is None and not any("Suggested tier" in line for line in buyer["summary"])
    assert "verification-code SMS" in as_user(cast.bob).get(f"/cases/{case.pk}/").content.decode()

    assert as_user(cast.carol).get(f"/api/cases/{case.pk}/forensics").status_code == 404  # an outsider
    seller = as_user(cast.alice)
    assert seller.get(f"/api/cases/{case.pk}/forensics").status_code == 403
    case_json = seller.get(f"/api/cases/{case.pk}").json()
    assert "forensic_report" not in {e["kind"] for e in case_json["evidence"]}
    events = seller.get(f"/api/cases/{case.pk}/events").json()
    assert not [e for e in events if e["kind"].startswith("forensics")]
    page = seller.get(f"/seller/cases/{case.pk}/").content.decode()
    for secret in (FLOODER, NIGHT_CALLER, "forensic", "Forensic", "13912340001"):
        assert secret not in page
    report = ForensicReport.objects.get(case=case)
    assert seller.get(f"/api/cases/{case.pk}/evidence/{report.evidence_id}/file").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "code", "en", "zh"),
    [
        (
            "sms.xml",
            b'<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY x SYSTEM "file:///etc/passwd">]><smses>&x;</smses>',
            "dtd_refused",
            "declares a DTD",
            "声明了 DTD",
        ),
        (
            "sms.xml",
            synthetic.as_bytes(
                synthetic.write_sms_xml, synthetic.code_burst(random.Random(1), ms(NOW), 30, 1000, 2)
            )[:-400],
            "truncated",
            "ends in the middle",
            "在中途结束",
        ),
        (
            "calls.csv",
            b"kind,at,number\nsms,1776258180000,10690000\n",
            "csv_missing_column",
            "direction",
            "direction",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_a_clear_sentence_not_an_exception(
    cast, case, name, data, code, en, zh
):
    assert upload(cast.bob, case, (name, data)).status_code == 201
    run_worker()

    report = ForensicReport.objects.get(case=case)
    assert (report.status, report.error_code) == ("failed", code)
    assert CaseEvent.objects.filter(case=case, kind="forensics_failed").exists()
    english = as_user(cast.erin).get(f"/api/cases/{case.pk}/forensics").json()["error"]["message"]
    chinese = as_user(cast.bob, "zh-hans").get(f"/api/cases/{case.pk}/forensics").json()["error"]["message"]
    assert en in english and name in english
    assert zh in chinese
    page = as_user(cast.erin).get(f"/agent/cases/{case.pk}/").content.decode()
    assert "The phone export could not be read." in page


def test_a_csv_export_is_accepted_and_read(cast, case):
    records = export_records()
    out = io.StringIO()
    synthetic.write_csv(out, records)
    response = upload(cast.bob, case, ("phone.csv", out.getvalue().encode()))
    assert response.status_code == 201, response.content
    run_worker()
    report = ForensicReport.objects.get(case=case)
    assert report.status == "done"
    assert sorted(f["kind"] for f in report.findings) == ["call_flood", "code_bombing", "late_night"]


def test_only_the_buyers_phone_export_is_analysed(cast, case):
    # A seller may upload the kind too (the form offers it), but the analysis is of the buyer's phone.
    records = export_records()
    upload(cast.alice, case, ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)))
    assert CaseEvidence.objects.filter(case=case, kind="phone_export").count() == 1
    assert not ForensicReport.objects.filter(case=case).exists()


def test_findings_raise_an_alert_in_the_agents_queue_linked_to_the_case(cast, case):
    from reviewshield.detection.models import Alert

    records = export_records()
    upload(cast.bob, case, ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, records)))
    assert Alert.objects.count() == 0  # not before the analysis
    run_worker()
    alert = Alert.objects.get()
    assert (alert.source, alert.case_id, alert.order_id, alert.buyer_id) == (
        "forensics",
        case.pk,
        case.order_id,
        cast.bob.pk,
    )
    assert alert.review is not None and alert.review.rating == "bad"
    assert set(alert.categories) == {"sms_bombing", "late_night"}
    queue = as_user(cast.erin, "zh-hans").get("/agent/alerts/?source=forensics").content.decode()
    assert alert.reference in queue and "手机记录取证" in queue
    page = as_user(cast.erin, "zh-hans").get(f"/agent/alerts/{alert.pk}/").content.decode()
    assert "验证码短信轰炸" in page and case.reference in page
    assert "询问买家" not in page  # the complaint exists already: nothing to ask the buyer
    assert "商家的消息" not in page  # no chat messages behind a forensic alert: no empty section
    assert as_user(cast.alice).get(f"/agent/alerts/{alert.pk}/").status_code == 403


def test_an_export_without_anything_unusual_raises_no_alert(cast, case):
    from reviewshield.detection.models import Alert

    rng = random.Random(5)
    quiet = sorted(synthetic.background(rng, ms(NOW - timedelta(days=40)), 39, 20), key=lambda r: r.at_ms)
    upload(cast.bob, case, ("sms.xml", synthetic.as_bytes(synthetic.write_sms_xml, quiet)))
    run_worker()
    assert ForensicReport.objects.get(case=case).status == "done"
    assert Alert.objects.count() == 0
