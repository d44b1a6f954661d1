"""A bundle holds exactly what its reader may open on the case page: the buyer, an agent, and the
seller (who gets none)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from datetime import timedelta

import pytest

from reviewshield.cases import services
from reviewshield.evidence.models import LogLeaf
from reviewshield.proofs.bundle import verify_bundle
from tests.conftest import as_user, local
from tests.evidence.test_bundles import download
from tests.samples import png, upload

NOW = local(2026, 11, 12, 9, 0)
BUYER_PHOTO = png(120, 90, text="wreath at the door")
SELLER_SHOT = png(100, 80, text="our chat with the buyer")


@pytest.fixture
def case(cast, time_machine):
    """Bob's complaint (a photo, a statement) and Alice's defence (a screenshot, call records)."""
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["items_mailed"],
        occurred_at=NOW - timedelta(hours=5),
        narrative="A funeral wreath arrived.",
        files=[
            upload("waybill", BUYER_PHOTO, "wreath.png", reference="SF1234567890"),
            upload("statement", b"SF1234567890 was sent to me", "waybill.txt"),
        ],
        now=NOW,
    )
    services.case_answer(
        case_id=case.pk,
        seller=cast.alice,
        kind="defence",
        text="Not from us.",
        files=[
            upload("chat_screenshot", SELLER_SHOT, "chat.png"),
            upload("call_records", b"2026-11-10 13800138000 3min", "calls.csv"),
        ],
        now=NOW,
    )
    return case


def openable_on_page(client, page_url, link):
    """SHA-256 of every evidence file the case page offers this reader, downloaded as they would."""
    page = client.get(page_url)
    assert page.status_code == 200
    links = re.findall(link, page.content.decode())
    assert links
    hashes = set()
    for href in links:
        res = client.get(href)
        assert res.status_code == 200, href
        hashes.add(hashlib.sha256(b"".join(res.streaming_content)).hexdigest())
    return hashes


def bundled_files(path):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        manifest = json.loads(z.read("manifest.json"))
        for name in names:
            if name.startswith("files/"):
                assert hashlib.sha256(z.read(name)).hexdigest() == name.removeprefix("files/")
    return {n.removeprefix("files/") for n in names if n.startswith("files/")}, manifest


@pytest.mark.parametrize(
    ("reader", "page", "link"),
    [
        # The buyer's page: "Download" (own originals) and "Download the cleaned copy" (the seller's).
        ("bob", "/cases/{id}/", r'href="(/cases/\d+/evidence/\d+/[^"]*)" download'),
        # The agent's workspace: each item's sealed original (the clean copies are a preview of
        # what the other side sees, not evidence of their own).
        ("erin", "/agent/cases/{id}/", r'href="(/agent/evidence/\d+/)"'),
    ],
)
def test_a_bundle_holds_exactly_the_files_its_reader_opens_on_the_case_page(
    cast, case, tmp_path, reader, page, link
):
    client = as_user(getattr(cast, reader))

    files, manifest = bundled_files(download(client, case, tmp_path))

    assert files == openable_on_page(client, page.format(id=case.pk), link)
    # Every logged record of the case is there for both, with its proof: only files are withheld.
    case_leaves = set(LogLeaf.objects.filter(case_id=case.pk).values_list("ref", flat=True))
    assert case_leaves <= {i["ref"] for i in manifest["items"]}


def test_the_buyer_gets_no_call_records_of_the_seller_and_only_the_clean_copy_of_their_screenshot(
    cast, case, tmp_path
):
    calls = case.evidence.get(original_name="calls.csv")
    shot = case.evidence.get(original_name="chat.png")
    photo = case.evidence.get(original_name="wreath.png")

    buyer_path = download(as_user(cast.bob), case, tmp_path)
    files, manifest = bundled_files(buyer_path)
    report = verify_bundle(buyer_path)

    assert calls.sha256 not in files  # the page says: for the platform's agents only
    assert shot.sha256 not in files and shot.clean_blob_id in files
    assert photo.sha256 in files  # the buyer's own original
    entries = {i["ref"]: i for i in manifest["items"]}
    assert (
        entries[f"evidence:{calls.pk}"]["copy"] == "withheld"
        and "file" not in entries[f"evidence:{calls.pk}"]
    )
    assert entries[f"evidence:{shot.pk}"]["copy"] == "clean"
    # The withheld file's record still verifies; the clean copy is held against its logged hash.
    assert report.ok, report.problems
    assert any(n.startswith(f"evidence:{calls.pk}: its file is not in this bundle") for n in report.notes)
    assert report.checked_files == 3

    agent_files, _ = bundled_files(download(as_user(cast.erin), case, tmp_path))
    assert {calls.sha256, shot.sha256, photo.sha256} <= agent_files and shot.clean_blob_id not in agent_files


def test_the_seller_gets_no_bundle_and_is_offered_none(cast, case):
    seller = as_user(cast.alice)
    assert seller.get(f"/api/cases/{case.pk}/bundle").status_code == 403
    assert seller.get(f"/cases/{case.pk}/bundle/").status_code == 403
    page = seller.get(f"/seller/cases/{case.pk}/")
    assert page.status_code == 200 and b"/bundle/" not in page.content
