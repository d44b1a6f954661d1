"""A seller reads a complaint with the buyer's data masked however the buyer wrote it: the API, the
case page, the clean copy of a text statement, the agent's decision reasons and the appeals."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvidence
from reviewshield.sanctions import appeals
from tests.conftest import as_user, local
from tests.privacy.renderings import ADDRESS, NARRATIVE, RENDERINGS, SIGNED, assert_nothing_of_bob

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    cast.bob.address = ADDRESS
    cast.bob.save()
    order = cast.order(trade_success_at=TS)
    return services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["personal_data_leaked"],
        occurred_at=NOW - timedelta(hours=2),
        narrative=NARRATIVE,
        now=NOW,
    )


def test_the_sellers_api_answer_shows_no_rendering_of_the_buyers_data(cast, case):
    body = as_user(cast.alice).get(f"/api/cases/{case.pk}").json()
    assert_nothing_of_bob(json.dumps(body, ensure_ascii=False))
    assert "卖家天天打电话骚扰我" in body["narrative"]
    # the buyer and the agent read what the buyer wrote
    for reader in (cast.bob, cast.erin):
        assert as_user(reader).get(f"/api/cases/{case.pk}").json()["narrative"] == NARRATIVE


def test_the_sellers_case_page_shows_no_rendering_of_the_buyers_data(cast, case):
    page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()
    assert_nothing_of_bob(page)
    assert "卖家天天打电话骚扰我" in page


def test_the_clean_copy_of_a_text_statement_shows_no_rendering_of_the_buyers_data(cast, case):
    # The statement names bob as he signed his complaint, without saying it is his name.
    text = "\n".join([f"{SIGNED}的手机被人公开了", *RENDERINGS, "他说要来找我"])
    res = as_user(cast.bob).post(
        f"/api/cases/{case.pk}/evidence",
        {"kind": "statement", "files": [SimpleUploadedFile("statement.txt", text.encode())]},
    )
    assert res.status_code == 201, res.content
    item = CaseEvidence.objects.get()
    url = f"/api/cases/{case.pk}/evidence/{item.pk}/file"
    seen = b"".join(as_user(cast.alice).get(url).streaming_content).decode()
    assert_nothing_of_bob(seen)
    assert "他说要来找我" in seen
    assert b"".join(as_user(cast.erin).get(url).streaming_content).decode() == text


def test_an_agent_quoting_the_buyer_in_the_decision_reaches_the_seller_masked(cast, case):
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="Not us.", now=NOW)
    services.case_decide(
        case_id=case.pk,
        agent=cast.erin,
        outcome="uphold",
        tier="ordinary",
        reasons="The seller called Wang Xiaoming on 138.0013.8000 and wrote to 3号楼 1202室.",
        now=NOW + timedelta(hours=1),
    )
    api = as_user(cast.alice).get(f"/api/cases/{case.pk}").json()["decision"]["reasons"]
    page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()
    for shown in (api, page):
        assert_nothing_of_bob(shown)
    assert "The seller called" in api and "The seller called" in page


def test_the_buyers_appeal_and_its_decision_reach_the_seller_masked(cast, case):
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="Not us.", now=NOW)
    services.case_decide(
        case_id=case.pk,
        agent=cast.erin,
        outcome="reject",
        reasons="Not enough.",
        now=NOW + timedelta(hours=1),
    )
    appeal = appeals.appeal_file(
        case_id=case.pk, user=cast.bob, reasons=NARRATIVE, now=NOW + timedelta(hours=2)
    )
    appeals.appeal_decide(
        appeal_id=appeal.pk,
        senior=cast.frank,
        outcome="stands",
        reasons="Wang Xiaoming's number 138.0013.8000 was not called.",
        now=NOW + timedelta(hours=3),
    )
    api = as_user(cast.alice).get(f"/api/cases/{case.pk}/appeals").json()
    page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()
    assert_nothing_of_bob(json.dumps(api, ensure_ascii=False))
    assert_nothing_of_bob(page)
    assert "was not called" in api[0]["decision_reasons"] and "was not called" in page
    # the buyer reads their own words
    assert as_user(cast.bob).get(f"/api/cases/{case.pk}/appeals").json()[0]["reasons"] == NARRATIVE
