"""One length limit per free text (`freetext.LIMITS`): enforced by the service — page and API alike,
a sentence in the person's language, nothing cut — and shown on the form with `maxlength` and a
counter that `counter.js` keeps live."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reviewshield.cases import services
from reviewshield.cases.models import CaseStatus
from reviewshield.errors import ValidationFailed
from reviewshield.extortion import services as extortion
from reviewshield.freetext import LIMITS
from reviewshield.sanctions import appeals
from tests.cases.test_api import client_for, post
from tests.conftest import as_user, local
from tests.extortion.conftest import file as extortion_file
from tests.samples import screenshot

TS = local(2026, 11, 10, 10, 0)
NOW = local(2026, 11, 12, 9, 0)
TOO_LONG = {"en": "at most", "zh-hans": "最多只能"}


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    return services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=NOW - timedelta(hours=1),
        narrative="N-1", now=NOW,
    )  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_sellers_answer_over_its_limit_is_refused_on_the_page_and_in_the_api(cast, case, lang):
    huge = "x" * 132_000  # what was accepted before
    page = as_user(cast.alice, lang).post(
        f"/seller/cases/{case.pk}/answer/", {"kind": "defence", "text": huge}, follow=True
    )
    shown = page.content.decode()
    assert TOO_LONG[lang] in shown and "132000" in shown and str(LIMITS["answer"]) in shown
    api = post(
        client_for(cast.alice, lang), f"/api/cases/{case.pk}/answer", {"kind": "defence", "text": huge}
    )
    assert api.status_code == 422 and TOO_LONG[lang] in api.json()["message"] + str(api.json()["details"])
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE and case.response_text == ""
    # exactly at the limit, with Windows line breaks a browser sends (each counts one): accepted whole
    text = ("y" * 98 + "\r\n") * (LIMITS["answer"] // 99) + "z"
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text=text, now=NOW)
    case.refresh_from_db()
    assert case.response_text == text.replace("\r\n", "\n").strip()


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_narrative_over_its_limit_is_refused_never_cut(cast, time_machine, lang):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=TS)
    res = as_user(cast.bob, lang).post(
        f"/orders/{order.pk}/complain/",
        {
            "harassment_types": ["other"],
            "occurred_at": "2026-11-12T06:00",
            "narrative": "n" * (LIMITS["narrative"] + 1),
        },
    )
    assert res.status_code == 422 and TOO_LONG[lang] in res.content.decode()
    assert not order.cases.exists()


def test_every_free_text_is_checked_by_its_service_against_its_one_limit(cast, case):
    """Texts that were cut silently (a withdrawal's reason at 1,000, an evidence description at 500)
    or had no limit at all (the answer, decisions, appeals) are refused whole, nothing written."""
    over = {text: "w" * (n + 1) for text, n in LIMITS.items()}
    attempts = {
        "withdrawal_reason": lambda: services.case_withdraw(
            case_id=case.pk, buyer=cast.bob, reason=over["withdrawal_reason"], now=NOW
        ),
        "evidence_description": lambda: services.case_evidence_add(
            case_id=case.pk,
            user=cast.bob,
            files=[screenshot(description=over["evidence_description"])],
            now=NOW,
        ),
        "answer": lambda: services.case_answer(
            case_id=case.pk, seller=cast.alice, kind="defence", text=over["answer"], now=NOW
        ),
        "assisted_reason": lambda: services.assisted_link_issue(
            agent=cast.erin, order_id=case.order_id, reason=over["assisted_reason"], now=NOW
        ),
    }
    for text, attempt in attempts.items():
        with pytest.raises(ValidationFailed) as refused:
            attempt()
        assert str(LIMITS[text]) in " ".join(map(str, refused.value.details.values())), text
    case.refresh_from_db()
    assert case.status == CaseStatus.AWAITING_RESPONSE and case.evidence.count() == 0
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="D-1", now=NOW)
    for outcome_text in ("decision_reasons",):
        with pytest.raises(ValidationFailed):
            services.case_decide(
                case_id=case.pk, agent=cast.erin, outcome="reject", reasons=over[outcome_text], now=NOW
            )
    services.case_decide(case_id=case.pk, agent=cast.erin, outcome="reject", reasons="R-1", now=NOW)
    with pytest.raises(ValidationFailed):
        appeals.appeal_file(case_id=case.pk, user=cast.bob, reasons=over["appeal_reasons"], now=NOW)
    assert not case.appeals.exists()
    report = extortion_file(cast)
    with pytest.raises(ValidationFailed):
        extortion.report_withdraw(
            report_id=report.pk, seller=cast.alice, reason=over["withdrawal_reason"], now=NOW
        )


@pytest.mark.parametrize(
    ("lang", "words"), [("en", "At most 5000 characters."), ("zh-hans", "最多 5000 字。")]
)
def test_forms_show_the_limit_with_a_counter(cast, case, lang, words):
    page = as_user(cast.alice, lang).get(f"/seller/cases/{case.pk}/").content.decode()
    assert f'maxlength="{LIMITS["answer"]}" data-counter="answer-text-count"' in page
    assert 'id="answer-text-count"' in page and words in page and "counter.js" in page
    complain = (
        as_user(cast.bob, lang)
        .get(f"/orders/{cast.order(trade_success_at=TS).pk}/complain/")
        .content.decode()
    )
    assert f'maxlength="{LIMITS["narrative"]}"' in complain and 'id="id_narrative-count"' in complain
    buyer = as_user(cast.bob, lang).get(f"/cases/{case.pk}/").content.decode()
    assert f'maxlength="{LIMITS["withdrawal_reason"]}"' in buyer


def test_the_counter_script_is_a_static_file_the_pages_load():
    script = Path(__file__).parents[2] / "src/reviewshield/web/static/web/counter.js"
    assert "data-counter" in script.read_text() and "{count}" in script.read_text()
