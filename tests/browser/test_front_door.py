"""A person opens ReviewShield on a phone, reads it in their language, and logs in."""

from __future__ import annotations

import pytest

TEXT = {
    "zh-hans": {"safety": "如果您正遭受骚扰", "login": "登录", "error": "正确的", "logout": "退出登录"},
    "en": {
        "safety": "If you are being harassed",
        "login": "Log in",
        "error": "correct username",
        "logout": "Log out",
    },
}


@pytest.mark.django_db(transaction=True)
def test_visitor_reads_the_front_door_and_logs_in(cast, page, lang):
    t = TEXT[lang]
    page.goto(page.base + "/")
    assert t["safety"] in page.content()
    page.shot("home")
    page.follow(page.get_by_role("link", name=t["login"]))
    page.get_by_label("用户名" if lang == "zh-hans" else "Username").fill("bob")
    page.locator("#id_password").fill("wrong password")
    page.follow(page.locator("form.card button[type=submit]"))
    assert t["error"] in page.content()
    assert page.locator("#id_username").input_value() == "bob"  # what the person typed is kept
    page.shot("login-refused")
    page.locator("#id_password").fill("pw-bob")
    page.follow(page.locator("form.card button[type=submit]"))
    page.wait_for_url(page.base + "/")
    assert t["logout"] in page.content()
    page.shot("logged-in")


@pytest.mark.django_db(transaction=True)
def test_language_switch_in_the_header(page, lang):
    page.goto(page.base + "/")
    other = "en" if lang == "zh-hans" else "zh-hans"
    page.select_option("#lang-switch", other)
    page.wait_for_load_state()
    expected = TEXT[other]["safety"]
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=expected)
    page.shot("switched")
