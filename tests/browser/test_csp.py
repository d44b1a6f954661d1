"""Every page under the Content-Security-Policy in real Chromium: not one violation.

The pages are those of tests/web/test_every_page.py (every portal page, as the person it is for),
plus the Django admin and the API's docs (Swagger UI). Chromium reports each thing the policy
refused — an inline script or handler, a <style> block, a file from another site — on the console
and as a `securitypolicyviolation` event; both are collected and any one fails the test.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web.test_every_page import PAGE_NAMES, scene  # noqa: F401  (scene is the fixture)

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
});
"""


def signed_in(browser, live_server, user):
    """A browser of its own with `user`'s session (the scene's clock is stopped: no login form)."""
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies["sessionid"].value
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": live_server.url}])
    context.add_init_script(LISTEN)
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.console_csp = []
    tab.on(
        "console",
        lambda msg: tab.console_csp.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return tab


def violations(tab) -> list[str]:
    tab.wait_for_load_state("load")
    return [*tab.console_csp, *tab.evaluate("window.__csp || []")]


@pytest.mark.django_db(transaction=True)
def test_no_portal_page_breaks_the_policy(scene, browser, live_server, cast, settings):  # noqa: F811
    settings.REVIEWSHIELD_QUEUE_REFRESH_SECONDS = 1  # so htmx's refresh of the queue runs here too
    tabs: dict[object, object] = {}
    found: dict[str, list[str]] = {}
    pages = [scene.pages[name] for name in PAGE_NAMES if not name.endswith("-live")]
    extra = [
        (cast.admin, "/admin/"),
        (cast.admin, "/admin/cases/case/"),
        (cast.admin, "/admin/accounts/user/add/"),
        (cast.admin, f"/admin/accounts/user/{cast.bob.pk}/change/"),
        (None, "/admin/login/"),
        (None, "/api/docs"),
        (cast.bob, "/api/docs"),
    ]
    try:
        for who, url in [*pages, *extra]:
            tab = tabs.get(who) or tabs.setdefault(who, signed_in(browser, live_server, who))
            tab.console_csp.clear()
            tab.goto(live_server.url + url)
            if url == "/api/docs":  # Swagger UI builds the page from the schema after loading
                tab.wait_for_selector(".opblock", timeout=90_000)  # the schema takes seconds to build
            elif url == "/agent/":  # the queue refreshes itself through htmx: wait for a refresh
                with tab.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
                    pass
                tab.wait_for_timeout(200)  # swapped in
            problems = violations(tab)
            if problems:
                found[url] = problems
    finally:
        for tab in tabs.values():
            tab.context.close()
    assert found == {}


@pytest.mark.django_db(transaction=True)
def test_the_check_itself_sees_a_violation(browser, live_server):
    """The listeners above do catch what the policy refuses (so an empty result means something)."""
    tab = signed_in(browser, live_server, None)
    try:
        tab.goto(live_server.url + "/")
        assert violations(tab) == []
        tab.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
                     " document.body.append(s); }")  # fmt: skip
        tab.wait_for_function("window.__csp.length > 0")
        assert tab.evaluate("window.x") is None  # the inline script did not run
        assert any("script-src" in v for v in violations(tab))
    finally:
        tab.context.close()
