"""CSV import of orders and reviews, as a marketplace exports them.

Orders file columns (header row first; order does not matter, extra columns are ignored):

    platform, order_id, shop_id, shop_name, buyer_id, buyer_nickname, channel, title, amount,
    status, paid_at, trade_success_at

Reviews file columns:

    platform, order_id, review_id, rating, text, anonymous, posted_at

The file is read as a stream (any size), in UTF-8 with or without a byte-order mark; a file that is
not UTF-8 but valid GB18030 (what Excel on Chinese Windows saves) is read as GB18030. Times are
ISO-8601 with an offset (2026-09-25T10:00:00+08:00) or "YYYY-MM-DD HH:MM[:SS]" in Asia/Shanghai
local time. Rows are numbered as a spreadsheet shows them: the header is row 1.

Each row is written in its own transaction by one service call: a rejected row leaves nothing
behind, and importing the same file again changes nothing (its rows come back "unchanged").
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _

from reviewshield.errors import ImportRejected, ValidationFailed
from reviewshield.marketplace import services
from reviewshield.marketplace.services import Outcome

ORDER_COLUMNS = (
    "platform",
    "order_id",
    "shop_id",
    "shop_name",
    "buyer_id",
    "buyer_nickname",
    "channel",
    "title",
    "amount",
    "status",
    "paid_at",
    "trade_success_at",
)
ORDER_REQUIRED = ("platform", "order_id", "shop_id", "buyer_id", "amount", "status", "paid_at")
REVIEW_COLUMNS = ("platform", "order_id", "review_id", "rating", "text", "anonymous", "posted_at")
REVIEW_REQUIRED = ("platform", "order_id", "rating", "posted_at")

SNIFF_BYTES = 64 * 1024
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")
_TRUE = {"1", "true", "yes", "y", "是"}
_FALSE = {"", "0", "false", "no", "n", "否"}
_RATINGS = {"好评": "good", "中评": "neutral", "差评": "bad"}


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    encoding: str = "utf-8"
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0  # rows; a row can have several rejections
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged + self.rejected

    @property
    def all_accepted(self) -> bool:
        return self.rejected == 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, str(outcome), getattr(self, str(outcome)) + 1)

    def reject(self, row: int, errors: list[dict[str, str]]) -> None:
        self.rejected += 1
        self.rejections.extend(Rejection(row, e["field"], e["reason"]) for e in errors)


class _RowProblem(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


Progress = Callable[[int], None]


def orders_import(*, stream: IO[bytes], now: datetime, progress: Progress | None = None) -> ImportReport:
    """Import an orders CSV; return the report. `progress` is called with each number of bytes read.

    Raises ImportRejected when the file as a whole cannot be read (encoding, missing columns).
    """
    return _import(kind="orders", stream=stream, now=now, progress=progress, row_handler=_order_row)


def reviews_import(*, stream: IO[bytes], now: datetime, progress: Progress | None = None) -> ImportReport:
    """Import a reviews CSV; return the report. `progress` is called with each number of bytes read.

    Raises ImportRejected when the file as a whole cannot be read (encoding, missing columns).
    """
    return _import(kind="reviews", stream=stream, now=now, progress=progress, row_handler=_review_row)


RowHandler = Callable[[dict[str, str], datetime], Outcome]


def _import(
    *, kind: str, stream: IO[bytes], now: datetime, progress: Progress | None, row_handler: RowHandler
) -> ImportReport:
    head = stream.read(SNIFF_BYTES)
    encoding = _detect_encoding(head)
    report = ImportReport(kind=kind, encoding="gb18030" if encoding == "gb18030" else "utf-8")
    reader = csv.reader(_lines(io.BufferedReader(_Source(head, stream, progress)), encoding))
    required = ORDER_REQUIRED if kind == "orders" else REVIEW_REQUIRED
    known = ORDER_COLUMNS if kind == "orders" else REVIEW_COLUMNS
    row_number = 1
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRejected(_("The file is empty; it needs a header row."), details={"row": 1})
        columns = [h.strip().lower() for h in header]
        missing = [c for c in required if c not in columns]
        if missing:
            raise ImportRejected(
                _("The header row lacks these columns: %(missing)s. Expected columns: %(expected)s.")
                % {"missing": ", ".join(missing), "expected": ", ".join(known)},
                details={"row": 1, "missing": missing},
            )
        for row_number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # a blank line
            if len(values) != len(columns):
                report.reject(
                    row_number,
                    [
                        {
                            "field": "",
                            "reason": _("The row has %(got)d values but the header has %(expected)d columns.")
                            % {"got": len(values), "expected": len(columns)},
                        }
                    ],
                )
                continue
            record = {c: v.strip() for c, v in zip(columns, values, strict=True) if c in known}
            try:
                report.count(row_handler(record, now))
            except _RowProblem as problem:
                report.reject(row_number, [{"field": problem.column, "reason": problem.reason}])
            except ValidationFailed as exc:
                report.reject(row_number, _errors_of(exc))
    except UnicodeDecodeError:
        # Only the sniffed head was checked; the rest turned out not to be text in that encoding.
        report.reject(
            row_number + 1,
            [
                {
                    "field": "",
                    "reason": _(
                        "The file is not valid %(encoding)s text from this row on; nothing after it was imported."
                    )
                    % {"encoding": report.encoding.upper()},
                }
            ],
        )
    except csv.Error as exc:
        report.reject(
            row_number + 1,
            [
                {
                    "field": "",
                    "reason": _("The CSV is broken here (%(problem)s); nothing after it was imported.")
                    % {"problem": exc},
                }
            ],
        )
    return report


def _errors_of(exc: ValidationFailed) -> list[dict[str, str]]:
    errors = exc.details.get("errors")
    if errors:
        return [{"field": str(e["field"]), "reason": str(e["reason"])} for e in errors]
    return [{"field": str(exc.details.get("field", "")), "reason": str(exc.message)}]


def _lines(source: IO[bytes], encoding: str) -> Iterator[str]:
    """Decode line by line, so a decoding error points at its own row.

    Splitting the bytes at b"\\n" is safe: neither UTF-8 nor GB18030 uses that byte inside a character.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    for raw in source:
        yield decoder.decode(raw)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail


def _detect_encoding(head: bytes) -> str:
    """Pick the codec for the file from its first bytes: UTF-8 (BOM or not), else GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # final=False: the sniffed bytes may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and (b"\x00" in head):
            break
        return encoding
    raise ImportRejected(
        _("The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again."),
        details={"row": 1, "encoding": "unknown"},
    )


class _Source(io.RawIOBase):
    """The sniffed head followed by the rest of the stream, reporting bytes read to `progress`."""

    def __init__(self, head: bytes, rest: IO[bytes], progress: Progress | None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            data = self._rest.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        if self._progress is not None and n:
            self._progress(n)
        return n


# --- cells -------------------------------------------------------------------------------------


def _required(record: dict[str, str], column: str) -> str:
    value = record.get(column, "")
    if not value:
        raise _RowProblem(column, _("This column is empty."))
    return value


def _instant(record: dict[str, str], column: str, *, optional: bool = False) -> datetime | None:
    value = record.get(column, "")
    if not value:
        if optional:
            return None
        raise _RowProblem(column, _("This column is empty."))
    if not _INSTANT.match(value):
        raise _RowProblem(
            column,
            _(
                "“%(value)s” is not a time; write 2026-09-25 10:00 (Beijing time) or 2026-09-25T10:00:00+08:00."
            )
            % {"value": value},
        )
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise _RowProblem(column, _("“%(value)s” is not a date that exists.") % {"value": value}) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=ZoneInfo(settings.BUSINESS_TIME_ZONE))
    return instant


def _decimal(record: dict[str, str], column: str) -> Decimal:
    value = _required(record, column)
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _RowProblem(
            column, _("“%(value)s” is not an amount; write it like 59.00.") % {"value": value}
        ) from None
    if not amount.is_finite():
        raise _RowProblem(column, _("“%(value)s” is not an amount; write it like 59.00.") % {"value": value})
    return amount


def _flag(record: dict[str, str], column: str) -> bool:
    value = record.get(column, "").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _RowProblem(column, _("“%(value)s” is not yes or no; write true or false.") % {"value": value})


def _order_row(record: dict[str, str], now: datetime) -> Outcome:
    # Cells are parsed first so a row with a bad cell never reaches the database.
    platform = _required(record, "platform").lower()
    amount = _decimal(record, "amount")
    paid_at = _instant(record, "paid_at")
    trade_success_at = _instant(record, "trade_success_at", optional=True)
    assert paid_at is not None
    _order, outcome = services.order_upsert(
        platform=platform,
        external_id=record.get("order_id", ""),
        shop_external_id=record.get("shop_id", ""),
        shop_name=record.get("shop_name", ""),
        buyer_external_id=record.get("buyer_id", ""),
        buyer_nickname=record.get("buyer_nickname", ""),
        channel=record.get("channel", "").lower(),
        title=record.get("title", ""),
        amount=amount,
        status=record.get("status", "").lower(),
        paid_at=paid_at,
        trade_success_at=trade_success_at,
        now=now,
    )
    return outcome


def _review_row(record: dict[str, str], now: datetime) -> Outcome:
    platform = _required(record, "platform").lower()
    rating = _required(record, "rating")
    rating = _RATINGS.get(rating, rating.lower())
    anonymous = _flag(record, "anonymous")
    posted_at = _instant(record, "posted_at")
    assert posted_at is not None
    _review, outcome = services.review_upsert(
        platform=platform,
        order_external_id=record.get("order_id", ""),
        external_id=record.get("review_id", ""),
        rating=rating,
        text=record.get("text", ""),
        anonymous=anonymous,
        posted_at=posted_at,
        now=now,
    )
    return outcome
