"""The canonical encoding of a chat stretch: fixed bytes, read back exactly, malformed files named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from reviewshield.proofs.chatdigest import ExcerptError, Line, excerpt_bytes, excerpt_parse, excerpt_sha256

BEIJING = timezone(timedelta(hours=8))
LINES = [
    Line(
        "m1",
        "seller",
        datetime(2026, 11, 12, 9, 0, 0, 123456, tzinfo=BEIJING),
        "你好, 13800138000",
        ("ab" * 32,),
    ),
    Line("m2", "buyer", datetime(2026, 11, 12, 9, 5, tzinfo=BEIJING), 'The tea was "stale".\n', ()),
]


def test_the_encoding_and_its_hash_are_fixed():
    # Pinned: numbers made before the encoding moved to proofs/ must keep their hash.
    assert excerpt_bytes("taobao:C1", LINES).decode() == (
        '{"conversation":"taobao:C1","messages":[{"attachments":["' + "ab" * 32 + '"],"id":"m1",'
        '"sender":"seller","sent_at":"2026-11-12T01:00:00.123456Z","text":"你好, 13800138000"},'
        '{"attachments":[],"id":"m2","sender":"buyer","sent_at":"2026-11-12T01:05:00.000000Z",'
        '"text":"The tea was \\"stale\\".\\n"}]}'
    )
    assert (
        excerpt_sha256("taobao:C1", LINES)
        == "303cfc99f99ffc9f15483ce08aeaf1a73c167bc78744deb7dcf08acdd2b78b64"
    )


def test_the_bytes_read_back_to_the_same_messages_and_hash():
    conversation, lines = excerpt_parse(excerpt_bytes("taobao:C1", LINES))

    assert conversation == "taobao:C1"
    assert [(m.message_id, m.sent_at, m.text) for m in lines] == [
        (m.message_id, m.sent_at.astimezone(UTC), m.text) for m in LINES
    ]
    assert excerpt_sha256(conversation, lines) == excerpt_sha256("taobao:C1", LINES)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff{", "not valid UTF-8 JSON"),
        (b"[]", 'exactly "conversation" and "messages"'),
        (b'{"conversation":"c","messages":[],"note":"x"}', 'exactly "conversation" and "messages"'),
        (b'{"conversation":1,"messages":[]}', '"conversation" must be a string'),
        (b'{"conversation":"c","messages":[{"id":"m1"}]}', "message 1 is not an object with exactly"),
        (
            b'{"conversation":"c","messages":[{"attachments":[],"id":"m1","sender":"buyer",'
            b'"sent_at":"2026-11-12 01:00","text":"x"}]}',
            "message 1: sent_at is not a UTC time",
        ),
        (
            b'{"conversation":"c","messages":[{"attachments":[1],"id":"m1","sender":"buyer",'
            b'"sent_at":"2026-11-12T01:00:00.000000Z","text":"x"}]}',
            "message 1: id, sender, sent_at and text must be strings",
        ),
    ],
)
def test_malformed_stretches_are_refused_with_where(data, says):
    with pytest.raises(ExcerptError, match=says):
        excerpt_parse(data)
