"""Every portal page at 360 px: nothing wider than the screen, every control named, keyboard reachable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from reviewshield.cases import services
from reviewshield.sanctions import appeals
from tests.samples import screenshot
from tests.sanctions.conftest import decide

CHECK = """() => {
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = el => (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || el.getAttribute('title');
  const problems = [];
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  if (document.documentElement.scrollWidth > window.innerWidth)
    problems.push('wider than the screen: ' + document.documentElement.scrollWidth);
  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(el => {
    if (visible(el) && !named(el)) problems.push('unlabelled ' + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll('a, button').forEach(el => {
    if (visible(el) && !(el.innerText.trim() || el.getAttribute('aria-label')))
      problems.push('nameless ' + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll('[tabindex]').forEach(el => {
    if (parseInt(el.getAttribute('tabindex'), 10) > 0) problems.push('tabindex > 0 ' + el.outerHTML.slice(0, 80));
  });
  document.querySelectorAll('img').forEach(el => { if (!el.hasAttribute('alt')) problems.push('img without alt'); });
  return problems;
}"""


def tab_until(tab, selector: str, limit: int = 120) -> bool:
    """Press Tab until the element matching `selector` has the keyboard focus."""
    tab.locator("body").focus()
    for _ in range(limit):
        tab.keyboard.press("Tab")
        if tab.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return True
    return False


@pytest.mark.django_db(transaction=True)
def test_every_portal_page_fits_a_360px_phone_and_is_labelled(cast, open_as, lang):
    now = timezone.now()
    order = cast.order(trade_success_at=now - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults", "phone_sms_bombing"],
        occurred_at=now,
        narrative="A long narrative " * 30,
        files=[screenshot(name="screenshot-" * 8 + ".png")],
        now=now,
    )
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=now)
    fresh = cast.order(trade_success_at=now - timedelta(days=1))
    upheld = decide(cast, "serious", now)  # a penalty, compensation due, and an appeal waiting
    appeal = appeals.appeal_file(case_id=upheld.pk, user=cast.alice, reasons="Not us.", now=now)
    rejected = decide(cast, None, now, outcome="reject")  # the buyer's appeal form
    pages = {
        "bob": [
            "/",
            "/orders/",
            f"/orders/{fresh.pk}/complain/",
            "/cases/",
            f"/cases/{case.pk}/",
            f"/cases/{rejected.pk}/",
        ],
        "alice": ["/seller/cases/", f"/seller/cases/{case.pk}/", f"/seller/shops/{cast.shop.pk}/sanctions/"],
        "erin": ["/agent/", f"/agent/cases/{case.pk}/", "/agent/assisted/?q=bob", "/agent/compensations/"],
        "frank": ["/agent/appeals/", f"/agent/appeals/{appeal.pk}/"],
    }
    for who, urls in pages.items():
        tab = open_as(who)
        tab.set_viewport_size({"width": 360, "height": 780})
        for url in urls:
            tab.goto(tab.base + url)
            assert tab.evaluate(CHECK) == [], f"{who} {url}"
        tab.shot(f"{who}-360")

    # The main action of each form can be reached with the keyboard alone.
    buyer = open_as("bob", f"/orders/{fresh.pk}/complain/")
    assert tab_until(buyer, "form.card button[type=submit]")
    agent = open_as("erin", f"/agent/cases/{case.pk}/")
    assert tab_until(agent, "#reasons")
    agent.keyboard.type("Typed from the keyboard.")
    assert tab_until(agent, "#decide button[type=submit]")
