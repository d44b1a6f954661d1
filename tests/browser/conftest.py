"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against a live server.

Every journey runs once per language; screenshots of each step go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("REVIEWSHIELD_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make to set up
# data are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (make browser)")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture(params=["zh-hans", "en"])
def lang(request: Any) -> str:
    return str(request.param)


LOGIN_LABEL = {"zh-hans": "用户名", "en": "Username"}


def _tab(
    browser: Any, lang: str, live_server: Any, request: Any, steps: dict[str, int], who: str = ""
) -> Any:
    """A new phone-sized browser context in `lang`, with `shot` and `follow` helpers on its page."""
    locale = "zh-CN" if lang == "zh-hans" else "en-US"
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.base = live_server.url  # type: ignore[attr-defined]
    # Whatever the Content-Security-Policy refused on any page of any journey fails that journey.
    tab.csp_violations = []  # type: ignore[attr-defined]
    tab.on(
        "console",
        lambda msg: tab.csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    def shot(name: str) -> Path:
        steps["n"] += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
        path = SHOTS / f"{slug}-{steps['n']:02d}-{who + '-' if who else ''}{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    def follow(locator: Any) -> None:
        """Click something that loads a new page and wait until that page has loaded.

        Reading the page right after a bare click can read the old page, or an empty one while
        the new one is on its way.
        """
        with tab.expect_navigation():
            locator.click()

    def login(username: str, password: str, next_path: str = "/") -> None:
        tab.goto(f"{tab.base}/login/?next={next_path}")
        tab.get_by_label(LOGIN_LABEL[lang]).fill(username)
        tab.locator("#id_password").fill(password)
        follow(tab.locator("form.card button[type=submit]"))

    tab.shot = shot  # type: ignore[attr-defined]
    tab.follow = follow  # type: ignore[attr-defined]
    tab.login = login  # type: ignore[attr-defined]
    return tab


@pytest.fixture
def steps() -> dict[str, int]:
    return {"n": 0}


@pytest.fixture
def page(browser: Any, lang: str, live_server: Any, request: Any, steps: dict[str, int]) -> Iterator[Any]:
    tab = _tab(browser, lang, live_server, request, steps)
    yield tab
    tab.context.close()
    assert tab.csp_violations == []


@pytest.fixture
def open_as(browser: Any, lang: str, live_server: Any, request: Any, steps: dict[str, int]) -> Iterator[Any]:
    """`open_as("alice")`: a separate browser (own cookies) logged in as that person, on `next_path`."""
    tabs: list[Any] = []

    def open_as(username: str, next_path: str = "/") -> Any:
        tab = _tab(browser, lang, live_server, request, steps, who=username)
        tabs.append(tab)
        tab.login(username, "pw-" + username, next_path)
        return tab

    yield open_as
    for tab in tabs:
        tab.context.close()
    assert [v for tab in tabs for v in tab.csp_violations] == []
