"""Hardening (issue 21 §6): a Content-Security-Policy on every page, no caching of personal data,
HTTPS-only cookies and HSTS by one production setting, an owner-only data folder, and
`reviewshield check --deploy` clean under the documented production settings.

The browser side of the policy (no violation on any page) is tests/browser/test_csp.py.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client

from reviewshield.accounts.models import ApiToken
from tests.conftest import as_user, local
from tests.samples import statement

SRC = Path(__file__).resolve().parents[1] / "src" / "reviewshield"
REVIEWSHIELD = Path(sys.executable).with_name("reviewshield")


def production_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The documented production environment (README, "Running in production"), in a fresh data folder."""
    env = {
        k: v
        for k, v in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own (Playwright beside Django's live
        # server in one process); production never sets it, and check --deploy rightly objects.
        if not k.startswith(("REVIEWSHIELD_", "DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        REVIEWSHIELD_DATA_DIR=str(data_dir),
        REVIEWSHIELD_HTTPS="1",
        REVIEWSHIELD_ALLOWED_HOSTS="rs.example.org",
        SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_SETTINGS_MODULE="reviewshield.settings",
    )
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, check=False)


# --- Content-Security-Policy ----------------------------------------------------------------------


def _directives(header: str) -> dict[str, list[str]]:
    parts = (p.strip().split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


@pytest.mark.parametrize("url", ["/", "/login/", "/blacklist/", "/api/docs"])
def test_every_page_carries_a_policy_that_runs_no_inline_script(db, url):
    res = Client().get(url)
    assert res.status_code == 200
    policy = _directives(res["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert policy["style-src"] == ["'self'"]  # no <style> blocks
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def test_signed_in_portal_pages_carry_the_policy(cast):
    for user, url in [(cast.bob, "/cases/"), (cast.alice, "/seller/cases/"), (cast.erin, "/agent/"),
                      (cast.admin, "/admin/")]:  # fmt: skip
        res = as_user(user).get(url)
        assert res.status_code == 200, url
        assert "script-src 'self'" in res["Content-Security-Policy"], url


# Inline code the policy would refuse: a <script> without src, an on* handler, a javascript: URL,
# a <style> block.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:|<style[\s>]", re.I)


def test_no_template_has_inline_script_handlers_or_style_blocks():
    found = []
    for template in SRC.rglob("templates/**/*.html"):
        for n, line in enumerate(template.read_text().splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{template.relative_to(SRC)}:{n}: {line.strip()}")
    assert found == []


def test_the_api_docs_load_swagger_from_this_site_not_a_cdn(db):
    page = Client().get("/api/docs").content.decode()
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/static/") for s in sources), sources
    for source in sources:  # and they are really there (served by WhiteNoise)
        assert Client().get(source).status_code == 200, source


def test_an_evidence_download_keeps_its_own_sandbox_policy(cast, time_machine):
    from reviewshield.cases import services

    now = local(2026, 11, 12, 9, 0)
    time_machine.move_to(now, tick=False)
    order = cast.order(trade_success_at=local(2026, 11, 10, 10, 0))
    case = services.case_file(buyer=cast.bob, order_id=order.pk, harassment_types=["other"],
                              occurred_at=now, narrative="N", files=[statement()], now=now)  # fmt: skip
    res = as_user(cast.erin).get(f"/agent/evidence/{case.evidence.get().pk}/")
    assert res.status_code == 200
    assert res["Content-Security-Policy"] == "sandbox; default-src 'none'; img-src 'self'"


# --- Cache-Control ---------------------------------------------------------------------------------


def test_signed_in_pages_and_api_answers_are_never_cached(cast):
    for user, url in [(cast.bob, "/cases/"), (cast.bob, "/api/cases"), (cast.alice, "/seller/cases/"),
                      (cast.erin, "/agent/"), (cast.admin, "/admin/"), (cast.bob, "/blacklist/")]:  # fmt: skip
        res = as_user(user).get(url)
        assert res.status_code == 200, url
        assert res["Cache-Control"] == "private, no-store", url


def test_api_answers_to_a_token_are_never_cached_even_refusals(cast):
    _, raw = ApiToken.issue(user=cast.admin, name="sync")
    res = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/public/blacklist")
    assert res.status_code == 200 and res["Cache-Control"] == "private, no-store"
    refused = Client(HTTP_AUTHORIZATION="Bearer rs_wrong").get("/api/cases")
    assert refused.status_code == 401 and refused["Cache-Control"] == "private, no-store"


def test_public_pages_for_anonymous_visitors_stay_cacheable(db):
    for url in ("/blacklist/", "/warnings/", "/api/public/blacklist"):
        res = Client().get(url)
        assert res.status_code == 200
        assert "no-store" not in res.get("Cache-Control", ""), url


# --- HTTPS, the data folder and the deploy check (each in a fresh process and data folder) -----------


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """A data folder set up as production would: `migrate`, then the log's key and an evidence file.

    Returns the folder and the modes seen while SQLite's -wal and -shm files were open. Holiday
    overrides stand in for next year's calendar when it is not published yet, as an admin would add
    them: otherwise `check --deploy` rightly warns about that too (policystore.W001).
    """
    data_dir = tmp_path_factory.mktemp("prod") / "data"  # does not exist yet: ReviewShield creates it
    env = production_env(data_dir)
    env.pop("SECRET_KEY")  # the generated one: its file must be owner-only too
    migrated = run([str(REVIEWSHIELD), "migrate", "--noinput"], env)
    assert migrated.returncode == 0, migrated.stderr
    script = textwrap.dedent(
        """
        import datetime, json, os, stat
        from django.core.files.base import ContentFile
        from django.core.files.storage import storages
        from django.db import connection
        from reviewshield.evidence.keys import signing_key
        from reviewshield.policystore.models import HolidayOverride
        from reviewshield.policystore.services import provisional_years
        signing_key()
        # What `check --deploy` asks an admin to do when next year's official calendar is not out yet
        # (policystore.W001): New Year's Day is a holiday every year.
        for year in provisional_years(datetime.date.today()):
            HolidayOverride.objects.create(date=datetime.date(year, 1, 1), is_working_day=False, note="New Year")
        storages["evidence"].save("blobs/ab/cd/abcd", ContentFile(b"evidence"))
        with connection.cursor() as c:
            c.execute("CREATE TABLE IF NOT EXISTS t (x)")
            c.execute("INSERT INTO t VALUES (1)")
            name = connection.settings_dict["NAME"]
            print(json.dumps({s: stat.S_IMODE(os.stat(name + s).st_mode) for s in ("-wal", "-shm")}))
        """
    )
    shell = run([str(REVIEWSHIELD), "shell", "-c", script], env)
    assert shell.returncode == 0, shell.stderr
    return data_dir, json.loads(shell.stdout.strip().splitlines()[-1])


def test_the_data_folder_database_and_keys_are_created_owner_only(production):
    data_dir, wal_modes = production
    modes = {p.relative_to(data_dir).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in [data_dir, *data_dir.rglob("*")]}  # fmt: skip
    for name in ("reviewshield.sqlite3", "secret_key", "log-ed25519.key", "evidence/blobs/ab/cd/abcd"):
        assert modes[name] == 0o600, (name, oct(modes[name]))
    for name in (".", "evidence", "evidence/blobs", "evidence/blobs/ab/cd", "uploads"):
        assert modes[name] == 0o700, (name, oct(modes[name]))
    assert wal_modes == {"-wal": 0o600, "-shm": 0o600}
    # and nothing anywhere in the folder that others may read
    assert {n: oct(m) for n, m in modes.items() if m & 0o077} == {}


def test_check_deploy_is_clean_under_the_documented_production_settings(production):
    data_dir, _ = production
    res = run([str(REVIEWSHIELD), "check", "--deploy", "--fail-level", "WARNING"], production_env(data_dir))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "System check identified no issues (0 silenced)." in res.stdout


def test_check_deploy_names_a_database_others_can_read(production, tmp_path):
    data_dir, _ = production
    db = data_dir / "reviewshield.sqlite3"
    db.chmod(0o644)  # as every installation before this change created it
    try:
        res = run([str(REVIEWSHIELD), "check", "--deploy"], production_env(data_dir))
    finally:
        db.chmod(0o600)
    assert "reviewshield.W001" in res.stderr and str(db) in res.stderr


def test_check_deploy_without_https_names_what_is_missing(production):
    data_dir, _ = production
    res = run([str(REVIEWSHIELD), "check", "--deploy"], production_env(data_dir, REVIEWSHIELD_HTTPS="0"))
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in res.stderr, check


HTTPS_PROBE = textwrap.dedent(
    """
    import json
    from django.test import Client
    from django.contrib.auth import get_user_model
    get_user_model().objects.create_user(username="u1", password="pw-u1-long", role="buyer")
    c = Client(HTTP_HOST="rs.example.org")
    plain = c.get("/login/")
    secure = c.get("/login/", secure=True)
    logged_in = c.post("/login/", {"username": "u1", "password": "pw-u1-long",
                       "csrfmiddlewaretoken": secure.cookies["csrftoken"].value},
                       secure=True, HTTP_REFERER="https://rs.example.org/login/")
    print(json.dumps({
        "plain": [plain.status_code, plain.get("Location")],
        "hsts": secure.get("Strict-Transport-Security"),
        "csrf_secure": bool(secure.cookies["csrftoken"]["secure"]),
        "login": logged_in.status_code,
        "session_secure": bool(logged_in.cookies["sessionid"]["secure"]),
    }))
    """
)


def test_with_https_on_plain_http_is_redirected_cookies_are_secure_and_hsts_is_sent(production):
    data_dir, _ = production
    res = run([str(REVIEWSHIELD), "shell", "-c", HTTPS_PROBE], production_env(data_dir))
    assert res.returncode == 0, res.stderr
    seen = json.loads(res.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://rs.example.org/login/"]
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_secure"] and seen["login"] == 302 and seen["session_secure"]


def test_without_the_https_setting_local_http_keeps_working(db):
    from django.conf import settings

    assert not settings.SESSION_COOKIE_SECURE and not settings.SECURE_SSL_REDIRECT
    assert Client().get("/login/").status_code == 200


def scheme_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [f"{environ['wsgi.url_scheme']} {environ.get('HTTP_X_FORWARDED_PROTO', '-')}".encode()]


@pytest.mark.parametrize(
    ("trusted_proxy", "seen"),
    [
        ("127.0.0.1", "https https"),  # the proxy ending TLS: its word is taken
        ("10.9.9.9", "http -"),  # anyone else: the header is dropped, the request stays http
        ("", "http -"),  # no proxy configured: the same
    ],
)
def test_serve_takes_https_from_the_trusted_proxy_only(trusted_proxy, seen):
    import http.client
    import threading

    from reviewshield.webserver import make_server

    server = make_server(scheme_app, host="127.0.0.1", port=0, threads=1, trusted_proxy=trusted_proxy)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=10)
        connection.request("GET", "/", headers={"X-Forwarded-Proto": "https"})
        assert connection.getresponse().read().decode() == seen
        connection.close()
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        runner.join(timeout=10)
