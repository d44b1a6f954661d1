"""Check an evidence bundle offline: no database, no settings, no Django — only this package and `cryptography`.

    python -m reviewshield.proofs.bundle BUNDLE.zip [--key "<verifier key>"] [--tsa-ca TSA-ROOT.pem]
    reviewshield verify BUNDLE.zip [--key "<verifier key>"] [--tsa-ca TSA-ROOT.pem]

A bundle is a ZIP:

    manifest.json    {"format": "reviewshield-bundle/1", "case": …, "checkpoint": "checkpoint.txt",
                      "items": [{"ref", "record", "leaf_index", "proof", "file"?}, …],
                      "chat"?: [{"number", "sha256", "messages", "ref", "file"}, …],
                      "timestamp"?: "checkpoint.tsr", "tsa_certificates"?: "tsa-ca.pem"}
                     where "record" is the exact logged JSON text, "proof" the RFC 9162 inclusion
                     path (hex) against the checkpoint, and "file" (evidence only) the file's path;
                     "chat" lists the chat evidence numbers cited in the case: the number, its
                     SHA-256, its message count, its own log record's ref ("chat_evidence:<id>")
                     and the file holding its messages (null when left out of this bundle)
    checkpoint.txt   the log's signed checkpoint (C2SP signed note)
    log-key.txt      the log's verifier key (better: pin the key you got from the platform with --key)
    files/<sha256>   the evidence files
    chat/<number>.json  a cited number's frozen messages in their canonical encoding (`chatdigest`)
    checkpoint.tsr   optional: an RFC 3161 timestamp response (DER) over SHA-256 of checkpoint.txt
    tsa-ca.pem       optional: the time-stamping authority's certificates (better: pin with --tsa-ca)

What is checked, and named when it fails: the checkpoint's signature; every record's inclusion in
the checkpointed tree; every evidence file's SHA-256 and size against its logged record; every
chat stretch's SHA-256, recomputed from its messages, against the number's SHA-256 in the logged
records that name it (the `chat_cited` event, the number's own record) and in the manifest — a
number cited in the case whose messages the bundle does not hold is noted, not failed; and, when
the bundle carries a timestamp, that it is a granted one over exactly checkpoint.txt and — given
the TSA's certificates and the rfc3161-client package — signed by that TSA. Without rfc3161-client
the timestamp's signature is reported unchecked, with the `openssl ts -verify` command to run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewshield.proofs.chatdigest import ExcerptError, excerpt_bytes, excerpt_parse, excerpt_sha256
from reviewshield.proofs.checkpoint import Checkpoint, NoteError, open_checkpoint
from reviewshield.proofs.merkle import leaf_hash, verify_inclusion
from reviewshield.proofs.timestamp import (
    OPENSSL_VERIFY,
    Timestamp,
    TimestampError,
    check_timestamp,
    have_rfc3161_client,
)

FORMAT = "reviewshield-bundle/1"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checked_items: int = 0
    checked_files: int = 0
    checked_chats: int = 0
    checkpoint: Checkpoint | None = None
    key_source: str = ""
    timestamp: Timestamp | None = None
    notes: list[str] = field(default_factory=list)  # what was found but not checked, and how to check it

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        chats = self.checked_chats
        counted = (
            f"{self.checked_items} logged records, {self.checked_files} files and {chats} chat "
            f"stretch{'' if chats == 1 else 'es'}"
            if chats
            else f"{self.checked_items} logged records and {self.checked_files} files"
        )
        head = (
            f"OK: {counted} verify against "
            f"checkpoint {self.checkpoint.origin} size {self.checkpoint.size} ({self.key_source})."
            if self.ok and self.checkpoint
            else f"FAILED: {len(self.problems)} problem(s)"
        )
        return "\n".join([head, *(f"* {n}" for n in self.notes), *(f"- {p}" for p in self.problems)])


def _hex_list(values: Any) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(len(h) == 32 for h in out) else None


def verify_bundle(path: str | Path, *, key: str | None = None, tsa_ca: bytes | None = None) -> Report:
    """Check the bundle at `path`; `key` pins the log's verifier key, `tsa_ca` the TSA's certificates (PEM)."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: not a readable ZIP file ({exc})")
        return report
    with archive:
        names = set(archive.namelist())

        def read(name: str) -> bytes | None:
            if name not in names:
                report.problems.append(f"{name}: missing from the bundle")
                return None
            return archive.read(name)

        raw_manifest = read("manifest.json")
        if raw_manifest is None:
            return report
        try:
            manifest = json.loads(raw_manifest)
        except ValueError as exc:
            report.problems.append(f"manifest.json: not valid JSON ({exc})")
            return report
        if manifest.get("format") != FORMAT:
            report.problems.append(
                f"manifest.json: format is {manifest.get('format')!r}, expected {FORMAT!r}"
            )
            return report

        if key is None:
            bundled = read("log-key.txt")
            if bundled is None:
                return report
            key = bundled.decode(errors="replace").strip()
            report.key_source = "key taken from the bundle; pin the platform's published key with --key"
        else:
            report.key_source = "pinned key"
        checkpoint_name = str(manifest.get("checkpoint", "checkpoint.txt"))
        note = read(checkpoint_name)
        if note is None:
            return report
        # Before the checkpoint's own signature: a changed checkpoint.txt must also be named as no
        # longer matching its timestamp, even though the signature check below stops the rest.
        if manifest.get("timestamp") or "checkpoint.tsr" in names:
            _check_bundled_timestamp(report, manifest, checkpoint_name, note, read, tsa_ca)
        try:
            checkpoint = open_checkpoint(note.decode(errors="replace"), key)
        except NoteError as exc:
            report.problems.append(f"checkpoint.txt: {exc}")
            return report
        report.checkpoint = checkpoint

        # number -> [(ref, sha256)] from the verified records that fix a chat stretch's hash.
        logged_chat: dict[str, list[tuple[str, str]]] = {}
        cited: dict[str, str] = {}  # number -> the ref of the event citing it in the case
        for position, item in enumerate(manifest.get("items", [])):
            ref = str(item.get("ref", f"item #{position}"))
            record_text = item.get("record")
            index = item.get("leaf_index")
            proof = _hex_list(item.get("proof", []))
            if not isinstance(record_text, str) or not isinstance(index, int) or proof is None:
                report.problems.append(
                    f"manifest.json, {ref}: the entry lacks a record, a leaf index or a proof"
                )
                continue
            record_bytes = record_text.encode()
            if not verify_inclusion(leaf_hash(record_bytes), index, checkpoint.size, proof, checkpoint.root):
                report.problems.append(
                    f"{ref}: its record is not at leaf {index} of the checkpointed log — the record or its "
                    "inclusion proof was changed"
                )
                continue
            report.checked_items += 1
            try:
                record = json.loads(record_bytes)
            except ValueError:
                report.problems.append(f"{ref}: the logged record is not JSON")
                continue
            number, chat_sha256 = _chat_hash_in(record)
            if number is not None:
                logged_chat.setdefault(number, []).append((ref, chat_sha256))
                if record.get("type") == "case_event":
                    cited.setdefault(number, ref)
            if record.get("type") == "evidence":
                file_name = item.get("file")
                data = read(str(file_name)) if file_name else None
                if data is None:
                    if not file_name:
                        report.problems.append(f"{ref}: no file is named for this evidence item")
                    continue
                digest = hashlib.sha256(data).hexdigest()
                if digest != record.get("sha256") or len(data) != record.get("size"):
                    report.problems.append(
                        f"{file_name} ({ref}): the file's SHA-256 is {digest} and its size {len(data)}; the log "
                        f"recorded {record.get('sha256')} and {record.get('size')} — the file was changed"
                    )
                    continue
                report.checked_files += 1
        _check_chat(report, manifest, logged_chat, cited, read)
    return report


def _chat_hash_in(record: Any) -> tuple[str | None, str]:
    """The chat evidence number a logged record fixes the hash of, and that hash (or None, "")."""
    if not isinstance(record, dict):
        return None, ""
    source: Any
    if record.get("type") == "chat_evidence":
        source = record
    elif record.get("type") == "case_event" and record.get("kind") == "chat_cited":
        source = record.get("data")
    else:
        return None, ""
    if not isinstance(source, dict) or not isinstance(source.get("number"), str):
        return None, ""
    return source["number"], str(source.get("sha256"))


def _recorded(records: list[tuple[str, str]]) -> str:
    """ "<sha256> (event:5, chat_evidence:2)": each hash once, with the records that give it."""
    refs: dict[str, list[str]] = {}
    for ref, recorded in records:
        refs.setdefault(recorded, []).append(ref)
    return "; ".join(f"{recorded} ({', '.join(names)})" for recorded, names in refs.items())


def _check_chat(
    report: Report,
    manifest: dict[str, Any],
    logged: dict[str, list[tuple[str, str]]],
    cited: dict[str, str],
    read: Callable[[str], bytes | None],
) -> None:
    """Each listed chat stretch hashes to its number's SHA-256 as the manifest and the log give it."""
    listed: set[str] = set()
    entries = manifest.get("chat", [])
    for position, entry in enumerate(entries if isinstance(entries, list) else []):
        number, sha256 = (
            (entry.get("number"), entry.get("sha256")) if isinstance(entry, dict) else (None, None)
        )
        if not isinstance(number, str) or not isinstance(sha256, str):
            report.problems.append(
                f"manifest.json, chat entry #{position + 1}: it lacks a number or a SHA-256"
            )
            continue
        listed.add(number)
        records = logged.get(number, [])
        if not records:
            report.problems.append(
                f"manifest.json, chat evidence number {number}: no verified log record in this bundle "
                "names this number, so its messages cannot be held against the log"
            )
        disagreeing = [(ref, recorded) for ref, recorded in records if recorded != sha256]
        if disagreeing:
            report.problems.append(
                f"manifest.json, chat evidence number {number}: the manifest gives SHA-256 {sha256}, "
                f"but the log recorded {_recorded(disagreeing)} — the manifest was changed"
            )
        file_name = entry.get("file")
        if file_name is None:
            report.notes.append(
                f"chat evidence number {number}: its messages are not included in this bundle; only its "
                "SHA-256 in the log is checked."
            )
            continue
        data = read(str(file_name))
        if data is None:
            continue
        try:
            conversation, lines = excerpt_parse(data)
        except ExcerptError as exc:
            report.problems.append(
                f"{file_name}: not the messages of chat evidence number {number}: {exc} — the file was changed"
            )
            continue
        digest = excerpt_sha256(conversation, lines)
        # Held against the log; the manifest's word counts only when no record names the number
        # (already a problem above).
        expected = records or [("manifest.json", sha256)]
        wrong = [(ref, recorded) for ref, recorded in expected if recorded != digest]
        if wrong:
            report.problems.append(
                f"{file_name}: messages do not match the SHA-256 of chat evidence number {number}: they hash "
                f"to {digest}, the number's is {_recorded(wrong)} — the messages were changed"
            )
            continue
        if excerpt_bytes(conversation, lines) != data:
            # Same messages, other bytes: something (a key, a spacing) was added that the hash does not cover.
            report.problems.append(
                f"{file_name}: the messages of chat evidence number {number} hash right, but the file is not "
                "their canonical encoding — the file was changed"
            )
            continue
        if records and entry.get("messages") not in (None, len(lines)):
            report.problems.append(
                f"manifest.json, chat evidence number {number}: the manifest counts {entry.get('messages')} "
                f"messages, {file_name} holds {len(lines)}"
            )
            continue
        if records:
            report.checked_chats += 1
    for number, ref in sorted(cited.items()):
        if number not in listed:
            report.notes.append(
                f"chat evidence number {number} ({ref}): cited in the case, but its messages are not included "
                "in this bundle; only its SHA-256 in the log is checked."
            )


def _check_bundled_timestamp(
    report: Report,
    manifest: dict[str, Any],
    checkpoint_name: str,
    note: bytes,
    read: Callable[[str], bytes | None],
    pinned_ca: bytes | None,
) -> None:
    tsr_name = str(manifest.get("timestamp") or "checkpoint.tsr")
    response = read(tsr_name)
    if response is None:
        return
    ca_name = manifest.get("tsa_certificates")
    bundled_ca = read(str(ca_name)) if ca_name else None
    ca = pinned_ca if pinned_ca is not None else bundled_ca
    library = have_rfc3161_client()
    try:
        stamp = check_timestamp(response, note, ca_pem=ca if library else None)
    except TimestampError as exc:
        report.problems.append(f"{tsr_name}: {exc} — the timestamp or {checkpoint_name} was changed")
        return
    report.timestamp = stamp
    when = stamp.gen_time.strftime("%Y-%m-%d %H:%M:%S UTC")
    command = OPENSSL_VERIFY.format(
        data=checkpoint_name,
        response=tsr_name,
        ca=ca_name if ca_name and pinned_ca is None else "<the TSA's root certificate>.pem",
    )
    if stamp.signature_checked:
        source = (
            "the certificates given with --tsa-ca" if pinned_ca is not None else f"{ca_name} from the bundle"
        )
        report.notes.append(
            f"{tsr_name}: the checkpoint existed by {when}, says the time-stamping authority {stamp.tsa} "
            f"(RFC 3161 timestamp no. {stamp.serial}; signature checked against {source})."
        )
    elif not library:
        report.notes.append(
            f"{tsr_name}: a timestamp dates the checkpoint {when} and its imprint matches {checkpoint_name}, "
            "but its signature is unchecked: the rfc3161-client package is not installed "
            f"(pip install rfc3161-client). Or check it in the unzipped bundle with: {command}"
        )
    else:
        report.notes.append(
            f"{tsr_name}: the time-stamping authority {stamp.tsa} dates the checkpoint {when} and the imprint "
            f"matches {checkpoint_name}, but the bundle holds no TSA certificates, so the signature is "
            f"unchecked. Pass the TSA's root with --tsa-ca, or check it in the unzipped bundle with: {command}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reviewshield verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the bundle ZIP")
    parser.add_argument("--key", help="the log's verifier key, as the platform publishes it")
    parser.add_argument(
        "--tsa-ca",
        type=Path,
        help="the time-stamping authority's root certificate(s), PEM, as it publishes them",
    )
    args = parser.parse_args(argv)
    report = verify_bundle(
        args.bundle, key=args.key, tsa_ca=args.tsa_ca.read_bytes() if args.tsa_ca else None
    )
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
