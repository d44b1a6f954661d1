"""Safe uploads: the hostile corpus, clean copies, masking, content addressing, nothing half-stored.

Every upload here goes through the real HTTP path (multipart, the hashing upload handler, libmagic,
Pillow) as `POST /api/cases/{id}/evidence`.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import socketserver
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent, CaseEvidence
from reviewshield.evidence.models import Blob
from tests.conftest import as_user
from tests.evidence.conftest import NOW
from tests.samples import jpeg_with_gps, pdf, png, upload


def stored_files() -> set[str]:
    root = Path(settings.REVIEWSHIELD_EVIDENCE_DIR)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def temp_files() -> set[str]:
    return {p.name for p in Path(settings.FILE_UPLOAD_TEMP_DIR).iterdir()}


def post(user, case, kind, *files, lang="en", **fields):
    body = {"kind": kind, "files": [SimpleUploadedFile(name, data) for name, data in files], **fields}
    return as_user(user, lang).post(f"/api/cases/{case.pk}/evidence", body)


def polyglot() -> bytes:
    """A valid JPEG that is also a web page: the HTML sits in a JPEG comment segment."""
    img = io.BytesIO()
    Image.new("RGB", (32, 32), (255, 255, 255)).save(img, format="JPEG")
    jpeg = img.getvalue()
    html = b"<html><body><script>fetch('/api/cases').then(r=>r.text()).then(alert)</script></body></html>"
    comment = b"\xff\xfe" + (len(html) + 2).to_bytes(2, "big") + html
    return jpeg[:2] + comment + jpeg[2:]


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.bin", b"\0" * (20 << 20))
    return out.getvalue()


def png_bomb() -> bytes:
    """100 million pixels in a few hundred kilobytes."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8 + b"\x02\x00\x3e\x00" + b"\0" * 200
PDF_WITH_JS = pdf().replace(
    b"<< /Type /Catalog", b"<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> /Type /Catalog"
)

HOSTILE = [
    ("polyglot", "chat_screenshot", "chat.jpg", polyglot, "markup"),
    ("zip bomb named .jpg", "chat_screenshot", "photo.jpg", zip_bomb, "dangerous_type"),
    ("decompression bomb", "chat_screenshot", "big.png", png_bomb, "image_bomb"),
    ("svg with script", "chat_screenshot", "shot.png", lambda: SVG, "dangerous_type"),
    ("executable named .png", "sms_photo", "sms.png", lambda: ELF, "dangerous_type"),
    ("empty", "chat_screenshot", "empty.png", lambda: b"", "empty"),
    ("pdf as a chat screenshot", "chat_screenshot", "photo.jpg", pdf, "type_not_allowed"),
    ("pdf with javascript", "carrier_bill", "bill.pdf", lambda: PDF_WITH_JS, "markup"),
    ("html statement", "statement", "statement.txt", lambda: b"<!DOCTYPE html><html><body>hi</body></html>", "dangerous_type"),
    ("waybill without its number", "waybill", "parcel.png", png, "reference_missing"),
    ("no such kind", "selfie", "me.png", png, "unknown_kind"),
]  # fmt: skip


@pytest.mark.parametrize(("label", "kind", "name", "make", "reason"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_uploads_are_refused_with_a_reason_and_nothing_is_kept(
    cast, case, label, kind, name, make, reason
):
    # given
    before_files, before_temp = stored_files(), temp_files()
    events = CaseEvent.objects.count()
    # when
    res = post(cast.bob, case, kind, (name, make()))
    # then
    assert res.status_code == 422, (label, res.status_code, res.content[:300])
    body = res.json()
    assert body["code"] == "evidence_rejected" and body["details"]["reason"] == reason
    assert body["message"] and "Traceback" not in body["message"]
    assert not CaseEvidence.objects.exists() and not Blob.objects.exists()
    assert stored_files() == before_files and temp_files() == before_temp
    assert CaseEvent.objects.count() == events


def test_refusals_speak_chinese_to_a_chinese_caller(cast, case):
    res = post(cast.bob, case, "chat_screenshot", ("shot.png", SVG), lang="zh-hans")
    assert res.status_code == 422
    message = res.json()["message"]
    assert "shot.png" in message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_one_bad_file_in_a_batch_keeps_none_of_them(cast, case):
    before = stored_files()
    res = post(cast.bob, case, "chat_screenshot", ("good.png", png()), ("bad.png", SVG))
    assert res.status_code == 422 and res.json()["details"]["file"] == "bad.png"
    assert not CaseEvidence.objects.exists() and not Blob.objects.exists() and stored_files() == before


def test_a_file_over_the_kinds_limit_is_refused_and_not_kept(cast, case, settings):
    before = stored_files()
    big = png() + b"\0" * (20 << 20)  # a real PNG header, then past the 20 MB image limit
    res = post(cast.bob, case, "chat_screenshot", ("huge.png", big))
    assert res.status_code == 422 and res.json()["details"]["reason"] == "too_large"
    assert "20 MB" in res.json()["message"]
    assert stored_files() == before and not Blob.objects.exists()


def test_the_upload_handler_stops_keeping_bytes_past_the_largest_limit(cast, case, settings):
    settings.REVIEWSHIELD_VIDEO_MAX_MB = 1  # now 50 MB (audio) is the largest any kind takes
    res = post(cast.bob, case, "audio", ("call.mp3", b"\0" * (51 << 20)))
    assert res.status_code == 422 and res.json()["details"]["reason"] == "too_large"
    assert "50 MB" in res.json()["message"]
    small = post(cast.bob, case, "unboxing_video", ("film.mp4", b"\0" * (2 << 20)))
    assert small.status_code == 422 and "1 MB" in small.json()["message"]
    assert not Blob.objects.exists()


def test_a_path_in_the_file_name_is_only_ever_a_name(cast, case, tmp_path):
    res = post(cast.bob, case, "chat_screenshot", ("../../../../tmp/evil/../passwd.png", png()))
    assert res.status_code == 201, res.content
    item = CaseEvidence.objects.get()
    assert item.original_name == "passwd.png"
    assert item.blob.key == f"blobs/{item.sha256[:2]}/{item.sha256[2:4]}/{item.sha256}"
    assert (Path(settings.REVIEWSHIELD_EVIDENCE_DIR) / item.blob.key).is_file()
    assert not Path("/tmp/evil").exists() and not Path("/tmp/passwd.png").exists()


def test_the_type_comes_from_the_bytes_not_the_name(cast, case):
    res = post(cast.bob, case, "chat_screenshot", ("bill.pdf", png()))
    assert res.status_code == 201
    assert CaseEvidence.objects.get().content_type == "image/png"


def test_a_phone_photo_loses_gps_exif_and_xmp_in_the_copy_the_seller_sees(cast, case):
    photo = jpeg_with_gps()
    assert (
        b"PhoneCam" in photo
        and b"xmpmeta" in photo
        and Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)
    )
    res = post(cast.bob, case, "sms_photo", ("IMG_2041.jpg", photo))
    assert res.status_code == 201
    item = CaseEvidence.objects.get()
    url = f"/api/cases/{case.pk}/evidence/{item.pk}/file"

    seen = as_user(cast.alice).get(url)
    copy = b"".join(seen.streaming_content)
    assert seen.status_code == 200 and copy != photo
    clean = Image.open(io.BytesIO(copy))
    assert clean.size == (80, 60)
    assert not clean.getexif() and "xmp" not in clean.info and "exif" not in clean.info
    assert b"PhoneCam" not in copy and b"xmpmeta" not in copy and b"Exif" not in copy
    # The original is sealed, whole, for the agents (and the buyer who sent it).
    for who in (cast.erin, cast.bob):
        assert b"".join(as_user(who).get(url).streaming_content) == photo


def test_a_buyers_statement_reaches_the_seller_masked(cast, case):
    bob = cast.bob
    text = (
        f"我是{bob.real_name}，电话 {bob.phone}，住在{bob.address}。身份证 110101199003071234。他说要来找我。"
    )
    res = post(bob, case, "statement", ("statement.txt", text.encode()))
    assert res.status_code == 201
    item = CaseEvidence.objects.get()
    url = f"/api/cases/{case.pk}/evidence/{item.pk}/file"
    seen = b"".join(as_user(cast.alice).get(url).streaming_content).decode()
    for secret in (bob.real_name, bob.phone, bob.address, "110101199003071234"):
        assert secret not in seen
    assert "他说要来找我" in seen
    assert b"".join(as_user(cast.erin).get(url).streaming_content).decode() == text


def test_bills_call_records_audio_and_video_are_for_agents_only(cast, case):
    res = post(cast.bob, case, "carrier_bill", ("bill.pdf", pdf(f"Bill for {cast.bob.phone}")))
    assert res.status_code == 201 and res.json()[0]["file"] == "original"
    item = CaseEvidence.objects.get()
    assert item.clean_blob is None
    url = f"/api/cases/{case.pk}/evidence/{item.pk}/file"
    assert as_user(cast.alice).get(url).status_code == 404
    assert as_user(cast.erin).get(url).status_code == 200
    listed = as_user(cast.alice).get(f"/api/cases/{case.pk}").json()["evidence"]
    assert listed[0]["file"] == "none" and cast.bob.phone not in str(listed)
    page = as_user(cast.alice).get(f"/seller/cases/{case.pk}/").content.decode()
    assert "Kept for the platform's agents only" in page


def test_the_same_bytes_are_stored_once(cast, case):
    shot = png(color=(1, 2, 3))
    assert post(cast.bob, case, "chat_screenshot", ("a.png", shot)).status_code == 201
    assert post(cast.bob, case, "chat_screenshot", ("copy-of-a.png", shot)).status_code == 201
    items = list(CaseEvidence.objects.order_by("pk"))
    assert len(items) == 2 and items[0].blob_id == items[1].blob_id
    assert Blob.objects.filter(sha256=items[0].sha256).count() == 1
    assert sum(1 for f in stored_files() if f.endswith(items[0].sha256)) == 1


def test_a_refused_filing_keeps_none_of_its_files(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    late = cast.order(trade_success_at=NOW - timedelta(days=60))
    before = stored_files()
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
    assert stored_files() == before and not Blob.objects.exists()


def test_a_party_opens_evidence_from_the_case_page(cast, case):
    res = as_user(cast.bob).post(
        f"/cases/{case.pk}/evidence/",
        {"evidence_kind": "chat_screenshot", "files": [SimpleUploadedFile("x.png", jpeg_with_gps())]},
        follow=True,
    )
    assert "1 file added to the evidence." in res.content.decode()
    item = CaseEvidence.objects.get()
    own = as_user(cast.bob).get(f"/cases/{case.pk}/evidence/{item.pk}/")
    assert b"PhoneCam" in b"".join(own.streaming_content)
    seller = as_user(cast.alice).get(f"/seller/cases/{case.pk}/evidence/{item.pk}/?view=1")
    assert seller["Content-Type"] == "image/jpeg" and "sandbox" in seller["Content-Security-Policy"]
    assert b"PhoneCam" not in b"".join(seller.streaming_content)
    assert as_user(cast.dave).get(f"/seller/cases/{case.pk}/evidence/{item.pk}/").status_code == 404
    assert as_user(cast.carol).get(f"/cases/{case.pk}/evidence/{item.pk}/").status_code == 404
    refused = as_user(cast.alice).post(
        f"/seller/cases/{case.pk}/evidence/",
        {"evidence_kind": "chat_screenshot", "files": [SimpleUploadedFile("s.svg", SVG)]},
        follow=True,
    )
    assert "could run code" in refused.content.decode() and CaseEvidence.objects.count() == 1


class _FakeClamd(socketserver.BaseRequestHandler):
    """Speaks clamd's INSTREAM protocol; finds the EICAR test string like the real scanner."""

    def handle(self) -> None:
        assert self.request.recv(10) == b"zINSTREAM\0"
        data = b""
        while True:
            size = int.from_bytes(self._read(4), "big")
            if size == 0:
                break
            data += self._read(size)
        found = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in data
        self.request.sendall(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += self.request.recv(n - len(out))
        return out


@pytest.fixture
def clamd_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeClamd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def test_with_a_virus_scanner_configured_infected_files_are_refused(cast, case, settings, clamd_server):
    settings.REVIEWSHIELD_CLAMD = clamd_server
    res = post(cast.bob, case, "statement", ("note.txt", EICAR))
    assert res.status_code == 422 and res.json()["details"]["reason"] == "virus"
    assert "Eicar-Signature" in res.json()["message"]
    assert post(cast.bob, case, "statement", ("note.txt", b"all fine")).status_code == 201


def test_a_scanner_that_cannot_be_reached_refuses_the_file(cast, case, settings):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.REVIEWSHIELD_CLAMD = f"tcp://127.0.0.1:{port}"
    res = post(cast.bob, case, "statement", ("note.txt", b"all fine"))
    assert res.status_code == 422 and res.json()["details"]["reason"] == "scan_failed"
    assert not Blob.objects.exists()


def test_a_file_of_many_chunks_is_stored_byte_for_byte_with_nothing_reserved_left_over(cast, case):
    # The handler reserves disk ahead of the bytes it writes, a megabyte per chunk; the stored file
    # must still be exactly the upload, not the upload plus the reserved tail.
    from reviewshield.evidence.blobs import blob_open

    header = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
    film = header + bytes(range(256)) * ((3 << 20) // 256) + os.urandom(16)  # new to the store
    res = post(cast.bob, case, "unboxing_video", ("film.mp4", film))
    assert res.status_code in (200, 201), res.content
    blob = CaseEvidence.objects.get().blob
    assert blob.size == len(film) and blob.sha256 == hashlib.sha256(film).hexdigest()
    with blob_open(blob) as fh:
        assert fh.read() == film
    assert temp_files() == set()
