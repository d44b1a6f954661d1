"""The Django admin works for policy owners: every model's list and add/change pages load."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_every_admin_list_page_loads_for_an_admin(cast):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(cast.admin)
    assert client.get(reverse("admin:index")).status_code == 200
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_sellers_and_buyers_are_kept_out_of_the_admin(cast):
    for user in (cast.alice, cast.bob):
        client = Client()
        client.force_login(user)
        assert client.get(reverse("admin:index")).status_code == 302
