"""The signed contents of a bundle, the key's fingerprint and the verify command's pins. Pure."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.proofs.bundle import EXIT_USAGE, Contents, Leaf, main
from reviewshield.proofs.checkpoint import (
    Checkpoint,
    NoteError,
    fingerprint_digits,
    key_fingerprint,
    key_id,
    open_checkpoint,
    open_note,
    public_bytes,
    sign,
    verifier_key,
)

KEY = Ed25519PrivateKey.generate()
VERIFIER = verifier_key("example.org/log", public_bytes(KEY))

names = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_./", min_size=1, max_size=30)
digests = st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest())
leaves = st.builds(
    Leaf,
    st.integers(0, 10**9),
    names.map(lambda n: f"event:{n}"),
    st.sampled_from(["-", "original", "clean", "withheld"]),
    st.one_of(st.just(""), digests.map(lambda d: f"files/{d}")),
)
contents = st.builds(
    Contents,
    names.filter(lambda n: not n.isdigit()),
    st.sampled_from(["buyer", "agent"]),
    st.lists(leaves, max_size=20).map(tuple),
    st.dictionaries(names, digests, max_size=20).map(lambda d: tuple(sorted(d.items()))),
)


@settings(deadline=None)  # a shared CPU: the first run may be slow
@given(contents)
def test_contents_round_trip_through_their_signed_note(c):
    note = sign(c.body(), "example.org/log", KEY)
    assert Contents.parse(open_note(note, VERIFIER)) == c


@settings(deadline=None)  # a shared CPU: the first run may be slow
@given(contents)
def test_signed_contents_never_pass_for_a_checkpoint_of_the_same_key(c):
    with pytest.raises(NoteError):
        open_checkpoint(sign(c.body(), "example.org/log", KEY), VERIFIER)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "reviewshield-bundle-contents/9\ncase X\nreader buyer\n",
        "reviewshield-bundle-contents/1\nreader buyer\ncase X\n",
        "reviewshield-bundle-contents/1\ncase X\nreader buyer\nleaf x event:1 -\n",
        "reviewshield-bundle-contents/1\ncase X\nreader buyer\nleaf 1 event:1 stolen\n",
        "reviewshield-bundle-contents/1\ncase X\nreader buyer\nmember abc manifest.json\n",
        "reviewshield-bundle-contents/1\ncase X\nreader buyer\nnote the buyer agreed\n",
    ],
)
def test_malformed_contents_are_refused(text):
    with pytest.raises(NoteError):
        Contents.parse(text)


def test_a_checkpoint_still_opens_with_the_same_key():
    body = Checkpoint("example.org/log", 3, bytes(32))
    assert open_checkpoint(sign(body.body(), "example.org/log", KEY), VERIFIER) == body


def test_the_fingerprint_is_64_hex_digits_in_groups_and_starts_with_the_key_id():
    fingerprint = key_fingerprint(VERIFIER)
    groups = fingerprint.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    assert fingerprint_digits(fingerprint).startswith(key_id("example.org/log", public_bytes(KEY)).hex())
    assert fingerprint_digits(fingerprint.upper().replace(" ", ":")) == fingerprint_digits(fingerprint)
    other = verifier_key("example.org/log", public_bytes(Ed25519PrivateKey.generate()))
    assert key_fingerprint(other) != fingerprint


@pytest.mark.parametrize(
    "pin",
    [["--fingerprint", "abcd"], ["--key", "not+a+key"], ["--key", "/nonexistent/key.txt"]],
)
def test_a_pin_that_is_not_a_key_or_fingerprint_is_a_usage_error(pin, capsys, tmp_path):
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "b.zip"), *pin])
    assert stop.value.code == EXIT_USAGE
    assert "reviewshield verify" in capsys.readouterr().err


def test_the_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for line in ("0  OK", "1  FAILED", "2  the command", "3  ORIGIN UNVERIFIED", "4  FORGED OR UNKNOWN KEY"):
        assert line in out
    assert "REVIEWSHIELD_VERIFY_KEY" in out and "退出码" in out
