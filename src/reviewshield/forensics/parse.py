"""Streaming readers for phone exports: Android "SMS Backup & Restore" XML and our documented CSV.

PURE: no Django, no clock. The reader takes any binary stream (a file, a stored blob) and yields
`Record`s in batches, never holding more than one chunk of the file and the batch built from it.

Formats, told apart by their first bytes:

- ``sms.xml`` — ``<smses count="N"><sms address date type body contact_name …/> … </smses>``;
  `date` in milliseconds since the epoch; `type` 1 received, 2 sent, 3 draft (skipped), 4 outbox,
  5 failed, 6 queued (all "out"). ``<mms>`` elements (with their parts) are counted, not read.
- ``calls.xml`` — ``<calls count="N"><call number duration date type contact_name …/> … </calls>``;
  `type` 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked (7+ "other").
  `contact_name` absent or "(Unknown)": a number not in the buyer's address book.
- CSV (UTF-8, a header row, any column order; extra columns are ignored)::

      kind,at,number,direction,duration_s,body,contact
      sms,2026-04-15T21:03:00+08:00,10690000123,in,,【美团】您的验证码是 483920,
      call,1776258180000,13800138000,rejected,0,,

  `kind` "sms" or "call"; `at` ISO-8601 (without an offset it is read in the export's time
  zone, Asia/Shanghai unless told otherwise) or epoch milliseconds; `number` the other party;
  `direction` "in" / "out" for an SMS, for a call "in", "out", "missed", "rejected", "blocked" or
  "voicemail"; `duration_s` seconds (calls, optional); `body` the SMS text (optional);
  `contact` the address-book name, empty for an unknown number (optional). The first four
  columns are required.

Refused with an `ExportError` (a stable code and its parameters; `text.error_text` renders them):

    dtd_refused       the XML has a DOCTYPE (external entities, "billion laughs" need one)
    entity_refused    an entity declaration, or a reference to an entity XML does not predefine
    encoding          not UTF-8 (UTF-16/32 without a declaration, latin-1 or GBK bytes, …)
    truncated         the file ends in the middle (no closing root element)
    malformed         not well-formed XML (line and expat's reason)
    not_phone_export  XML whose root is neither <smses> nor <calls>, or neither XML nor CSV
    csv_missing_column  the CSV header lacks a required column
    bad_date          a record's time is not a time between 2000 and 2100 (line and value)
    bad_attribute     a record's type, direction, duration or kind is not one we know (line, name, value)
    no_records        the file holds no SMS and no call

Why expat and not defusedxml or lxml: defusedxml's `iterparse` builds an Element per record
through the Python-level ElementTree machinery; on a 1,000,000-SMS export it took 12.9 s against
7.5 s for expat with one Python callback per record (ordered attributes). lxml (which
reference/components.md suggests, at 207 k records/s) was measured on the benchmark's own
sms.xml (560,000 SMS, 173 MB, one core): `iterparse(tag="sms")` reading five attributes and
clearing as it goes 212 k records per CPU second, `XMLPullParser` 178 k, building the tree and
reading the attributes with XPath per chunk 110 k — against 260 k for expat calling an empty
Python function per element (300 k with `intern=None`), and expat does the whole analysis at
about 220 k. libxml2 builds a node for every element before Python sees it; expat hands over
the attributes and nothing else. So we use `xml.parsers.expat` directly (no new dependency)
and apply defusedxml's refusals ourselves: a DOCTYPE, an entity declaration, an unparsed entity
or an external entity reference raises in its handler, and parameter entities are never parsed.
With no DTD there is nothing to expand, so neither "billion laughs" nor XXE can happen; an
undefined entity reference is an expat error we map to `entity_refused`.

The analysis reads through `ExportReader.scan(visit)`: one Python call per element is the floor
with expat, so the handler does all the checking and counting itself and calls `visit` only for
what the buyer received, with plain values (no `Record`, no list per batch); `batches()` (tests,
tools) builds `Record`s on top of the same handler, so both read exactly the same.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, tzinfo
from operator import itemgetter
from typing import IO, Any, Final
from xml.parsers import expat

from reviewshield.forensics.records import CALL, IN, OUT, SMS, Record

CHUNK: Final = 1 << 20
MIN_MS: Final = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_MS: Final = 4_102_444_800_000  # 2100-01-01T00:00:00Z
MAX_RECORD_BYTES: Final = 1 << 20  # one record read back for a finding: bodies are short, this is ample

FORMAT_SMS_XML: Final = "sms_xml"
FORMAT_CALLS_XML: Final = "calls_xml"
FORMAT_CSV: Final = "csv"

CSV_COLUMNS: Final = ("kind", "at", "number", "direction", "duration_s", "body", "contact")
CSV_REQUIRED: Final = ("kind", "at", "number", "direction")

_SMS_DIRECTION: Final[dict[str, str | None]] = {
    "1": IN,
    "2": OUT,
    "3": None,  # a draft was never sent
    "4": OUT,
    "5": OUT,
    "6": OUT,
}
_CALL_TYPE: Final = {
    "1": (IN, "incoming"),
    "2": (OUT, "outgoing"),
    "3": (IN, "missed"),
    "4": (IN, "voicemail"),
    "5": (IN, "rejected"),
    "6": (IN, "blocked"),
}
_CSV_SMS_DIRECTION: Final = {"in": IN, "received": IN, "out": OUT, "sent": OUT}
_CSV_CALL_TYPE: Final = {
    "in": (IN, "incoming"),
    "incoming": (IN, "incoming"),
    "out": (OUT, "outgoing"),
    "outgoing": (OUT, "outgoing"),
    "missed": (IN, "missed"),
    "voicemail": (IN, "voicemail"),
    "rejected": (IN, "rejected"),
    "blocked": (IN, "blocked"),
    "refused": (IN, "blocked"),
}
# What SMS Backup & Restore (and a few other exporters) write for a number not in the address book.
_UNKNOWN_CONTACT: Final = frozenset(
    {"", "(Unknown)", "(unknown)", "Unknown", "unknown", "null", "(未知)", "未知"}
)
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_UTF8_NAMES: Final = frozenset({"utf-8", "utf8"})
_ROOTS: Final = {"smses": FORMAT_SMS_XML, "calls": FORMAT_CALLS_XML}
_TRUNCATION_ERRORS: Final = frozenset(
    {
        expat.errors.codes[expat.errors.XML_ERROR_NO_ELEMENTS],
        expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_TOKEN],
        expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
        expat.errors.codes[expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION],
    }
)
_ENTITY_ERRORS: Final = frozenset(
    {
        expat.errors.codes[expat.errors.XML_ERROR_UNDEFINED_ENTITY],
        expat.errors.codes[expat.errors.XML_ERROR_RECURSIVE_ENTITY_REF],
        expat.errors.codes[expat.errors.XML_ERROR_EXTERNAL_ENTITY_HANDLING],
        expat.errors.codes[expat.errors.XML_ERROR_ENTITY_DECLARED_IN_PE],
    }
)
_ENCODING_ERRORS: Final = frozenset(
    {
        expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN],
        expat.errors.codes[expat.errors.XML_ERROR_PARTIAL_CHAR],
        expat.errors.codes[expat.errors.XML_ERROR_BAD_CHAR_REF],
    }
)


class ExportError(Exception):
    """The file cannot be read as a phone export; `code` and `params` say why (see the module doc)."""

    def __init__(self, code: str, **params: str | int) -> None:
        self.code = code
        self.params: dict[str, str | int] = params
        super().__init__(code, params)

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.code} ({details})" if details else self.code


class _Found(Exception):
    """Raised from a handler to stop expat once the one wanted record is read."""


def _refuse(code: str) -> Any:
    def handler(*_args: Any) -> None:
        raise ExportError(code)

    return handler


def _hardened_parser() -> Any:
    """An expat parser that refuses what defusedxml refuses: DTDs, entity declarations, external
    entities. The encoding is forced to UTF-8 (a declaration of anything else was refused before)."""
    # intern=None: expat would look every attribute name up in a dict to share one string per
    # name; making a fresh short string is cheaper (about 15% of expat's time on an SMS export).
    parser = expat.ParserCreate(encoding="utf-8", intern=None)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse("dtd_refused")
    parser.EntityDeclHandler = _refuse("entity_refused")
    parser.UnparsedEntityDeclHandler = _refuse("entity_refused")
    parser.ExternalEntityRefHandler = _refuse("entity_refused")
    parser.ordered_attributes = True  # a flat list: cheaper than a dict per record
    return parser


def _check_head(head: bytes) -> None:
    """Refuse what is certainly not UTF-8 before parsing anything."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise ExportError("encoding", found="UTF-32")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4096]:
        # UTF-16 without a byte-order mark shows as every other byte being NUL.
        raise ExportError("encoding", found="UTF-16")


def _is_xml(head: bytes) -> bool:
    return head.lstrip(codecs.BOM_UTF8).lstrip().startswith(b"<")


def _utf8_at(window: bytes) -> bool:
    """Whether the bytes where expat stopped start valid UTF-8 (else the file is in another encoding)."""
    if not window:
        return True
    for end in range(min(4, len(window)), 0, -1):
        try:
            window[:end].decode("utf-8")
            return True
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                return False
    return False


def _ms(value: str | None, line: int) -> int:
    try:
        at = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ExportError("bad_date", line=line, value=(value or "")[:40]) from None
    if not MIN_MS <= at < MAX_MS:
        raise ExportError("bad_date", line=line, value=str(value)[:40])
    return at


_SMS_FIELDS: Final = ("date", "type", "address", "body", "contact_name")
_CALL_FIELDS: Final = ("date", "type", "number", "duration", "contact_name")
# What an absent attribute reads as: no date is a bad date, no type is type 1, no contact unknown.
_SMS_ABSENT: Final = ("", "1", "", "", "")
_CALL_ABSENT: Final = ("", "1", "", "0", "")

Visit = Callable[[str, int, str, str, str, int, str, str], None]
"""Called with one record's fields, in `Record` order (kind, at_ms, number, direction, call_type,
duration_s, body, contact)."""

_Layout = tuple[Callable[[list[str]], Any], Any, Callable[[list[str]], Sequence[str]]]


def _layout(names: list[str], fields: Sequence[str], absent: Sequence[str]) -> _Layout:
    """How to check and read one attribute order: (names getter, the names it must return, values
    getter). When every field is there, checking the names at the fields' own positions is enough
    (XML forbids an attribute twice); when one is absent, the whole order must match, and the
    absent field reads as its `absent` value."""
    positions = [2 * names.index(f) + 1 if f in names else -1 for f in fields]
    if all(i >= 0 for i in positions):
        return itemgetter(*(i - 1 for i in positions)), tuple(fields), itemgetter(*positions)

    def some_absent(attrs: list[str]) -> Sequence[str]:
        return [attrs[i] if i >= 0 else default for i, default in zip(positions, absent, strict=True)]

    return itemgetter(slice(0, None, 2)), names, some_absent


class _Totals:
    """What the record handler counted: SMS, calls, the first and last instant (ms)."""

    __slots__ = ("calls", "first_ms", "last_ms", "sms")

    def __init__(self) -> None:
        self.sms = self.calls = 0
        self.first_ms = MAX_MS
        self.last_ms = MIN_MS - 1


def _record_handler(
    parser: Any,
    visit: Visit,
    other: Callable[[str, list[str]], None],
    *,
    received_only: bool,
) -> tuple[Callable[[str, list[str]], None], Callable[[], _Totals]]:
    """expat's start-element handler: an <sms> or <call> is checked, counted and its fields passed
    to `visit` (only if the buyer received it, when `received_only`); any other element goes to
    `other`. Also returns a function giving the counts so far.

    This is the hot loop — once per record, a million times for a large export — and expat's own
    work is most of the rest, so every operation here counts: an exporter writes every element of
    a kind with its attributes in one order, so their positions are worked out once and after that
    only checked (two `itemgetter` calls: the names at those positions, then the values); no object
    is built per record (the caller decides what to keep); counts live in closure cells; an SMS
    the buyer sent is only counted. The line number and byte offset are asked of expat only when
    needed (expat counts lines slowly)."""
    sms_direction, call_types, unknown = _SMS_DIRECTION, _CALL_TYPE, _UNKNOWN_CONTACT
    # A first guess at each layout; the first record that does not fit it sets the real one.
    sms_names, sms_expected, sms_values = _layout(list(_SMS_FIELDS), _SMS_FIELDS, _SMS_ABSENT)
    call_names, call_expected, call_values = _layout(list(_CALL_FIELDS), _CALL_FIELDS, _CALL_ABSENT)
    sms = calls = 0
    first, last = MAX_MS, MIN_MS - 1
    min_ms, max_ms = MIN_MS, MAX_MS

    def fail(code: str, **params: str | int) -> ExportError:
        return ExportError(code, line=parser.CurrentLineNumber, **params)

    def bad_date(date: str) -> ExportError:
        return fail("bad_date", value=date[:40])

    def handle(name: str, attrs: list[str]) -> None:
        nonlocal sms, calls, first, last
        nonlocal sms_names, sms_expected, sms_values, call_names, call_expected, call_values
        if name == "sms":
            try:
                if sms_names(attrs) != sms_expected:
                    raise LookupError
            except LookupError:  # another attribute order (an IndexError is one too)
                sms_names, sms_expected, sms_values = _layout(attrs[::2], _SMS_FIELDS, _SMS_ABSENT)
            date, kind, number, body, contact = sms_values(attrs)
            try:
                at = int(date)
            except ValueError:
                raise bad_date(date) from None
            if not min_ms <= at < max_ms:
                raise bad_date(date)
            direction = sms_direction.get(kind)
            if direction is None:
                if kind in sms_direction:
                    return  # a draft was never sent
                raise fail("bad_attribute", name="type", value=kind[:20])
            sms += 1
            if at < first:
                first = at
            if at > last:
                last = at
            if direction is IN or not received_only:
                if contact in unknown:
                    contact = ""
                visit(SMS, at, number, direction, "", 0, body, contact)
        elif name == "call":
            try:
                if call_names(attrs) != call_expected:
                    raise LookupError
            except LookupError:
                call_names, call_expected, call_values = _layout(attrs[::2], _CALL_FIELDS, _CALL_ABSENT)
            date, kind, number, duration, contact = call_values(attrs)
            try:
                at = int(date)
            except ValueError:
                raise bad_date(date) from None
            if not min_ms <= at < max_ms:
                raise bad_date(date)
            pair = call_types.get(kind)
            if pair is None:
                if not kind.isdigit():
                    raise fail("bad_attribute", name="type", value=kind[:20])
                pair = (IN, "other")
            try:
                seconds = int(duration or 0)
            except ValueError:
                raise fail("bad_attribute", name="duration", value=duration[:20]) from None
            calls += 1
            if at < first:
                first = at
            if at > last:
                last = at
            direction, call_type = pair
            if direction is IN or not received_only:
                if contact in unknown:
                    contact = ""
                visit(CALL, at, number, direction, call_type, seconds, "", contact)
        else:
            other(name, attrs)

    def totals() -> _Totals:
        counted = _Totals()
        counted.sms, counted.calls, counted.first_ms, counted.last_ms = sms, calls, first, last
        return counted

    return handle, totals


class ExportReader:
    """Read one export from a binary stream: `scan(visit)` hands each record's fields to `visit`
    (the analysis), `for records, offsets in reader.batches()` gives `Record`s in batches.

    `offsets` are the byte offsets where each record starts, so `records_at` can read a few of
    them back later without keeping them; during `scan`, `offset()` is the current record's.
    After reading: `format`, `mms` (MMS counted, not read), `declared_count` (the XML's own
    `count`, if any), `records` (how many were read: `sms` + `calls`), and `first_ms` / `last_ms`.
    `tz` is the zone a CSV time without an offset is read in.
    """

    def __init__(self, stream: IO[bytes], *, tz: tzinfo) -> None:
        self.stream = stream
        self.tz = tz
        self.format = ""
        self.mms = 0
        self.declared_count: int | None = None
        self.records = 0
        self.sms = 0
        self.calls = 0
        self.first_ms = MAX_MS
        self.last_ms = MIN_MS - 1
        self._offset: Callable[[], int] = lambda: -1
        self._columns: dict[str, int] = {}

    def __iter__(self) -> Iterator[Record]:
        for records, _offsets in self.batches():
            yield from records

    def batches(self) -> Iterator[tuple[list[Record], list[int]]]:
        out: list[Record] = []
        offsets: list[int] = []
        new, add, add_offset = tuple.__new__, out.append, offsets.append

        def visit(*fields: Any) -> None:
            add(new(Record, fields))
            add_offset(self.offset())

        for _ in self._read(visit, received_only=False):
            if out:
                yield list(out), list(offsets)
                out.clear()
                offsets.clear()

    def scan(self, visit: Visit, *, received_only: bool = True) -> None:
        """Read the whole export, calling `visit` for each record — only for those the buyer
        received (an SMS in, a call that came in) when `received_only`; every record is counted.

        The fast path for the analysis: no `Record` is built. `offset()` is the byte offset of
        the record being visited, to keep for reading it back."""
        for _ in self._read(visit, received_only=received_only):
            pass

    def offset(self) -> int:
        """The byte offset where the record being visited starts (during `scan` or `batches`)."""
        return self._offset()

    def _read(self, visit: Visit, *, received_only: bool) -> Iterator[None]:
        """Read the export, yielding after each chunk (so `batches` can hand over what it built)."""
        head = self.stream.read(CHUNK)
        if not head.strip():
            raise ExportError("no_records")
        _check_head(head)
        if _is_xml(head):
            declared = _DECLARED_ENCODING.match(head.lstrip(codecs.BOM_UTF8))
            if declared and declared.group(1).decode("ascii").lower() not in _UTF8_NAMES:
                raise ExportError("encoding", found=declared.group(1).decode("ascii")[:20])
            yield from self._xml(head, visit, received_only)
        else:
            self.format = FORMAT_CSV
            yield from self._csv(head, visit, received_only)
        if self.records == 0:
            raise ExportError("no_records", mms=self.mms)

    def _counted(self, totals: _Totals) -> None:
        self.sms, self.calls = totals.sms, totals.calls
        self.records = totals.sms + totals.calls
        self.first_ms, self.last_ms = totals.first_ms, totals.last_ms

    # -- XML ---------------------------------------------------------------------------------

    def _xml(self, head: bytes, visit: Visit, received_only: bool) -> Iterator[None]:
        parser = _hardened_parser()
        root: list[str] = []

        def start(name: str, attrs: list[str]) -> None:
            if name == "mms":
                self.mms += 1
            elif not root:
                if name not in _ROOTS:
                    raise ExportError("not_phone_export", root=name[:40])
                root.append(name)
                self.format = _ROOTS[name]
                for i in range(0, len(attrs), 2):
                    if attrs[i] == "count" and attrs[i + 1].strip().isdigit():
                        self.declared_count = int(attrs[i + 1])

        parser.StartElementHandler, totals = _record_handler(
            parser, visit, start, received_only=received_only
        )
        self._offset = lambda: int(parser.CurrentByteIndex)
        previous = b""
        chunk_start = 0
        data = head
        while True:
            final = not data
            try:
                parser.Parse(data, final)
            except expat.ExpatError as exc:
                raise self._xml_error(
                    exc, parser, previous + data, chunk_start - len(previous), final
                ) from None
            self._counted(totals())
            yield None
            if final:
                break
            previous = data[-8:]
            chunk_start += len(data)
            data = self.stream.read(CHUNK)
        if not root:
            raise ExportError("not_phone_export", root="")

    @staticmethod
    def _xml_error(exc: expat.ExpatError, parser: Any, window: bytes, start: int, final: bool) -> ExportError:
        message = expat.errors.messages[exc.code]
        line = exc.lineno
        if exc.code in _ENTITY_ERRORS:
            return ExportError("entity_refused", line=line)
        if exc.code in _ENCODING_ERRORS:
            at = parser.ErrorByteIndex - start
            if 0 <= at < len(window) and not _utf8_at(window[at : at + 4]):
                return ExportError("encoding", found="", line=line)
        if final and exc.code in _TRUNCATION_ERRORS:  # expat reports these only once told the data ended
            return ExportError("truncated", line=line)
        return ExportError("malformed", line=line, reason=message[:80])

    # -- CSV ---------------------------------------------------------------------------------

    def _csv_lines(self, head: bytes, start: int) -> Iterator[tuple[int, int, str]]:
        """(byte offset, line number, text) of each CSV record, joining lines inside quoted fields."""
        buffer = head
        offset = start
        line_no = 0
        pending: list[bytes] = []
        pending_offset = offset
        quotes = 0
        while True:
            lines = buffer.splitlines(keepends=True)
            tail = b""
            more = self.stream.read(CHUNK) if buffer else b""
            if more and lines and not lines[-1].endswith((b"\n", b"\r")):
                tail = lines.pop()
            for raw in lines:
                line_no += 1
                if not pending:
                    pending_offset = offset
                pending.append(raw)
                offset += len(raw)
                quotes += raw.count(b'"')
                if quotes % 2:
                    continue  # a quoted field goes on in the next line
                joined = b"".join(pending)
                pending, quotes = [], 0
                try:
                    text = joined.decode("utf-8")
                except UnicodeDecodeError:
                    raise ExportError("encoding", found="", line=line_no) from None
                yield pending_offset, line_no, text
            if not more and not tail:
                break
            buffer = tail + more
        if pending:
            raise ExportError("truncated", line=line_no)

    def _csv(self, head: bytes, visit: Visit, received_only: bool) -> Iterator[None]:
        skip = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        lines = self._csv_lines(head[skip:], skip)
        header_line = next(lines, None)
        if header_line is None:
            raise ExportError("no_records")
        header = [h.strip().lower() for h in next(csv.reader([header_line[2]]))]
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            if len(missing) == len(CSV_REQUIRED):  # not one of our columns: some other file
                raise ExportError("not_phone_export", root="")
            raise ExportError("csv_missing_column", column=", ".join(missing))
        self._columns = {name: header.index(name) for name in CSV_COLUMNS if name in header}
        totals = _Totals()
        record_offset = 0
        self._offset = lambda: record_offset
        for n, (offset, line_no, text) in enumerate(lines, 1):
            if not text.strip():
                continue
            record = self._csv_record(text, line_no)
            if record.kind == SMS:
                totals.sms += 1
            else:
                totals.calls += 1
            totals.first_ms = min(totals.first_ms, record.at_ms)
            totals.last_ms = max(totals.last_ms, record.at_ms)
            if record.direction == IN or not received_only:
                record_offset = offset
                visit(*record)
            if n % 4096 == 0:
                self._counted(totals)
                yield None
        self._counted(totals)
        yield None

    def _csv_record(self, text: str, line: int) -> Record:
        row = next(csv.reader([text]))
        columns = self._columns

        def cell(name: str) -> str:
            index = columns.get(name)
            value = row[index] if index is not None and index < len(row) else ""
            return value if name in ("body", "number", "contact") else value.strip()  # texts as written

        kind = cell("kind").lower()
        if kind not in (SMS, CALL):
            raise ExportError("bad_attribute", line=line, name="kind", value=kind[:20])
        at = self._csv_time(cell("at"), line)
        direction = cell("direction").lower()
        contact = cell("contact")
        if contact.strip() in _UNKNOWN_CONTACT:
            contact = ""
        if kind == SMS:
            sms_direction = _CSV_SMS_DIRECTION.get(direction)
            if sms_direction is None:
                raise ExportError("bad_attribute", line=line, name="direction", value=direction[:20])
            return Record(SMS, at, cell("number"), sms_direction, "", 0, cell("body"), contact)
        pair = _CSV_CALL_TYPE.get(direction)
        if pair is None:
            raise ExportError("bad_attribute", line=line, name="direction", value=direction[:20])
        raw_duration = cell("duration_s") or "0"
        try:
            duration = int(float(raw_duration))
        except ValueError:
            raise ExportError(
                "bad_attribute", line=line, name="duration_s", value=raw_duration[:20]
            ) from None
        return Record(CALL, at, cell("number"), pair[0], pair[1], duration, "", contact)

    def _csv_time(self, value: str, line: int) -> int:
        if value.isdigit():
            return _ms(value, line)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ExportError("bad_date", line=line, value=value[:40]) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.tz)
        return _ms(str(int(parsed.astimezone(UTC).timestamp() * 1000)), line)

    # -- reading back ------------------------------------------------------------------------

    def records_at(self, stream: IO[bytes], offsets: Sequence[int]) -> dict[int, Record]:
        """Read the records starting at these byte offsets again (the records behind findings).

        Each is read through a window that starts at 4 KB and grows only for a record that is
        longer: a few hundred records cost a few hundred small reads, never a copy of the file."""
        found: dict[int, Record] = {}
        for offset in sorted(set(offsets)):
            size = 4096
            while True:
                stream.seek(offset)
                data = stream.read(size)
                at_end = len(data) < size
                record = self._csv_at(data, at_end) if self.format == FORMAT_CSV else self._xml_at(data)
                if record is not None:
                    found[offset] = record
                    break
                if at_end or size >= MAX_RECORD_BYTES:
                    raise ExportError("malformed", line=0, reason="a record could not be read again")
                size *= 4
        return found

    @staticmethod
    def _xml_at(data: bytes) -> Record | None:
        """The <sms> or <call> at the start of `data`; None when its start tag is not all there."""
        parser = _hardened_parser()
        got: list[Record] = []

        def found(*fields: Any) -> None:
            got.append(Record(*fields))
            raise _Found

        parser.StartElementHandler, _totals = _record_handler(
            parser, found, lambda _n, _a: None, received_only=False
        )
        with contextlib.suppress(_Found, expat.ExpatError):
            parser.Parse(data, False)
        return got[0] if got else None

    def _csv_at(self, data: bytes, at_end: bool) -> Record | None:
        """The CSV record at the start of `data`; None when its last line is not all there."""
        end = 0
        while True:
            newline = data.find(b"\n", end)
            if newline < 0:
                if not at_end:
                    return None
                end = len(data)
                break
            end = newline + 1
            if data[:end].count(b'"') % 2 == 0:
                break
        return self._csv_record(data[:end].decode("utf-8"), 0)
