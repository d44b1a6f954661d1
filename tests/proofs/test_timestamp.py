"""RFC 3161 timestamp checks (proofs.timestamp) on real OpenSSL timestamps, with and without rfc3161-client."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings

import pytest
from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

from reviewshield.proofs.timestamp import TimestampError, check_timestamp, have_rfc3161_client
from tests.tsa import Tsa, make_root

NOTE = "reviewshield.local/evidence\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n— reviewshield.local/evidence AAAA\n".encode()


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    return Tsa(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def token(tsa):
    """(request, OpenSSL's DER response) for NOTE."""
    request = TimestampRequestBuilder().data(NOTE).hash_algorithm(HashAlgorithm.SHA256).build()
    return request, tsa.reply(request.as_bytes())


@pytest.fixture
def without_library(monkeypatch):
    """An expert's machine with `cryptography` but not rfc3161-client."""
    monkeypatch.setitem(sys.modules, "rfc3161_client", None)
    assert not have_rfc3161_client()


def test_a_genuine_timestamp_checks_out_and_says_when_and_who(tsa, token):
    request, response = token
    stamp = check_timestamp(response, NOTE, ca_pem=tsa.ca_file.read_bytes(), nonce=request.nonce)
    assert stamp.signature_checked and stamp.tsa == "CN=Test TSA"
    assert stamp.gen_time.utcoffset().total_seconds() == 0


def test_without_the_library_the_signature_is_never_claimed_checked(tsa, token, without_library):
    request, response = token
    stamp = check_timestamp(response, NOTE)
    assert not stamp.signature_checked and stamp.tsa == ""
    # Checks that need the package are refused, never passed silently.
    with pytest.raises(TimestampError, match="needs the rfc3161-client package"):
        check_timestamp(response, NOTE, ca_pem=tsa.ca_file.read_bytes())
    with pytest.raises(TimestampError, match="needs the rfc3161-client package"):
        check_timestamp(response, NOTE, nonce=request.nonce)


def test_both_readers_agree_on_what_the_timestamp_says(token, monkeypatch):
    _request, response = token
    full = check_timestamp(response, NOTE)
    monkeypatch.setitem(sys.modules, "rfc3161_client", None)
    pure = check_timestamp(response, NOTE)
    assert (pure.gen_time, pure.serial) == (full.gen_time, full.serial)


@pytest.mark.parametrize("library", [True, False], ids=["rfc3161-client", "pure"])
def test_a_timestamp_of_other_data_or_garbage_is_refused(token, monkeypatch, library):
    if not library:
        monkeypatch.setitem(sys.modules, "rfc3161_client", None)
    _request, response = token
    with pytest.raises(TimestampError, match="the timestamp is of other data"):
        check_timestamp(response, NOTE + b" ")
    for damaged in [b"", b"<html>", response[:-1], response[: len(response) // 2], response + b"\x00"]:
        with pytest.raises(TimestampError):
            check_timestamp(damaged, NOTE)
    # Cut anywhere, a response is refused, and never with anything but TimestampError.
    for end in range(len(response)):
        with pytest.raises(TimestampError):
            check_timestamp(response[:end], NOTE)


@pytest.mark.parametrize("library", [True, False], ids=["rfc3161-client", "pure"])
def test_a_refusal_by_the_tsa_is_not_a_timestamp(tsa, monkeypatch, library):
    # OpenSSL refuses SHA-1 (not in its `digests`): a well-formed answer with status "rejection".
    query = tsa.folder / "sha1.tsq"
    sha1 = hashlib.sha1(NOTE).hexdigest()
    subprocess.run(
        ["openssl", "ts", "-query", "-digest", sha1, "-sha1", "-out", str(query)],
        check=True,
        capture_output=True,
    )
    refusal = tsa.reply(query.read_bytes())
    if not library:
        monkeypatch.setitem(sys.modules, "rfc3161_client", None)
    with pytest.raises(TimestampError, match=r"did not grant the timestamp \(status 2\)"):
        check_timestamp(refusal, NOTE)


def test_the_signature_must_chain_to_the_given_root(tmp_path, token):
    _request, response = token
    stranger = make_root(tmp_path, "stranger", "Some Other Root").read_bytes()
    with pytest.raises(TimestampError, match="the signature does not check out"):
        check_timestamp(response, NOTE, ca_pem=stranger)
    with pytest.raises(TimestampError, match="not PEM certificates"):
        check_timestamp(response, NOTE, ca_pem=b"not a certificate")


def test_the_nonce_must_be_ours(tsa, token):
    request, response = token
    with pytest.raises(TimestampError, match="the nonce differs from ours"):
        check_timestamp(response, NOTE, nonce=request.nonce + 1)


def test_no_change_of_a_byte_alters_what_a_checked_timestamp_says(tsa, token):
    _request, response = token
    ca = tsa.ca_file.read_bytes()
    genuine = check_timestamp(response, NOTE, ca_pem=ca)
    digest = hashlib.sha256(NOTE).digest()
    imprint = range(response.index(digest), response.index(digest) + 32)
    gen_time = range(response.index(b"\x18\x0f") + 2, response.index(b"\x18\x0f") + 17)
    signature = range(len(response) - 64, len(response))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography warns about the damaged certificates it reads
        for position in range(len(response)):
            damaged = bytearray(response)
            damaged[position] ^= 0x01
            try:
                stamp = check_timestamp(bytes(damaged), NOTE, ca_pem=ca)
            except TimestampError:
                continue
            # Accepted only where nothing it vouches for moved (CMS version numbers, say)...
            assert stamp == genuine, position
            # ...and never in the imprint, genTime or signature value.
            assert position not in imprint and position not in gen_time and position not in signature
