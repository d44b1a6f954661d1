"""bundle_verify_s: check a bundle of 1,000 logged items (500 evidence files with their events) offline."""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from harness import Figures, figures, setup_django

FILES = 500  # each adds an evidence record and its event: 1,000 items, plus the filing


@figures("bundle_verify_s")
def bundle_verify() -> Figures:
    setup_django()
    from django.contrib.auth.hashers import make_password
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviewshield.accounts.models import Role, User
    from reviewshield.cases import services
    from reviewshield.evidence.bundles import bundle_build
    from reviewshield.evidence.intake import Upload
    from reviewshield.marketplace.models import Order, Platform, Shop
    from reviewshield.proofs.bundle import verify_bundle

    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 12, 9, 0, tzinfo=tz)
    taobao = Platform.objects.create(code="taobao", name_zh="淘宝", name_en="Taobao")
    buyer = User.objects.create(username="buyer", role=Role.BUYER, password=make_password("x"))
    shop = Shop.objects.create(platform=taobao, external_id="S1", name="Bench shop")
    order = Order.objects.create(
        platform=taobao, channel="taobao", shop=shop, buyer=buyer, external_id="O1", amount=Decimal("10"),
        status="trade_success", paid_at=now - timedelta(days=5), trade_success_at=now - timedelta(days=2),
    )  # fmt: skip
    case = services.case_file(
        buyer=buyer, order_id=order.pk, harassment_types=["other"], occurred_at=now, narrative="x", now=now
    )
    for start in range(0, FILES, 50):
        files = [
            # distinct 8 KB text statements (every file is sniffed and stored by its own hash)
            Upload(
                file=SimpleUploadedFile(f"f{i}", f"statement {i:06d} ".encode() * 512),
                name=f"f{i}.txt",
                kind="statement",
            )
            for i in range(start, start + 50)
        ]
        services.case_evidence_add(case_id=case.pk, user=buyer, files=files, now=now)
    path = Path(tempfile.mkdtemp()) / "bundle.zip"
    with bundle_build(case=case, now=now) as built:
        path.write_bytes(built.read())
    started = time.perf_counter()
    report = verify_bundle(path)
    elapsed = time.perf_counter() - started
    assert report.ok and report.checked_items >= 2 * FILES, report.problems[:3]
    return {"bundle_verify_s": (elapsed, "s")}
