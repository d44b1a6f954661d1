"""Signed checkpoints (C2SP tlog-checkpoint + signed-note, Ed25519): round trips and every kind of damage."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.proofs.checkpoint import (
    Checkpoint,
    NoteError,
    key_id,
    open_checkpoint,
    parse_verifier_key,
    public_bytes,
    sign,
    sign_checkpoint,
    verifier_key,
)

# RFC 8032 §7.1 TEST 1: the key pair behind our Ed25519 use, as published.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE_OF_EMPTY = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

KEY = Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET)
NAME = "reviewshield.example/log"
CHECKPOINT = Checkpoint(
    NAME, 8, bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
)


def test_ed25519_matches_rfc8032():
    assert public_bytes(KEY).hex() == RFC8032_PUBLIC
    assert KEY.sign(b"").hex() == RFC8032_SIGNATURE_OF_EMPTY


def test_checkpoint_body_is_the_c2sp_text():
    assert CHECKPOINT.body() == f"{NAME}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    assert Checkpoint.parse(CHECKPOINT.body()) == CHECKPOINT
    with_ext = Checkpoint(NAME, 8, CHECKPOINT.root, ("timestamp 2026-11-21T00:00:00Z",))
    assert Checkpoint.parse(with_ext.body()) == with_ext


def test_signed_checkpoint_round_trip_and_key_line():
    vkey = verifier_key(NAME, public_bytes(KEY))
    assert vkey.startswith(f"{NAME}+{key_id(NAME, public_bytes(KEY)).hex()}+")
    assert parse_verifier_key(vkey) == (NAME, public_bytes(KEY))
    note = sign_checkpoint(CHECKPOINT, NAME, KEY)
    head, _, sig = note.partition("\n\n")
    assert head + "\n" == CHECKPOINT.body() and sig.startswith(f"\u2014 {NAME} ")
    assert len(base64.b64decode(sig.split(" ")[-1])) == 4 + 64
    assert open_checkpoint(note, vkey) == CHECKPOINT


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (lambda n: n.replace("\n8\n", "\n9\n", 1), "was changed"),
        (lambda n: n.replace("Xcna", "Xcnb", 1), "was changed"),
        (lambda n: n.replace(NAME + "\n", "someone.else/log\n", 1), "was changed"),
        (lambda n: n.rsplit(" ", 1)[0] + " AAAA\n", "no signature by"),
        (lambda n: n.partition("\n\n")[0] + "\n", "no signature block"),
        (lambda n: n.replace("\u2014 ", "- ", 1), "malformed signature line"),
    ],
)
def test_any_change_to_a_signed_checkpoint_is_refused_and_named(damage, says):
    vkey = verifier_key(NAME, public_bytes(KEY))
    with pytest.raises(NoteError, match=says):
        open_checkpoint(damage(sign_checkpoint(CHECKPOINT, NAME, KEY)), vkey)


def test_another_key_cannot_vouch_and_foreign_signatures_are_ignored():
    other = Ed25519PrivateKey.generate()
    note = sign_checkpoint(CHECKPOINT, NAME, other)
    with pytest.raises(NoteError, match="no signature by"):
        open_checkpoint(note, verifier_key(NAME, public_bytes(KEY)))
    ours = sign_checkpoint(CHECKPOINT, NAME, KEY)
    cosigned = ours + sign(CHECKPOINT.body(), "witness.example", other).partition("\n\n")[2]
    assert open_checkpoint(cosigned, verifier_key(NAME, public_bytes(KEY))) == CHECKPOINT
    assert open_checkpoint(cosigned, verifier_key("witness.example", public_bytes(other))) == CHECKPOINT


@pytest.mark.parametrize(
    "body",
    [
        "origin\n8\n",  # no root
        "origin\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",  # no final newline
        "origin\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
        "origin\n8\nnot base64!\n",
        "origin\n8\nAAAA\n",  # 3 bytes
        "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    ],
)
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_malformed_verifier_keys_are_refused():
    good = verifier_key(NAME, public_bytes(KEY))
    name, kid, key = good.split("+", 2)
    for bad in (
        f"{name}+{kid}",
        f"{name}+00000000+{key}",
        f"other+{kid}+{key}",
        f"{name}+{kid}+AAAA",
        "a b+1+2",
    ):
        with pytest.raises(NoteError):
            parse_verifier_key(bad)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**63), st.binary(min_size=32, max_size=32), st.data())
def test_any_single_byte_flip_in_a_signed_note_is_caught(size, root, data):
    note = sign_checkpoint(Checkpoint(NAME, size, root), NAME, KEY)
    raw = bytearray(note.encode())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= 1 << data.draw(st.integers(0, 6))
    try:
        damaged = raw.decode()
    except UnicodeDecodeError:
        return  # not even text any more: nobody could mistake it for a checkpoint
    with pytest.raises(NoteError):
        opened = open_checkpoint(damaged, verifier_key(NAME, public_bytes(KEY)))
        # A flip that survives is only acceptable if it did not change what the note says.
        if opened == Checkpoint(NAME, size, root):
            raise NoteError("unchanged")
