"""RFC 3161 trusted timestamps of a signed checkpoint. PURE: no Django, no clock.

Our Ed25519 signature on a checkpoint says who signed it, not when. A time-stamping authority (TSA)
signs "these SHA-256 bytes existed at genTime", so a timestamp over the checkpoint's exact note text
dates every record the checkpoint covers without anyone having to trust our clock.

`check_timestamp` is used twice: by the server before it stores a TSA's answer, and by the offline
bundle verifier. With the `rfc3161-client` package it parses the DER and, given the TSA's
certificates, verifies the CMS signature and the chain (at genTime). Without the package — an expert
with only `cryptography` — it still reads the DER itself, so the imprint is always compared with
the checkpoint; the signature is then reported unchecked, with the `openssl ts -verify` command
that checks it (`OPENSSL_VERIFY`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rfc3161_client import TimeStampResponse

GRANTED = 0  # PKIStatus granted; "grantedWithMods" (1) is refused: we asked for exactly SHA-256

# DER contents (after tag and length) of the object identifiers we look for.
SHA256 = "2.16.840.1.101.3.4.2.1"
OID_SHA256 = bytes.fromhex("608648016503040201")  # SHA256 as DER
OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
OID_TST_INFO = bytes.fromhex("2a864886f70d0109100104")  # 1.2.840.113549.1.9.16.1.4

OPENSSL_VERIFY = "openssl ts -verify -data {data} -in {response} -CAfile {ca}"


class TimestampError(ValueError):
    """A timestamp response that does not parse or does not vouch for the data; the message says why."""


@dataclass(frozen=True)
class Timestamp:
    gen_time: datetime  # when the TSA says it saw the data (UTC)
    tsa: str  # the signing certificate's subject ("" when it cannot be read without rfc3161-client)
    serial: int  # the TSA's serial number of this timestamp
    signature_checked: bool  # True only when the CMS signature chained to the given TSA certificates


def have_rfc3161_client() -> bool:
    try:
        import rfc3161_client  # noqa: F401
    except ImportError:
        return False
    return True


def check_timestamp(
    response: bytes, data: bytes, *, ca_pem: bytes | None = None, nonce: int | None = None
) -> Timestamp:
    """The timestamp in `response` (a DER TimeStampResp) if it is a granted one over SHA-256(`data`).

    With `ca_pem` (the TSA's root, and intermediates) the signature must chain to those
    certificates; with `nonce`, the TSA must have echoed it. Raises `TimestampError` otherwise.
    A `nonce` or `ca_pem` needs rfc3161-client: asking for checks that cannot run is an error, never
    a silent pass.
    """
    digest = hashlib.sha256(data).digest()
    if not have_rfc3161_client():
        if nonce is not None or ca_pem is not None:
            raise TimestampError("checking the nonce or the signature needs the rfc3161-client package")
        return _check_without_library(response, digest)
    return _check_with_library(response, digest, ca_pem=ca_pem, nonce=nonce)


def _check_with_library(
    response: bytes, digest: bytes, *, ca_pem: bytes | None, nonce: int | None
) -> Timestamp:
    from cryptography import x509
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        roots = x509.load_pem_x509_certificates(ca_pem) if ca_pem is not None else []
    except ValueError as exc:
        raise TimestampError(f"the TSA certificates are not PEM certificates ({exc})") from None
    try:
        # The Rust parser reads parts lazily (tst_info, certificates), so a malformed response can
        # fail at any step below; whatever it raises, the answer is "not a timestamp response".
        parsed = decode_timestamp_response(response)
        if parsed.status != GRANTED:
            raise TimestampError(f"the TSA did not grant the timestamp (status {parsed.status})")
        info = parsed.tst_info
        imprint = info.message_imprint
        _check_imprint(imprint.hash_algorithm.dotted_string == SHA256, imprint.message, digest)
        if nonce is not None and info.nonce != nonce:
            raise TimestampError("the TSA answered another request: the nonce differs from ours")
        if roots:
            builder = VerifierBuilder()
            for cert in roots:
                builder = builder.add_root_certificate(cert)
            try:
                builder.build().verify(parsed, digest)
            except VerificationError as exc:
                raise TimestampError(
                    f"the signature does not check out against the TSA certificates ({exc})"
                ) from None
        return Timestamp(
            gen_time=info.gen_time.astimezone(UTC),
            tsa=_signer_subject(parsed),
            serial=info.serial_number,
            signature_checked=bool(roots),
        )
    except TimestampError:
        raise
    except Exception as exc:
        raise TimestampError(f"not an RFC 3161 timestamp response ({exc})") from None


def _signer_subject(parsed: TimeStampResponse) -> str:
    from cryptography import x509

    signers = list(parsed.signed_data.signer_infos)
    for der in parsed.signed_data.certificates:
        cert = x509.load_der_x509_certificate(der)
        if any(cert.issuer == s.issuer and cert.serial_number == s.serial_number for s in signers):
            return cert.subject.rfc4514_string()
    return ""


def _check_imprint(is_sha256: bool, imprint: bytes, digest: bytes) -> None:
    if not is_sha256:
        raise TimestampError("the timestamp's imprint is not a SHA-256 hash")
    if imprint != digest:
        raise TimestampError(
            f"the timestamp is of other data: its imprint is {imprint.hex()}, the SHA-256 of the "
            f"checkpoint is {digest.hex()}"
        )


# --- Reading the DER without rfc3161-client: just enough of RFC 3161 §2.4.2 and RFC 5652 -------------
#
#   TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }
#   ContentInfo   ::= SEQUENCE { contentType OID (signedData), content [0] EXPLICIT SignedData }
#   SignedData    ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo SEQUENCE {
#                                eContentType OID (id-ct-TSTInfo), eContent [0] EXPLICIT OCTET STRING }, … }
#   TSTInfo       ::= SEQUENCE { version, policy OID, messageImprint SEQUENCE { AlgorithmIdentifier,
#                                OCTET STRING }, serialNumber INTEGER, genTime GeneralizedTime, … }

SEQUENCE, SET, INTEGER, OCTET_STRING, OID, GENERALIZED_TIME, CONTEXT_0 = (
    0x30,
    0x31,
    0x02,
    0x04,
    0x06,
    0x18,
    0xA0,
)

Element = tuple[int, bytes]  # (tag, contents)


def _elements(der: bytes) -> list[Element]:
    """The DER elements one after another in `der` (definite lengths only, as DER requires)."""
    out: list[Element] = []
    pos = 0
    while pos < len(der):
        if pos + 2 > len(der):
            raise TimestampError("the timestamp's DER is cut short")
        tag, length = der[pos], der[pos + 1]
        pos += 2
        if tag & 0x1F == 0x1F:
            raise TimestampError("the timestamp's DER uses a tag RFC 3161 does not")
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 4 or pos + count > len(der):
                raise TimestampError("the timestamp's DER has a length it cannot have")
            length = int.from_bytes(der[pos : pos + count], "big")
            pos += count
        if pos + length > len(der):
            raise TimestampError("the timestamp's DER is cut short")
        out.append((tag, der[pos : pos + length]))
        pos += length
    return out


def _one(der: bytes, tag: int) -> bytes:
    found = _elements(der)
    if len(found) != 1 or found[0][0] != tag:
        raise TimestampError("not an RFC 3161 timestamp response")
    return found[0][1]


def _fields(contents: bytes, *tags: int) -> list[bytes]:
    """The first len(tags) elements of a SEQUENCE's contents, each required to carry its tag."""
    found = _elements(contents)
    if len(found) < len(tags) or any(f[0] != t for f, t in zip(found, tags, strict=False)):
        raise TimestampError("not an RFC 3161 timestamp response")
    return [f[1] for f in found[: len(tags)]]


def _check_without_library(response: bytes, digest: bytes) -> Timestamp:
    parts = _elements(_one(response, SEQUENCE))
    if not parts or parts[0][0] != SEQUENCE:
        raise TimestampError("not an RFC 3161 timestamp response")
    (status,) = _fields(parts[0][1], INTEGER)
    if int.from_bytes(status, "big", signed=True) != GRANTED:
        raise TimestampError(f"the TSA did not grant the timestamp (status {int.from_bytes(status, 'big')})")
    if len(parts) != 2 or parts[1][0] != SEQUENCE:
        raise TimestampError("the response carries no timestamp token")
    content_type, content = _fields(parts[1][1], OID, CONTEXT_0)
    if content_type != OID_SIGNED_DATA:
        raise TimestampError("the timestamp token is not CMS signed data")
    _version, _algorithms, encapsulated = _fields(_one(content, SEQUENCE), INTEGER, SET, SEQUENCE)
    econtent_type, econtent = _fields(encapsulated, OID, CONTEXT_0)
    if econtent_type != OID_TST_INFO:
        raise TimestampError("the signed data is not a timestamp (TSTInfo)")
    tst_info = _one(_one(econtent, OCTET_STRING), SEQUENCE)
    _version, _policy, imprint, serial, gen_time = _fields(
        tst_info, INTEGER, OID, SEQUENCE, INTEGER, GENERALIZED_TIME
    )
    algorithm, hashed = _fields(imprint, SEQUENCE, OCTET_STRING)
    (algorithm_oid,) = _fields(algorithm, OID)
    _check_imprint(algorithm_oid == OID_SHA256, hashed, digest)
    return Timestamp(
        gen_time=_generalized_time(gen_time),
        tsa="",
        serial=int.from_bytes(serial, "big", signed=True),
        signature_checked=False,
    )


def _generalized_time(raw: bytes) -> datetime:
    """YYYYMMDDHHMMSS[.fraction]Z, as RFC 3161 §2.4.2 requires for genTime."""
    text = raw.decode("ascii", errors="replace")
    whole, _, fraction = text.removesuffix("Z").partition(".")
    if not text.endswith("Z") or len(whole) != 14 or not whole.isdigit() or not (fraction or "0").isdigit():
        raise TimestampError(f"the timestamp's genTime {text!r} is not a UTC GeneralizedTime")
    try:
        when = datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise TimestampError(f"the timestamp's genTime {text!r} is not a date") from None
    return when.replace(microsecond=int((fraction + "000000")[:6]))
