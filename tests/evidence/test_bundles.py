"""Evidence bundles: built for the buyer and agents, checked offline, and any change is found and named."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent
from reviewshield.evidence.blobs import blob_open
from reviewshield.evidence.log import verifier
from reviewshield.proofs.bundle import EXIT_FORGED, EXIT_OK, EXIT_UNVERIFIED, verify_bundle
from tests.conftest import as_user, local
from tests.samples import png, upload

NOW = local(2026, 11, 12, 9, 0)
PHOTO = png(120, 90, text="taken at Room 1201, 88 Hongqiao Road")


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["items_mailed"],
        occurred_at=NOW - timedelta(hours=5),
        narrative="A funeral wreath arrived.",
        files=[
            upload("waybill", PHOTO, "wreath.png", reference="SF1234567890"),
            upload("statement", b"SF1234567890", "waybill.txt"),
        ],
        now=NOW,
    )
    services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="defence",
        text="Not from us.",
        files=[upload("call_records", b"shipping log", "log.csv")],
        now=NOW,
    )
    return case


def download(client, case, tmp_path, via="api"):
    url = f"/api/cases/{case.pk}/bundle" if via == "api" else f"/cases/{case.pk}/bundle/"
    res = client.get(url)
    assert res.status_code == 200, res.content[:300]
    assert res["Content-Type"] == "application/zip"
    path = tmp_path / f"{case.reference}.zip"
    path.write_bytes(b"".join(res.streaming_content))
    return path


def rewrite(path, change):
    """A copy of the bundle with `change(name, data) -> data` applied to its members."""
    with zipfile.ZipFile(path) as src:
        members = {n: src.read(n) for n in src.namelist()}
    out = path.with_name("tampered.zip")
    with zipfile.ZipFile(out, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, change(name, data))
    return out


def test_the_buyers_bundle_verifies_offline_and_holds_everything(cast, case, tmp_path):
    path = download(as_user(cast.bob), case, tmp_path)
    report = verify_bundle(path, key=verifier())  # pinned, as the platform publishes it
    events = CaseEvent.objects.filter(case=case).count()
    assert report.ok and report.exit_code == EXIT_OK, report.problems
    # Every record, but only the files the buyer may open: the seller's call records are for agents.
    assert report.checked_items == events + 3 and report.checked_files == 2
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["case"] == case.reference
    assert {
        "checkpoint.txt",
        "contents.txt",
        "index.html",
        "log-key.txt",
        "verifier/README.txt",
        "verifier/reviewshield/proofs/bundle.py",
    } <= names
    assert sum(n.startswith("files/") for n in names) == 2


def test_agents_get_it_from_the_workspace_and_sellers_and_outsiders_do_not(cast, case, tmp_path):
    agents = verify_bundle(download(as_user(cast.erin), case, tmp_path), key=verifier())
    assert agents.exit_code == EXIT_OK and agents.checked_files == 3
    assert as_user(cast.erin).get(f"/agent/cases/{case.pk}/bundle/").status_code == 200
    assert as_user(cast.alice).get(f"/api/cases/{case.pk}/bundle").status_code == 403
    assert as_user(cast.carol).get(f"/api/cases/{case.pk}/bundle").status_code == 404
    assert as_user(cast.carol).get(f"/cases/{case.pk}/bundle/").status_code == 404
    assert as_user(cast.alice).get(f"/cases/{case.pk}/bundle/").status_code == 403


def flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


def test_any_change_fails_and_is_named(cast, case, tmp_path):
    path = download(as_user(cast.bob), case, tmp_path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
    photo = next(i for i in manifest["items"] if i.get("file") and '"size":' + str(len(PHOTO)) in i["record"])
    event = next(i for i in manifest["items"] if '"kind":"answered_defence"' in i["record"])

    # One byte of an evidence file.
    bad = verify_bundle(rewrite(path, lambda n, d: flip_last_byte(d) if n == photo["file"] else d))
    assert not bad.ok and any(photo["file"] in p and "the file was changed" in p for p in bad.problems)

    # An event's record, as if someone edited the seller's answer after the fact.
    def edit_event(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        for item in m["items"]:
            if item["ref"] == event["ref"]:
                item["record"] = item["record"].replace("answered_defence", "answered_settlement")
        return json.dumps(m).encode()

    bad = verify_bundle(rewrite(path, edit_event))
    assert not bad.ok and any(p.startswith(event["ref"]) and "was changed" in p for p in bad.problems)

    # A manifest entry pointing the photo's record at another file.
    def swap_file(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        other = next(i["file"] for i in m["items"] if i.get("file") and i["file"] != photo["file"])
        for item in m["items"]:
            if item["ref"] == photo["ref"]:
                item["file"] = other
        return json.dumps(m).encode()

    bad = verify_bundle(rewrite(path, swap_file))
    assert not bad.ok and any(photo["ref"] in p for p in bad.problems)

    # The checkpoint: its size, or a proof pointing elsewhere.
    bad = verify_bundle(
        rewrite(path, lambda n, d: d.replace(b"\n", b"\n1", 1) if n == "checkpoint.txt" else d)
    )
    assert not bad.ok and bad.problems[0].startswith("checkpoint.txt:")

    def bend_proof(name, data):
        if name != "manifest.json":
            return data
        m = json.loads(data)
        m["items"][0]["leaf_index"] += 1
        return json.dumps(m).encode()

    bad = verify_bundle(rewrite(path, bend_proof))
    assert not bad.ok and bad.problems[0].startswith(manifest["items"][0]["ref"])

    # A file taken out.
    stripped = rewrite(path, lambda n, d: d)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(stripped, "w") as dst:
        for name in src.namelist():
            if name != photo["file"]:
                dst.writestr(name, src.read(name))
    bad = verify_bundle(stripped)
    assert any(p == f"{photo['file']}: missing from the bundle" for p in bad.problems)


def test_a_pinned_key_rejects_a_bundle_signed_by_another_log(cast, case, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from reviewshield.proofs.checkpoint import public_bytes, verifier_key

    path = download(as_user(cast.bob), case, tmp_path)
    impostor = verifier_key("reviewshield.local/evidence", public_bytes(Ed25519PrivateKey.generate()))
    bad = verify_bundle(path, key=impostor)
    assert not bad.ok and bad.exit_code == EXIT_FORGED and "FORGED OR UNKNOWN KEY" in bad.text()
    assert verify_bundle(path, key=verifier()).exit_code == EXIT_OK
    assert verify_bundle(path).exit_code == EXIT_UNVERIFIED


def test_the_command_runs_with_no_django_and_no_settings(cast, case, tmp_path):
    path = download(as_user(cast.bob), case, tmp_path)
    env = {"PATH": "/usr/bin:/bin"}  # no DJANGO_SETTINGS_MODULE, no DATABASE_URL, no data folder
    ok = subprocess.run(
        [sys.executable, "-m", "reviewshield", "verify", str(path), "--key", verifier()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("OK:"), ok.stdout + ok.stderr
    tampered = rewrite(path, lambda n, d: flip_last_byte(d) if n.startswith("files/") else d)
    bad = subprocess.run(
        [sys.executable, "-m", "reviewshield", "verify", str(tampered), "--key", verifier()],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 1 and "FAILED" in bad.stdout and "the file was changed" in bad.stdout


def test_the_verifier_shipped_inside_the_bundle_runs_on_its_own(cast, case, tmp_path):
    path = download(as_user(cast.bob), case, tmp_path)
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("verifier/"):
                z.extract(name, tmp_path / "unpacked")
    verifier_dir = tmp_path / "unpacked" / "verifier"
    code = (
        "import sys, reviewshield.proofs.bundle as b; print(b.__file__); "
        f"sys.exit(b.main([{str(path)!r}, '--key', {verifier()!r}]))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(verifier_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    where, _, output = res.stdout.partition("\n")
    assert where.startswith(str(verifier_dir))  # the shipped copy ran, not the installed package
    assert res.returncode == 0 and output.startswith("OK:"), res.stdout + res.stderr


def test_over_the_api_the_seller_gets_clean_copies_of_the_buyers_files_never_the_originals(cast, case):
    photo = case.evidence.get(original_name="wreath.png")
    text = case.evidence.get(original_name="waybill.txt")
    seller_item = case.evidence.get(original_name="log.csv")
    url = f"/api/cases/{case.pk}/evidence/{{}}/file"

    def body(user, item):
        res = as_user(user).get(url.format(item.pk))
        return res.status_code, b"".join(res.streaming_content) if res.status_code == 200 else b""

    assert body(cast.bob, photo) == (200, PHOTO)  # the buyer's own original
    assert body(cast.erin, photo) == (200, PHOTO)  # agents get the sealed original
    status, copy = body(cast.alice, photo)
    assert status == 200 and copy != PHOTO and copy == bytes(blob_open(photo.clean_blob).read())
    assert body(cast.alice, text)[0] == 200
    # The seller's own call records are theirs; the buyer gets nothing of them (agents only).
    assert body(cast.alice, seller_item) == (200, b"shipping log")
    assert body(cast.bob, seller_item)[0] == 404
    assert body(cast.carol, photo)[0] == 404
    listed = {e["id"]: e["file"] for e in as_user(cast.alice).get(f"/api/cases/{case.pk}").json()["evidence"]}
    assert listed == {photo.pk: "clean_copy", text.pk: "clean_copy", seller_item.pk: "original"}
