"""Signing: what we sign verifies, anything changed does not, stale timestamps are refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewshield.webhooks import signing

T = 1_793_000_000

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(
    secret=st.text(min_size=1, max_size=64),
    timestamp=st.integers(0, 2**36),
    data=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    event=st.sampled_from(["case.decided", "sanction.applied"]),
)
def test_what_we_sign_verifies(secret: str, timestamp: int, data: dict, event: str) -> None:
    body = signing.webhook_body(
        event_id="e-1", event=event, created_at=datetime(2026, 1, 1, tzinfo=UTC), data=data
    )
    headers = signing.signed_headers(
        secret=secret, event=event, delivery_id="e-1", timestamp=timestamp, body=body
    )
    assert signing.verify(secret, headers["X-ReviewShield-Timestamp"], body, headers["X-ReviewShield-Signature"],
                          now_unix=timestamp)  # fmt: skip
    assert signing.verify(
        secret, timestamp, body, headers["X-ReviewShield-Signature"], now_unix=timestamp + 300
    )


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"a":1}'
    expected = hmac.new(b"s3cret", b"1793000000." + body, hashlib.sha256).hexdigest()
    assert signing.sign("s3cret", T, body) == "sha256=" + expected


def test_body_is_canonical_json() -> None:
    body = signing.webhook_body(
        event_id="0b7c",
        event="case.decided",
        created_at=datetime(2026, 11, 12, 9, 0, tzinfo=timezone(timedelta(hours=8))),
        data={"z": 1, "a": "店铺"},
    )
    assert (
        body
        == (
            '{"created_at":"2026-11-12T01:00:00Z","data":{"a":"店铺","z":1},"event":"case.decided","id":"0b7c"}'
        ).encode()
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        signing.utc_iso(datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s, t, b, h: ("other", t, b, h), id="other secret"),
        pytest.param(lambda s, t, b, h: (s, t + 1, b, h), id="other timestamp"),
        pytest.param(lambda s, t, b, h: (s, t, b + b" ", h), id="body grew"),
        pytest.param(lambda s, t, b, h: (s, t, b.replace(b"upheld", b"reject"), h), id="body changed"),
        pytest.param(
            lambda s, t, b, h: (s, t, b, h[:-1] + ("0" if h[-1] != "0" else "1")), id="signature changed"
        ),
        pytest.param(lambda s, t, b, h: (s, t, b, h.removeprefix("sha256=")), id="no scheme"),
        pytest.param(lambda s, t, b, h: (s, t, b, "sha1=" + h[7:]), id="other scheme"),
        pytest.param(lambda s, t, b, h: (s, t, b, ""), id="no signature"),
        pytest.param(lambda s, t, b, h: (s, "", b, h), id="no timestamp"),
        pytest.param(lambda s, t, b, h: (s, "1e9", b, h), id="timestamp not digits"),
        pytest.param(lambda s, t, b, h: (s, "9" * 5000, b, h), id="huge timestamp"),
        pytest.param(lambda s, t, b, h: (s, t, b, h + "é"), id="non-ascii signature"),
    ],
)
def test_any_change_fails_verification(tamper) -> None:
    body = b'{"data":{"outcome":"upheld"}}'
    header = signing.sign("s3cret", T, body)
    assert signing.verify("s3cret", str(T), body, header, now_unix=T)
    secret, timestamp, body2, header2 = tamper("s3cret", T, body, header)
    assert not signing.verify(secret, timestamp if isinstance(timestamp, str) else str(timestamp), body2, header2,
                              now_unix=T)  # fmt: skip


@pytest.mark.parametrize(("skew", "ok"), [(-301, False), (-300, True), (0, True), (300, True), (301, False)])
def test_timestamps_older_or_newer_than_the_tolerance_are_refused(skew: int, ok: bool) -> None:
    body = b"{}"
    assert signing.verify("k", str(T), body, signing.sign("k", T, body), now_unix=T + skew) is ok
    assert signing.verify("k", T, body, signing.sign("k", T, body), now_unix=T + 60, tolerance=59) is False
