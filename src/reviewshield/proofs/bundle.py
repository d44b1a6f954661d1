"""Check an evidence bundle offline: no database, no settings, no Django — only this package and `cryptography`.

    python -m reviewshield.proofs.bundle BUNDLE.zip [--key "<verifier key>"]
    reviewshield verify BUNDLE.zip [--key "<verifier key>"]

A bundle is a ZIP:

    manifest.json    {"format": "reviewshield-bundle/1", "case": …, "checkpoint": "checkpoint.txt",
                      "items": [{"ref", "record", "leaf_index", "proof", "file"?}, …]}
                     where "record" is the exact logged JSON text, "proof" the RFC 9162 inclusion
                     path (hex) against the checkpoint, and "file" (evidence only) the file's path
    checkpoint.txt   the log's signed checkpoint (C2SP signed note)
    log-key.txt      the log's verifier key (better: pin the key you got from the platform with --key)
    files/<sha256>   the evidence files

What is checked, and named when it fails: the checkpoint's signature; every record's inclusion in
the checkpointed tree; every evidence file's SHA-256 and size against its logged record.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewshield.proofs.checkpoint import Checkpoint, NoteError, open_checkpoint
from reviewshield.proofs.merkle import leaf_hash, verify_inclusion

FORMAT = "reviewshield-bundle/1"


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checked_items: int = 0
    checked_files: int = 0
    checkpoint: Checkpoint | None = None
    key_source: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def text(self) -> str:
        head = (
            f"OK: {self.checked_items} logged records and {self.checked_files} files verify against "
            f"checkpoint {self.checkpoint.origin} size {self.checkpoint.size} ({self.key_source})."
            if self.ok and self.checkpoint
            else f"FAILED: {len(self.problems)} problem(s)"
        )
        return "\n".join([head, *(f"- {p}" for p in self.problems)])


def _hex_list(values: Any) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(len(h) == 32 for h in out) else None


def verify_bundle(path: str | Path, *, key: str | None = None) -> Report:
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
        note = read(str(manifest.get("checkpoint", "checkpoint.txt")))
        if note is None:
            return report
        try:
            checkpoint = open_checkpoint(note.decode(errors="replace"), key)
        except NoteError as exc:
            report.problems.append(f"checkpoint.txt: {exc}")
            return report
        report.checkpoint = checkpoint

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
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reviewshield verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", help="the bundle ZIP")
    parser.add_argument("--key", help="the log's verifier key, as the platform publishes it")
    args = parser.parse_args(argv)
    report = verify_bundle(args.bundle, key=args.key)
    print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
