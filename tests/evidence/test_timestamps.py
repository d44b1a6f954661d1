"""RFC 3161 timestamps of signed checkpoints, against a real OpenSSL time-stamping authority.

Every test runs with real transactions: the TSA is asked outside any transaction (its timeout must
never hold the database's locks), which the code enforces and a test-wide transaction would trip.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import subprocess
import sys
import threading
import time
import zipfile
from datetime import timedelta
from itertools import count

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import transaction
from django.utils import timezone

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent
from reviewshield.deadlines.worker import run_worker
from reviewshield.evidence import log
from reviewshield.evidence.checks import tsa_settings
from reviewshield.evidence.models import LogCheckpoint
from reviewshield.evidence.timestamps import Backoff, checkpoint_timestamp, timestamp_tick
from reviewshield.proofs.bundle import verify_bundle
from reviewshield.proofs.timestamp import check_timestamp
from tests.conftest import as_user
from tests.tsa import Tsa, make_root

pytestmark = pytest.mark.django_db(transaction=True)
_refs = count(1)


@pytest.fixture
def tsa_server(tmp_path):
    """A running OpenSSL TSA that ReviewShield is not told about."""
    server = Tsa(tmp_path / "tsa").start()
    yield server
    server.stop()


@pytest.fixture
def tsa(tsa_server, settings):
    """The same TSA, configured: REVIEWSHIELD_TSA_URL and its root in REVIEWSHIELD_TSA_CA_FILE."""
    settings.REVIEWSHIELD_TSA_URL = tsa_server.url
    settings.REVIEWSHIELD_TSA_CA_FILE = str(tsa_server.ca_file)
    return tsa_server


def grow_log(n: int = 1) -> None:
    now = timezone.now()
    with transaction.atomic():
        for _ in range(n):
            ref = f"test:{next(_refs)}"
            log.log_enqueue(ref=ref, record={"type": "test", "ref": ref}, now=now)


def issue(**kwargs) -> LogCheckpoint:
    grow_log()
    checkpoint = log.checkpoint_issue(now=kwargs.pop("now", timezone.now()), **kwargs)
    assert checkpoint is not None
    return checkpoint


def run_worker_once() -> None:
    run_worker(name="t", idle_sleep=0, stop=threading.Event(), max_idle_loops=1)


def openssl_verify(folder, note: str, response: bytes, ca_file) -> subprocess.CompletedProcess[str]:
    (folder / "note.txt").write_bytes(note.encode())
    (folder / "note.tsr").write_bytes(response)
    return subprocess.run(
        ["openssl", "ts", "-verify", "-data", "note.txt", "-in", "note.tsr", "-CAfile", str(ca_file)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def case(cast):
    now = timezone.now()
    order = cast.order(trade_success_at=now - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=now - timedelta(hours=1),
        narrative="He threatened me after my review.",
        now=now,
    )
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="Not us.", now=now)
    return case


def download(client, case, tmp_path, name="bundle.zip"):
    res = client.get(f"/api/cases/{case.pk}/bundle")
    assert res.status_code == 200, res.content[:300]
    path = tmp_path / name
    path.write_bytes(b"".join(res.streaming_content))
    return path


def rewrite(path, change):
    """A copy of the bundle with `change(name, data) -> data` applied to its members."""
    with zipfile.ZipFile(path) as src:
        members = {n: src.read(n) for n in src.namelist()}
    out = path.with_name("tampered-" + path.name)
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, change(name, data))
    return out


def test_the_worker_timestamps_each_new_checkpoint_and_openssl_accepts_it(tsa, tmp_path):
    # given: records waiting in the log
    grow_log(3)
    before = timezone.now()

    # when: one pass of the worker
    run_worker_once()

    # then: the checkpoint it signed carries the TSA's answer, dated now, and OpenSSL agrees
    checkpoint = LogCheckpoint.objects.get()
    assert checkpoint.size == 3 and checkpoint.timestamp_response is not None
    assert before - timedelta(seconds=2) <= checkpoint.timestamped_at <= timezone.now() + timedelta(seconds=2)
    assert len(tsa.queries) == 1
    checked = openssl_verify(tmp_path, checkpoint.note, bytes(checkpoint.timestamp_response), tsa.ca_file)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    # ...for this checkpoint's note, and no other
    other = openssl_verify(tmp_path, checkpoint.note + " ", bytes(checkpoint.timestamp_response), tsa.ca_file)
    assert other.returncode != 0

    # and: a second pass with nothing new asks the TSA nothing
    run_worker_once()
    assert len(tsa.queries) == 1 and LogCheckpoint.objects.count() == 1


def test_the_api_shows_the_timestamp_once_the_tsa_has_answered(tsa, cast):
    grow_log()
    issued = as_user(cast.erin).post("/api/log/checkpoint")
    body = issued.json()
    # Signing does not wait for the TSA: the new checkpoint has no timestamp yet.
    assert issued.status_code == 201 and body["timestamp_response"] is None and body["timestamped_at"] is None

    assert timestamp_tick() == 1

    shown = as_user(cast.carol).get("/api/log/checkpoint").json()
    response = base64.b64decode(shown["timestamp_response"])
    stamp = check_timestamp(response, shown["note"].encode(), ca_pem=tsa.ca_file.read_bytes())
    assert stamp.tsa == "CN=Test TSA"
    assert shown["timestamped_at"].replace("Z", "+00:00") == stamp.gen_time.isoformat()


def test_a_bundle_carries_the_timestamp_verifies_offline_and_tampering_is_named(tsa, cast, case, tmp_path):
    run_worker_once()
    path = download(as_user(cast.bob), case, tmp_path)
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
    assert {"checkpoint.tsr", "tsa-ca.pem", "verifier/reviewshield/proofs/timestamp.py"} <= names
    assert manifest["timestamp"] == "checkpoint.tsr" and manifest["tsa_certificates"] == "tsa-ca.pem"

    # The command an expert runs, with no Django and no settings.
    env = {"PATH": "/usr/bin:/bin"}
    ok = subprocess.run(
        [sys.executable, "-m", "reviewshield", "verify", str(path), "--key", log.verifier()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok.stdout + ok.stderr
    assert "* checkpoint.tsr: the checkpoint existed by" in ok.stdout
    assert "CN=Test TSA" in ok.stdout and "signature checked against tsa-ca.pem" in ok.stdout

    # One byte of the timestamp's signature changed.
    bad_tsr = rewrite(path, lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n == "checkpoint.tsr" else d)
    failed = subprocess.run(
        [sys.executable, "-m", "reviewshield", "verify", str(bad_tsr), "--key", log.verifier()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert failed.returncode == 1 and "FAILED" in failed.stdout
    assert "- checkpoint.tsr: the signature does not check out" in failed.stdout

    # The checkpoint changed under its timestamp (its signature fails too, and is named as well).
    bad_note = verify_bundle(
        rewrite(path, lambda n, d: d.replace(b"\n", b"\n1", 1) if n == "checkpoint.txt" else d)
    )
    assert any(p.startswith("checkpoint.tsr: the timestamp is of other data") for p in bad_note.problems)
    assert any(p.startswith("checkpoint.txt:") for p in bad_note.problems)

    # A timestamp from another TSA: refused once the expert pins the real TSA's root.
    stranger = make_root(tmp_path, "stranger", "Some Other Root")
    pinned = verify_bundle(path, tsa_ca=stranger.read_bytes())
    assert not pinned.ok and pinned.problems[0].startswith("checkpoint.tsr: the signature does not check out")
    assert verify_bundle(path, tsa_ca=tsa.ca_file.read_bytes()).ok


def test_without_rfc3161_client_the_shipped_verifier_reports_the_openssl_command_that_works(
    tsa, cast, case, tmp_path
):
    run_worker_once()
    path = download(as_user(cast.bob), case, tmp_path)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as z:
        z.extractall(unpacked)
    tampered = rewrite(path, lambda n, d: d.replace(b"\n", b"\n1", 1) if n == "checkpoint.txt" else d)
    # An expert with only `cryptography`: the import of rfc3161_client fails.
    code = (
        "import sys; sys.modules['rfc3161_client'] = None\n"
        "import reviewshield.proofs.bundle as b\n"
        "sys.exit(b.main([sys.argv[1], '--key', sys.argv[2]]))"
    )

    def run(bundle):
        return subprocess.run(
            [sys.executable, "-c", code, str(bundle), log.verifier()],
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(unpacked / "verifier")},
            capture_output=True,
            text=True,
            check=False,
        )

    # then: not a failure — present, imprint checked, signature unchecked, and how to check it
    res = run(path)
    assert res.returncode == 0 and res.stdout.startswith("OK:"), res.stdout + res.stderr
    assert "its signature is unchecked: the rfc3161-client package is not installed" in res.stdout
    command = "openssl ts -verify -data checkpoint.txt -in checkpoint.tsr -CAfile tsa-ca.pem"
    assert command in res.stdout
    # ...and that command, run in the unzipped bundle, does check it
    checked = subprocess.run(command.split(), cwd=unpacked, capture_output=True, text=True, check=False)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr

    # A changed checkpoint.txt is still caught through the imprint, without the package.
    bad = run(tampered)
    assert bad.returncode == 1 and "- checkpoint.tsr: the timestamp is of other data" in bad.stdout


def test_a_bundle_keeps_a_timestamped_checkpoint_while_it_covers_the_case(tsa, cast, case, tmp_path):
    run_worker_once()
    stamped = LogCheckpoint.objects.get()
    grow_log(2)  # other cases' records: a newer checkpoint, not yet timestamped, would cover them
    fresh = issue()
    assert fresh.timestamp_response is None

    with zipfile.ZipFile(download(as_user(cast.bob), case, tmp_path)) as z:
        assert z.read("checkpoint.txt").decode() == stamped.note
        assert z.read("checkpoint.tsr") == bytes(stamped.timestamp_response)

    # A new event of the case is past the timestamped checkpoint: the bundle must hold it, so it
    # takes the newest checkpoint, timestamped or not.
    services.case_decide(
        case_id=case.pk, agent=cast.erin, outcome="reject", reasons="No proof.", now=timezone.now()
    )
    path = download(as_user(cast.bob), case, tmp_path, name="later.zip")
    report = verify_bundle(path)
    assert report.ok and report.checked_items == CaseEvent.objects.filter(case=case).count()
    with zipfile.ZipFile(path) as z:
        assert "checkpoint.tsr" not in z.namelist() and "timestamp" not in json.loads(z.read("manifest.json"))


def test_a_tsa_that_is_down_never_stops_signing_and_is_asked_again_once_back(tsa, caplog):
    tsa.stop()
    clock = [1000.0]
    backoff = Backoff(clock=lambda: clock[0])

    # The worker's two duties, in the order it runs them: sign, then timestamp.
    grow_log()
    checkpoint = log.checkpoint_tick(now=timezone.now())
    assert checkpoint is not None
    with caplog.at_level(logging.WARNING, logger="reviewshield.evidence.timestamps"):
        assert timestamp_tick(backoff=backoff) == 0
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_response is None  # signed all the same
    assert "not timestamped: the TSA at" in caplog.text and "did not answer" in caplog.text
    assert "asking again in 5s" in caplog.text

    tsa.start()
    assert timestamp_tick(backoff=backoff) == 0 and tsa.queries == []  # still pausing: the TSA is spared
    clock[0] += 5
    assert timestamp_tick(backoff=backoff) == 1  # the next tick after the pause fills it in
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_response is not None and len(tsa.queries) == 1


def test_a_tsa_that_hangs_costs_one_timeout_not_the_worker(tsa, settings):
    settings.REVIEWSHIELD_TSA_TIMEOUT_SECONDS = 0.5
    tsa.mode, tsa.delay = "slow", 3.0
    checkpoint = issue()
    started = time.monotonic()
    assert timestamp_tick() == 0
    assert time.monotonic() - started < 2.5
    checkpoint.refresh_from_db()
    assert checkpoint.timestamp_response is None


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("garbage", "not an RFC 3161 timestamp response"),
        ("other_data", "the timestamp is of other data"),
        ("other_nonce", "the nonce differs from ours"),
        ("wrong_root", "the signature does not check out against the TSA certificates"),
        ("clock_behind", "is before the checkpoint was signed"),
    ],
)
def test_a_wrong_answer_is_refused_logged_and_not_stored(tsa, settings, tmp_path, caplog, mode, says):
    if mode == "wrong_root":
        settings.REVIEWSHIELD_TSA_CA_FILE = str(make_root(tmp_path, "stranger", "Some Other Root"))
    elif mode != "clock_behind":
        tsa.mode = mode
    # "clock_behind": we sign a day ahead of the TSA's clock, so its genTime predates our signature.
    ahead = timedelta(days=1) if mode == "clock_behind" else timedelta(0)
    first = issue(now=timezone.now() + ahead)
    second = issue(now=timezone.now() + ahead)

    with caplog.at_level(logging.WARNING, logger="reviewshield.evidence.timestamps"):
        assert timestamp_tick() == 0

    assert says in caplog.text and "the TSA's answer was refused" in caplog.text
    assert not LogCheckpoint.objects.filter(timestamp_response__isnull=False).exists()
    assert {first.pk, second.pk} == set(LogCheckpoint.objects.values_list("pk", flat=True))
    assert (
        len(tsa.queries) == 1
    )  # stopped at the first refusal: one bad answer per tick, not one per checkpoint


def test_two_workers_stamping_the_same_checkpoint_keep_the_first_token(tsa):
    issue()
    # Both workers saw the checkpoint without a timestamp before either stored one.
    seen_by_a, seen_by_b = LogCheckpoint.objects.get(), LogCheckpoint.objects.get()

    assert checkpoint_timestamp(checkpoint=seen_by_a) is True
    first = bytes(LogCheckpoint.objects.get().timestamp_response)
    assert checkpoint_timestamp(checkpoint=seen_by_b) is False

    assert len(tsa.queries) == 2  # B did get its own (different) token from the TSA...
    assert bytes(LogCheckpoint.objects.get().timestamp_response) == first  # ...and it was not stored


def test_the_tsa_is_never_called_inside_a_transaction(tsa):
    checkpoint = issue()
    with pytest.raises(RuntimeError, match="outside any transaction"), transaction.atomic():
        checkpoint_timestamp(checkpoint=checkpoint)
    assert tsa.queries == []


def test_with_no_tsa_configured_nothing_changes_and_nothing_goes_out(
    tsa_server, cast, case, tmp_path, monkeypatch
):
    attempts = []

    def no_network(sock, address):
        attempts.append(address)
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    run_worker_once()
    checkpoint = LogCheckpoint.objects.get()
    assert checkpoint.timestamp_response is None and checkpoint.timestamped_at is None
    assert attempts == [] and tsa_server.queries == []

    shown = as_user(cast.carol).get("/api/log/checkpoint").json()
    assert shown["timestamp_response"] is None and shown["timestamped_at"] is None
    path = download(as_user(cast.bob), case, tmp_path)
    with zipfile.ZipFile(path) as z:
        assert not {"checkpoint.tsr", "tsa-ca.pem"} & set(z.namelist())
        assert "timestamp" not in json.loads(z.read("manifest.json"))
    report = verify_bundle(path)
    assert report.ok and report.timestamp is None and report.notes == []


def test_start_up_checks_name_a_tsa_set_up_wrong(settings, tmp_path, tsa_server):
    settings.REVIEWSHIELD_TSA_URL = ""
    assert tsa_settings() == []
    settings.REVIEWSHIELD_TSA_URL = "ftp://tsa.example/"
    assert [m.id for m in tsa_settings()] == ["evidence.E001"]
    settings.REVIEWSHIELD_TSA_URL = tsa_server.url
    settings.REVIEWSHIELD_TSA_CA_FILE = ""
    assert [m.id for m in tsa_settings()] == ["evidence.W001"]
    settings.REVIEWSHIELD_TSA_CA_FILE = str(tmp_path / "missing.pem")
    assert [m.id for m in tsa_settings()] == ["evidence.E002"]
    settings.REVIEWSHIELD_TSA_CA_FILE = str(tsa_server.ca_file)
    assert tsa_settings() == []
    # Registered: `reviewshield check` (and every start-up) refuses a TSA URL that cannot work.
    settings.REVIEWSHIELD_TSA_URL = "ftp://tsa.example/"
    with pytest.raises(SystemCheckError, match=r"evidence\.E001"):
        call_command("check")
