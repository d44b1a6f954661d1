"""The front door and login, in both languages; the first visit follows the browser."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        ("zh-hans", "如果您正遭受骚扰", "If you are being harassed"),
        ("en", "If you are being harassed", "如果您正遭受骚扰"),
    ],
)
@pytest.mark.django_db
def test_home_follows_the_browser_language(lang, expected, absent):
    page = Client(HTTP_ACCEPT_LANGUAGE=lang).get("/").content.decode()
    assert expected in page and absent not in page


@pytest.mark.django_db
def test_language_switch_sticks(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "Log in" in client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()


def test_login_keeps_the_username_and_says_why(cast, client):
    res = client.post("/login/", {"username": "bob", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="en")
    page = res.content.decode()
    assert res.status_code == 200 and 'value="bob"' in page and "correct username and password" in page
    res = client.post("/login/", {"username": "bob", "password": "pw-bob"})
    assert res.status_code == 302
