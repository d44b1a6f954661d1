"""The log's signing key and its name (the checkpoint origin).

The Ed25519 private key lives in a file: `REVIEWSHIELD_LOG_KEY_FILE`, by default `log-ed25519.key`
in the data folder, created (mode 0600) on first use like the secret key. Give every deployment its
own; the public half is in every checkpoint and bundle.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from django.conf import settings

from reviewshield.proofs.checkpoint import public_bytes, verifier_key


def log_origin() -> str:
    return str(settings.REVIEWSHIELD_LOG_ORIGIN)


@cache
def _load(path: str) -> Ed25519PrivateKey:
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        # O_EXCL: two processes starting at once must not each write a different key.
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(raw)
    raw = file.read_bytes()
    if len(raw) != 32:
        raise ValueError(f"{file} does not hold a 32-byte Ed25519 private key")
    return Ed25519PrivateKey.from_private_bytes(raw)


def signing_key() -> Ed25519PrivateKey:
    return _load(str(settings.REVIEWSHIELD_LOG_KEY_FILE))


def log_verifier_key() -> str:
    return verifier_key(log_origin(), public_bytes(signing_key()))
