"""Evidence in an S3-compatible store: the same uploads, downloads and bundles, with nothing on local disk.

Each test starts moto's S3 server on a free loopback port, makes a bucket, and configures the
"evidence" storage exactly as settings.py does from REVIEWSHIELD_EVIDENCE_S3_* (the settings module
is evaluated afresh with those variables set), so what is proved here is the production setup.
"""

from __future__ import annotations

import runpy
import socket
import urllib.request
import zipfile
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

import reviewshield.settings as settings_module
from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent, CaseEvidence
from reviewshield.evidence.models import Blob
from reviewshield.proofs.bundle import verify_bundle
from tests.conftest import as_user
from tests.evidence.conftest import NOW
from tests.samples import jpeg_with_gps, png, upload

BUCKET = "reviewshield-evidence"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _moto_reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).close()


class Bucket:
    """The bucket as anyone with the store's credentials sees it, past ReviewShield."""

    def __init__(self, client) -> None:
        self.client = client

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        return {obj["Key"] for page in pages for obj in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture
def s3(settings, monkeypatch):
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _moto_reset(endpoint)  # moto keeps its buckets per process, not per server: start empty
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test-key",
            aws_secret_access_key="test-secret",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        monkeypatch.delenv("AWS_PROFILE", raising=False)  # explicit keys only; no profile lookup
        for name, value in {
            "BUCKET": BUCKET,
            "ENDPOINT": endpoint,
            "REGION": "us-east-1",
            "ACCESS_KEY": "test-key",
            "SECRET_KEY": "test-secret",
        }.items():
            monkeypatch.setenv(f"REVIEWSHIELD_EVIDENCE_S3_{name}", value)
        production = runpy.run_path(settings_module.__file__)["STORAGES"]["evidence"]
        assert production["BACKEND"] == "storages.backends.s3.S3Storage"
        settings.STORAGES = {**settings.STORAGES, "evidence": production}
        # Django's setting_changed handler drops the cached storages; this proves it did.
        assert isinstance(storages["evidence"], S3Storage)
        yield Bucket(client)
    finally:
        _moto_reset(endpoint)
        server.stop()


def local_files() -> set[str]:
    root = Path(django_settings.REVIEWSHIELD_EVIDENCE_DIR)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def temp_files() -> set[str]:
    return {p.name for p in Path(django_settings.FILE_UPLOAD_TEMP_DIR).iterdir()}


def post(user, case, kind, *files):
    body = {"kind": kind, "files": [SimpleUploadedFile(name, data) for name, data in files]}
    return as_user(user).post(f"/api/cases/{case.pk}/evidence", body)


def key_of(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def test_a_phone_photo_goes_to_the_bucket_and_the_seller_gets_it_without_gps(cast, case, s3):
    # given
    photo = jpeg_with_gps()
    before_local, before_temp = local_files(), temp_files()
    # when
    res = post(cast.bob, case, "sms_photo", ("IMG_2041.jpg", photo))
    # then
    assert res.status_code == 201, res.content[:300]
    item = CaseEvidence.objects.get()
    assert item.clean_blob_id and item.clean_blob_id != item.sha256
    original, clean = key_of(item.sha256), key_of(item.clean_blob_id)
    assert s3.keys() == {original, clean}
    assert s3.read(original) == photo
    assert b"PhoneCam" not in s3.read(clean)
    # Nothing went to local disk: not the store, and no temporary file was left behind.
    assert local_files() == before_local and temp_files() == before_temp
    # Uploads carry no CRC checksum, which older S3-compatible stores refuse (boto3 >= 1.36 sends one).
    head = s3.client.head_object(Bucket=BUCKET, Key=original, ChecksumMode="ENABLED")
    assert not [k for k in head if k.startswith("Checksum")], head

    url = f"/api/cases/{case.pk}/evidence/{item.pk}/file"
    seen = as_user(cast.alice).get(url)
    copy = b"".join(seen.streaming_content)
    assert seen.status_code == 200 and copy == s3.read(clean)
    assert b"PhoneCam" not in copy and b"xmpmeta" not in copy and copy[:3] == b"\xff\xd8\xff"
    assert b"".join(as_user(cast.bob).get(url).streaming_content) == photo


def test_the_same_bytes_uploaded_twice_are_one_object(cast, case, s3):
    photo = jpeg_with_gps()
    assert post(cast.bob, case, "sms_photo", ("a.jpg", photo)).status_code == 201
    after_first = s3.keys()
    assert post(cast.bob, case, "sms_photo", ("copy-of-a.jpg", photo)).status_code == 201
    first, second = CaseEvidence.objects.order_by("pk")
    assert first.sha256 == second.sha256 and first.clean_blob_id == second.clean_blob_id
    assert s3.keys() == after_first == {key_of(first.sha256), key_of(first.clean_blob_id)}


def test_a_refused_upload_leaves_nothing_in_the_bucket(cast, case, s3):
    res = post(cast.bob, case, "chat_screenshot", ("good.png", png()), ("shot.png", SVG))
    assert res.status_code == 422 and res.json()["details"]["reason"] == "dangerous_type"
    assert s3.keys() == set() and not Blob.objects.exists()


def test_a_filing_that_fails_after_its_files_were_stored_removes_them_from_the_bucket(cast, s3, time_machine):
    time_machine.move_to(NOW, tick=False)
    late = cast.order(trade_success_at=NOW - timedelta(days=60))
    events = CaseEvent.objects.count()
    with pytest.raises(Exception) as err:
        services.case_file(
            buyer=cast.bob,
            order_id=late.pk,
            harassment_types=["other"],
            occurred_at=NOW,
            narrative="x",
            files=[upload("chat_screenshot", png(color=(9, 9, 9)), "a.png")],
            now=NOW,
        )
    assert err.value.code == "not_eligible"
    assert s3.keys() == set() and not Blob.objects.exists() and CaseEvent.objects.count() == events


def test_the_bundle_built_from_the_bucket_verifies_offline(cast, case, s3, tmp_path):
    photo = jpeg_with_gps()
    assert post(cast.bob, case, "sms_photo", ("IMG_2041.jpg", photo)).status_code == 201
    statement = b"He called me 30 times last night."
    assert post(cast.bob, case, "statement", ("statement.txt", statement)).status_code == 201
    res = as_user(cast.bob).get(f"/api/cases/{case.pk}/bundle")
    assert res.status_code == 200 and res["Content-Type"] == "application/zip"
    path = tmp_path / f"{case.reference}.zip"
    path.write_bytes(b"".join(res.streaming_content))
    report = verify_bundle(path)
    assert report.ok, report.problems
    assert report.checked_files == 2
    with zipfile.ZipFile(path) as z:
        for item in CaseEvidence.objects.all():
            assert z.read(f"files/{item.sha256}") == s3.read(key_of(item.sha256))


def test_a_file_larger_than_the_read_buffer_comes_back_whole(cast, case, s3):
    # Past max_memory_size a download is buffered in a temporary file, not memory; it must be exact.
    big = png() + bytes(range(256)) * (40 << 10)  # a 10 MB "screenshot" with trailing bytes
    assert len(big) > storages["evidence"].max_memory_size > 0
    assert post(cast.bob, case, "chat_screenshot", ("big.png", big)).status_code == 201
    item = CaseEvidence.objects.get()
    got = as_user(cast.erin).get(f"/api/cases/{case.pk}/evidence/{item.pk}/file")
    assert got.status_code == 200 and b"".join(got.streaming_content) == big
