"""Login lockout (django-axes): a username is locked from one address after the production number of
wrong passwords, says so in the person's language, and opens again after the cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from reviewshield.limits.models import LimitHit
from tests.conftest import local

NOW = local(2026, 11, 12, 9, 0)


@pytest.fixture
def at_now(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def login(username, password, *, address="10.0.0.1", lang="en", url="/login/"):
    client = Client(REMOTE_ADDR=address, HTTP_ACCEPT_LANGUAGE=lang)
    return client, client.post(url, {"username": username, "password": password})


def wrong_passwords(username, times, **kw):
    return [login(username, f"wrong-{i}", **kw)[1] for i in range(times)]


def test_production_values_lock_after_five_wrong_passwords_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "Too many wrong passwords for this account from your address"),
        ("zh-hans", "您的地址对此账号输错密码次数过多"),
    ],
)
def test_wrong_passwords_lock_the_username_from_that_address(cast, at_now, lang, words):
    limit = settings.AXES_FAILURE_LIMIT
    answers = wrong_passwords("bob", limit, lang=lang)

    # the first ones are ordinary refusals; the one that reaches the limit locks
    assert [r.status_code for r in answers] == [200] * (limit - 1) + [429]
    # now even the right password is refused, with the reason and the wait in the person's language
    client, locked = login("bob", "pw-bob", lang=lang)
    page = locked.content.decode()
    assert locked.status_code == 429 and words in page
    assert locked["Retry-After"] == str(15 * 60)
    assert "15" in page and 'name="username"' in page
    assert "_auth_user_id" not in client.session
    # kept for the admin beside axes' own records
    hit = LimitHit.objects.get(scope="login")
    assert hit.actor == "login:bob@10.0.0.1" and hit.refused == 2 and hit.allowed == limit


def test_another_user_and_another_address_are_not_locked(cast, at_now):
    wrong_passwords("bob", settings.AXES_FAILURE_LIMIT)

    client, carol = login("carol", "pw-carol")
    assert carol.status_code == 302 and client.session["_auth_user_id"] == str(cast.carol.pk)
    client, elsewhere = login("bob", "pw-bob", address="10.0.0.2")
    assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(cast.bob.pk)


def test_the_lock_lifts_after_the_cool_off_and_knocking_meanwhile_does_not_extend_it(cast, at_now):
    wrong_passwords("bob", settings.AXES_FAILURE_LIMIT)
    at_now.move_to(NOW + timedelta(minutes=10), tick=False)
    _client, still = login("bob", "pw-bob")
    assert still.status_code == 429 and still["Retry-After"] == str(5 * 60)
    assert "5 minutes" in still.content.decode()

    at_now.move_to(NOW + timedelta(minutes=15, seconds=1), tick=False)
    client, opened = login("bob", "pw-bob")
    assert opened.status_code == 302 and client.session["_auth_user_id"] == str(cast.bob.pk)


def test_the_admin_login_locks_too(cast, at_now):
    answers = wrong_passwords("root", settings.AXES_FAILURE_LIMIT, url="/admin/login/")
    assert answers[-1].status_code == 429
    _client, locked = login("root", "pw-root", url="/admin/login/")
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()


def test_a_right_password_before_the_limit_starts_the_count_again(cast, at_now):
    wrong_passwords("bob", settings.AXES_FAILURE_LIMIT - 1)
    assert login("bob", "pw-bob")[1].status_code == 302
    answers = wrong_passwords("bob", settings.AXES_FAILURE_LIMIT - 1)
    assert all(r.status_code == 200 for r in answers)


def test_the_test_clients_login_still_works_and_a_login_without_a_request_is_not_counted(cast, at_now):
    assert Client().login(username="bob", password="pw-bob") is True
    assert Client().login(username="bob", password="wrong") is False
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()
