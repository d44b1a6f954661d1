"""Error pages say what happened in the visitor's language."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error


@pytest.mark.parametrize(("lang", "text"), [("zh-hans", "页面不存在"), ("en", "Page not found")])
@pytest.mark.django_db
def test_404_in_both_languages(settings, lang, text):
    settings.DEBUG = False
    res = Client(HTTP_ACCEPT_LANGUAGE=lang).get("/no-such-page/")
    assert res.status_code == 404 and text in res.content.decode()


@pytest.mark.parametrize(("lang", "text"), [("zh-hans", "出错了"), ("en", "Something went wrong")])
def test_500_in_both_languages(lang, text):
    with translation.override(lang):
        res = server_error(RequestFactory().get("/"))
    assert res.status_code == 500 and text in res.content.decode()
