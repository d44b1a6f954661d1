"""CSV import of orders and reviews, and the `import` command."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from reviewshield.deadlines.models import Deadline
from reviewshield.errors import ImportRejected
from reviewshield.marketplace.importing import Rejection, orders_import, reviews_import
from reviewshield.marketplace.models import Order, Review, Shop
from tests.conftest import local

ORDERS_HEADER = "platform,order_id,shop_id,shop_name,buyer_id,buyer_nickname,channel,title,amount,status,paid_at,trade_success_at\n"
GOOD_ORDERS = (
    ORDERS_HEADER
    + "taobao,T1,S1,Alice's Tea,tb_bob,bobby,taobao,Oolong tea,59.00,trade_success,2026-09-20 10:00,2026-09-25 10:00\n"
    + "taobao,T2,S5,新茶铺,tb_carol,小红,tmall,龙井 250 g,128.50,shipped,2026-09-21T09:30:00+08:00,\n"
    + "jd,J1,J1,Alice JD,jd_bob,,jd,Green tea,10,paid,2026-09-22T01:00:00Z,\n"
)
REVIEWS_HEADER = "platform,order_id,review_id,rating,text,anonymous,posted_at\n"


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def run_orders(text: str | bytes) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return orders_import(stream=io.BytesIO(data), now=timezone.now())


def run_reviews(text: str) -> Any:
    return reviews_import(stream=io.BytesIO(text.encode("utf-8")), now=timezone.now())


def test_a_good_orders_file_is_imported(cast: Any) -> None:
    report = run_orders(GOOD_ORDERS)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (3, 0, 0, 0)
    t1 = Order.objects.get(external_id="T1")
    assert t1.shop == cast.shop
    assert t1.trade_success_at == local(2026, 9, 25, 10, 0)  # naive times are Beijing time
    t2 = Order.objects.get(external_id="T2")
    assert (t2.channel, t2.title, t2.shop.name, t2.buyer.username) == (
        "tmall",
        "龙井 250 g",
        "新茶铺",
        "小红",
    )
    assert Deadline.objects.filter(order=t1, kind="review.automatic").count() == 1


def test_importing_the_same_file_again_changes_nothing(cast: Any) -> None:
    run_orders(GOOD_ORDERS)
    first = list(Order.objects.order_by("pk").values())

    report = run_orders(GOOD_ORDERS)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (0, 0, 3, 0)
    assert list(Order.objects.order_by("pk").values()) == first
    assert Deadline.objects.count() == 1


def test_a_changed_row_is_reported_as_updated(cast: Any) -> None:
    run_orders(GOOD_ORDERS)

    report = run_orders(GOOD_ORDERS.replace("128.50,shipped", "120.00,shipped"))

    assert (report.updated, report.unchanged) == (1, 2)


def test_bad_rows_are_reported_with_row_column_and_reason_and_nothing_is_half_written(cast: Any) -> None:
    text = (
        ORDERS_HEADER
        + "taobao,T1,S1,Alice's Tea,tb_bob,bobby,taobao,Tea,59.00,trade_success,2026-09-20 10:00,2026-09-25 10:00\n"
        + "taobao,T3,S9,Brand New Shop,tb_new,newbie,taobao,Tea,-5,paid,2026-09-20 10:00,\n"
        + "taobao,T4,S1,,tb_bob,,taobao,Tea,12.00,paid,yesterday,\n"
        + "amazon,T5,S1,,tb_bob,,,Tea,12.00,paid,2026-09-20 10:00,\n"
        + "taobao,T6,S1,,tb_bob\n"
        + "taobao,T7,S1,,tb_bob,,taobao,Tea,12.00,trade_success,2026-09-20 10:00,\n"
    )

    report = run_orders(text)

    assert (report.created, report.rejected) == (1, 5)
    assert report.rejections == [
        Rejection(3, "amount", "The amount cannot be negative."),
        Rejection(
            4,
            "paid_at",
            "“yesterday” is not a time; write 2026-09-25 10:00 (Beijing time) or 2026-09-25T10:00:00+08:00.",
        ),
        Rejection(5, "platform", "Unknown platform “amazon”."),
        Rejection(6, "", "The row has 5 values but the header has 12 columns."),
        Rejection(7, "trade_success_at", "An order in trade success needs its trade-success time."),
    ]
    # Row 3 would have created a shop and a buyer: they went with the rejected order.
    assert list(Order.objects.values_list("external_id", flat=True)) == ["T1"]
    assert not Shop.objects.filter(external_id="S9").exists()


def test_a_row_with_several_problems_lists_each(cast: Any) -> None:
    text = ORDERS_HEADER + "taobao,T8,S1,,tb_bob,,taobao,Tea,-1,lost,2026-09-20 10:00,\n"

    report = run_orders(text)

    assert [(r.row, r.column) for r in report.rejections] == [(2, "amount"), (2, "status")]
    assert report.rejected == 1


def test_utf8_with_bom_is_read(cast: Any) -> None:
    report = run_orders(b"\xef\xbb\xbf" + GOOD_ORDERS.encode("utf-8"))

    assert (report.created, report.rejected) == (3, 0)
    assert Shop.objects.filter(name="新茶铺").exists()


def test_gb18030_from_chinese_excel_is_read(cast: Any) -> None:
    report = run_orders(GOOD_ORDERS.encode("gb18030"))

    assert (report.encoding, report.created, report.rejected) == ("gb18030", 3, 0)
    assert Shop.objects.filter(name="新茶铺").exists()


def test_a_file_in_no_known_encoding_is_refused_clearly(cast: Any) -> None:
    with pytest.raises(ImportRejected) as exc:
        run_orders(GOOD_ORDERS.encode("utf-16"))

    assert "not UTF-8" in str(exc.value.message)
    assert Order.objects.count() == 0


def test_bad_bytes_after_the_sniffed_head_stop_the_import_with_a_clear_row(
    cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("reviewshield.marketplace.importing.SNIFF_BYTES", 16)
    bad = b"taobao,T3,S1,,tb_bob,,taobao,Tea,1.00,paid,2026-09-20 10:00,\n" + b"\xff\xfe broken\n"

    report = run_orders(GOOD_ORDERS.encode("utf-8") + bad)

    assert (report.created, report.rejected) == (4, 1)
    assert report.rejections[0].row == 6
    assert report.rejections[0].column == ""
    assert "not valid UTF-8 text from this row on" in report.rejections[0].reason
    assert Order.objects.count() == 4


def test_missing_columns_are_named(cast: Any) -> None:
    with pytest.raises(ImportRejected) as exc:
        run_orders("platform,order_id,amount\ntaobao,T1,5\n")

    assert exc.value.details["missing"] == ["shop_id", "buyer_id", "status", "paid_at"]


def test_reviews_are_imported_idempotently_and_cancel_the_automatic_review(cast: Any) -> None:
    run_orders(GOOD_ORDERS)
    text = (
        REVIEWS_HEADER
        + 'taobao,T1,R1,差评,"Stale, and\nthe seller called me 20 times",是,2026-09-26 08:00\n'
        + "taobao,T404,R2,good,,false,2026-09-26 08:00\n"
        + "taobao,T1,R1,bad,x,maybe,2026-09-26 08:00\n"
    )

    first = run_reviews(text)
    second = run_reviews(text)

    review = Review.objects.get()
    assert (review.rating, review.anonymous, review.text) == (
        "bad",
        True,
        "Stale, and\nthe seller called me 20 times",
    )
    assert review.posted_at == local(2026, 9, 26, 8, 0)
    assert (first.created, first.rejected) == (1, 2)
    assert (second.created, second.unchanged, second.rejected) == (0, 1, 2)
    # Rows count records, as a spreadsheet does: the two-line text is still row 2.
    assert [(r.row, r.column) for r in first.rejections] == [(3, "order_id"), (4, "anonymous")]
    assert not Deadline.objects.filter(order=review.order, done_at__isnull=True).exists()


# --- the command ------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_command_imports_a_good_file_and_exits_0(cast: Any, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()

    call_command("import", "orders", str(write(tmp_path, GOOD_ORDERS)), stdout=out, stderr=err)

    assert "3 rows: 3 created, 0 updated, 0 unchanged, 0 rejected." in out.getvalue()
    assert Order.objects.count() == 3


def test_command_prints_rejected_rows_writes_the_report_and_exits_1(cast: Any, tmp_path: Path) -> None:
    text = GOOD_ORDERS + "taobao,T9,S1,,tb_bob,,taobao,Tea,-5,paid,2026-09-20 10:00,\n"
    report_path = tmp_path / "rejected.csv"
    out = io.StringIO()

    with pytest.raises(CommandError) as exc:
        call_command(
            "import",
            "orders",
            str(write(tmp_path, text)),
            "--report",
            str(report_path),
            stdout=out,
            stderr=io.StringIO(),
        )

    assert exc.value.returncode == 1
    assert "Rows rejected: 1." in str(exc.value)
    printed = out.getvalue()
    assert "4 rows: 3 created, 0 updated, 0 unchanged, 1 rejected." in printed
    assert "row  column  reason" in printed
    assert "  5  amount  The amount cannot be negative." in printed
    with open(report_path, encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [
            ["row", "column", "reason"],
            ["5", "amount", "The amount cannot be negative."],
        ]


def test_command_exits_2_on_an_unreadable_file(cast: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as missing:
        call_command(
            "import", "orders", str(tmp_path / "nope.csv"), stdout=io.StringIO(), stderr=io.StringIO()
        )
    with pytest.raises(CommandError) as no_columns:
        call_command(
            "import",
            "reviews",
            str(write(tmp_path, "a,b\n1,2\n")),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )

    assert missing.value.returncode == 2 and "nope.csv" in str(missing.value)
    assert no_columns.value.returncode == 2 and "order_id" in str(no_columns.value)


def test_command_reimport_reports_unchanged(cast: Any, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_ORDERS)
    call_command("import", "orders", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    out = io.StringIO()

    call_command("import", "orders", str(path), stdout=out, stderr=io.StringIO())

    assert "3 rows: 0 created, 0 updated, 3 unchanged, 0 rejected." in out.getvalue()


def test_progress_is_reported_in_bytes(cast: Any) -> None:
    seen: list[int] = []
    data = GOOD_ORDERS.encode("utf-8")

    orders_import(stream=io.BytesIO(data), now=timezone.now(), progress=seen.append)

    assert sum(seen) == len(data)


def test_a_large_file_streams_through(cast: Any) -> None:
    rows = "".join(
        f"taobao,X{i},S1,,tb_buyer{i % 7},,taobao,Tea,1.00,paid,2026-09-20 10:00,\n" for i in range(300)
    )
    data = (ORDERS_HEADER + rows).encode("utf-8")
    seen: list[int] = []

    report = orders_import(stream=io.BytesIO(data), now=timezone.now(), progress=seen.append)

    assert (report.created, report.rejected) == (300, 0)
    assert sum(seen) == len(data)
