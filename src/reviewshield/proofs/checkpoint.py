"""Checkpoints of the log in the C2SP formats, signed with Ed25519. PURE: no Django, no clock.

- tlog-checkpoint (c2sp.org/tlog-checkpoint): "<origin>\\n<size>\\n<base64 root>\\n" and optional
  extension lines.
- signed-note (c2sp.org/signed-note): the note text, a blank line, then one line per signature,
  "— <key name> <base64(4-byte key id ‖ 64-byte signature)>". The key id is the first 4 bytes of
  SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key); a verifier key is written "<name>+<id hex>+<base64(0x01 ‖ key)>".

Written here because no maintained Python package implements signed notes; the format is a few
lines and the tests pin it down (round trips, every kind of damage, foreign signatures ignored).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash and a space


class NoteError(ValueError):
    """A checkpoint or signed note that does not parse or does not verify; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        if not self.origin or "\n" in self.origin:
            raise NoteError("the origin must be one non-empty line")
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise NoteError("a checkpoint ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint has an origin, a size and a root hash")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise NoteError("the checkpoint has no origin line")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise NoteError(f"the checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except binascii.Error:
            raise NoteError("the checkpoint root is not base64") from None
        if len(root) != 32:
            raise NoteError(f"the checkpoint root has {len(root)} bytes, not 32")
        if any(not e for e in extensions):
            raise NoteError("the checkpoint has an empty extension line")
        return cls(origin, int(size_text), root, tuple(extensions))


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def public_bytes(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: bytes) -> str:
    """The one-line public key a verifier needs: "<name>+<key id hex>+<base64(0x01 ‖ key)>"."""
    _check_name(name)
    encoded = base64.b64encode(bytes([ALG_ED25519]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def key_fingerprint(verifier: str) -> str:
    """The key's fingerprint to compare by eye or over the phone: SHA-256(name ‖ "\\n" ‖ 0x01 ‖ key),
    64 hex digits in groups of four. Its first eight digits are the key id in the verifier key."""
    name, public_key = parse_verifier_key(verifier)
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def fingerprint_digits(text: str) -> str:
    """A fingerprint as typed (any case, spaces or colons between groups) reduced to its hex digits."""
    return "".join(c for c in text.lower() if c not in " :-\t")


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(name, raw public key) from a verifier key line; NoteError if it is malformed or inconsistent."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<key id>+<key>")
    name, id_hex, encoded = parts
    _check_name(name)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError("the verifier key is not base64") from None
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("the verifier key is not an Ed25519 key")
    if key_id(name, raw[1:]).hex() != id_hex:
        raise NoteError("the verifier key's id does not match its name and key")
    return name, raw[1:]


def sign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: `text`, a blank line, and this key's signature line."""
    _check_name(name)
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text ends with a newline and has no blank line")
    signature = private_key.sign(text.encode())
    blob = key_id(name, public_bytes(private_key)) + signature
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def open_note(note: str, verifier: str) -> str:
    """The note's text, once a signature by `verifier` checks out; signatures by other keys are ignored."""
    name, public_key = parse_verifier_key(verifier)
    text, sep, signatures = note.rpartition("\n\n")
    if not sep:
        raise NoteError("the note has no signature block")
    text += "\n"
    wanted = key_id(name, public_key)
    found = False
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        signer, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError(f"the signature of {signer!r} is not base64") from None
        if signer != name or blob[:4] != wanted:
            continue  # someone else's signature (a witness, say): not ours to judge
        found = True
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(
                f"the signature of {name} does not match the note: the note was changed"
            ) from None
    if not found:
        raise NoteError(f"the note carries no signature by {name}")
    return text


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    return sign(checkpoint.body(), name, private_key)


def open_checkpoint(note: str, verifier: str) -> Checkpoint:
    return Checkpoint.parse(open_note(note, verifier))
