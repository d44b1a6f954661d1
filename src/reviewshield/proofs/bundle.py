"""Check an evidence bundle offline: no database, no settings, no Django — only this package and `cryptography`.

    python -m reviewshield.proofs.bundle BUNDLE.zip [--key KEY | --fingerprint HEX] [--tsa-ca TSA-ROOT.pem]
    reviewshield verify BUNDLE.zip [--key KEY | --fingerprint HEX] [--tsa-ca TSA-ROOT.pem]

Only a key you got from the platform itself (its /verify/ page, or GET /api/log/checkpoint) says
who made a bundle: the key inside a bundle proves nothing, since a forger re-signs with their own.
Without a pinned key the verdict is "origin unverified" (exit code 3) with the bundle key's
fingerprint to compare; a pinned key the bundle is not signed by is "forged or unknown key" (4).

A bundle is a ZIP:

    manifest.json    {"format": "reviewshield-bundle/2", "case": …, "reader": "buyer"|"agent",
                      "checkpoint": "checkpoint.txt",
                      "items": [{"ref", "record", "leaf_index", "proof", "file"?, "copy"?}, …],
                      "chat"?: [{"number", "sha256", "messages", "ref", "file"}, …],
                      "timestamp"?: "checkpoint.tsr", "tsa_certificates"?: "tsa-ca.pem"}
                     where "record" is the exact logged JSON text, "proof" the RFC 9162 inclusion
                     path (hex) against the checkpoint, and "file" (evidence only) the file's path,
                     "copy" which file it is: "original", "clean" (the copy the other side sees,
                     held against the record's clean_sha256) or "withheld" (not for this reader);
                     "chat" lists the chat evidence numbers cited in the case: the number, its
                     SHA-256, its message count, its own log record's ref ("chat_evidence:<id>")
                     and the file holding its messages (null when left out of this bundle)
    checkpoint.txt   the log's signed checkpoint (C2SP signed note)
    contents.txt     signed by the log's key when the bundle was made: the case, the reader, every
                     logged record of the case (leaf, ref, which file) and the SHA-256 of every
                     other member — so a record left out, another case reference, an added member
                     or a changed copy of the verifier is named
    index.html       what the bundle is and how to check it, with the key's fingerprint
    log-key.txt      the log's verifier key (better: pin the key you got from the platform with --key)
    files/<sha256>   the evidence files
    chat/<number>.json  a cited number's frozen messages in their canonical encoding (`chatdigest`)
    checkpoint.tsr   optional: an RFC 3161 timestamp response (DER) over SHA-256 of checkpoint.txt
    tsa-ca.pem       optional: the time-stamping authority's certificates (better: pin with --tsa-ca)

What is checked, and named when it fails: the checkpoint's signature; the signed contents (no record
of the case left out, the same case reference, no member added, missing or changed, every member
readable); every record's inclusion in
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
import os
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewshield.proofs.chatdigest import ExcerptError, excerpt_bytes, excerpt_parse, excerpt_sha256
from reviewshield.proofs.checkpoint import (
    Checkpoint,
    NoteError,
    fingerprint_digits,
    key_fingerprint,
    open_checkpoint,
    open_note,
)
from reviewshield.proofs.merkle import leaf_hash, verify_inclusion
from reviewshield.proofs.timestamp import (
    OPENSSL_VERIFY,
    Timestamp,
    TimestampError,
    check_timestamp,
    have_rfc3161_client,
)

FORMAT = "reviewshield-bundle/2"
CONTENTS = "contents.txt"
CONTENTS_FORMAT = "reviewshield-bundle-contents/1"
VERIFIER_DIR = "verifier/"

# Exit codes of `reviewshield verify` (also in its --help).
EXIT_OK = 0  # intact, and signed by the key you pinned
EXIT_FAILED = 1  # something in the bundle was changed, dropped, added or damaged: named
EXIT_USAGE = 2  # the command was called wrongly (argparse's own code)
EXIT_UNVERIFIED = 3  # intact against the key it carries, but no key was pinned: origin unknown
EXIT_FORGED = 4  # not signed by the pinned key: forged, or from another log

COPIES = ("original", "clean", "withheld")
# What reading a damaged member raises: a bad CRC, a broken deflate stream, a truncated member.
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)


def both(english: str, chinese: str) -> str:
    """A message for a police officer or a court in either language: English, then Chinese."""
    return f"{english}\n  {chinese}"


@dataclass(frozen=True)
class Leaf:
    """One logged record of the case as the signed contents list it; `copy` is "-" for records
    without a file, else which file of the evidence item the bundle holds for its reader."""

    index: int
    ref: str
    copy: str = "-"
    file: str = ""


@dataclass(frozen=True)
class Contents:
    """What a bundle holds, signed with the log's key when it was made (`contents.txt`).

        reviewshield-bundle-contents/1
        case <reference>
        reader <buyer|agent>
        leaf <index> <ref> <-|original|clean|withheld> [<file>]
        member <sha256 hex> <name>

    Every logged record of the case (and of the chat evidence numbers it cites) in the checkpoint
    is a leaf line; every member of the ZIP but this one is a member line. The second line is
    never a number, so these contents can never pass for a checkpoint signed by the same key.
    """

    case: str
    reader: str
    leaves: tuple[Leaf, ...]
    members: tuple[tuple[str, str], ...]  # (name, sha256 hex), sorted by name

    def body(self) -> str:
        lines = [CONTENTS_FORMAT, f"case {self.case}", f"reader {self.reader}"]
        for leaf in self.leaves:
            lines.append(" ".join(x for x in ("leaf", str(leaf.index), leaf.ref, leaf.copy, leaf.file) if x))
        lines.extend(f"member {digest} {name}" for name, digest in self.members)
        for line in lines:
            if "\n" in line or not line.strip():
                raise NoteError("a line of the bundle's contents is empty or holds a newline")
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Contents:
        lines = text.rstrip("\n").split("\n")
        if len(lines) < 3 or lines[0] != CONTENTS_FORMAT:
            raise NoteError(f"not a list of a bundle's contents ({CONTENTS_FORMAT})")
        case_word, _, case = lines[1].partition(" ")
        reader_word, _, reader = lines[2].partition(" ")
        if case_word != "case" or reader_word != "reader" or not case:
            raise NoteError("the contents do not start with the case and the reader")
        leaves: list[Leaf] = []
        members: list[tuple[str, str]] = []
        for line in lines[3:]:
            word, _, rest = line.partition(" ")
            if word == "leaf":
                parts = rest.split(" ")
                if len(parts) not in (3, 4) or not parts[0].isdigit() or parts[2] not in ("-", *COPIES):
                    raise NoteError(f"malformed line in the contents: {line[:60]!r}")
                leaves.append(Leaf(int(parts[0]), parts[1], parts[2], parts[3] if len(parts) == 4 else ""))
            elif word == "member":
                digest, _, name = rest.partition(" ")
                if len(digest) != 64 or not name:
                    raise NoteError(f"malformed line in the contents: {line[:60]!r}")
                members.append((name, digest))
            else:
                raise NoteError(f"malformed line in the contents: {line[:60]!r}")
        return cls(case, reader, tuple(leaves), tuple(members))


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
    pinned: bool = False  # the key was given by the person checking (--key / --fingerprint)
    key_mismatch: bool = False  # … and the bundle is signed by another key
    fingerprint: str = ""  # of the key the bundle is signed with (or carries)
    pinned_fingerprint: str = ""

    @property
    def ok(self) -> bool:
        """Nothing changed, dropped, added or damaged, and no pinned key refused (the origin may be unverified)."""
        return not self.problems and not self.key_mismatch

    @property
    def exit_code(self) -> int:
        if self.key_mismatch:
            return EXIT_FORGED
        if self.problems:
            return EXIT_FAILED
        return EXIT_OK if self.pinned else EXIT_UNVERIFIED

    def text(self) -> str:
        chats = self.checked_chats
        counted = (
            f"{self.checked_items} logged records, {self.checked_files} files and {chats} chat "
            f"stretch{'' if chats == 1 else 'es'}"
            if chats
            else f"{self.checked_items} logged records and {self.checked_files} files"
        )
        counted_zh = f"{self.checked_items} 条日志记录、{self.checked_files} 个文件" + (
            f"、{chats} 段聊天记录" if chats else ""
        )
        code = self.exit_code
        if code == EXIT_FORGED:
            head = both(
                f"FORGED OR UNKNOWN KEY: this bundle is signed by the key with fingerprint {self.fingerprint}, "
                f"not by the key you pinned ({self.pinned_fingerprint}). Do not rely on it: it was made or "
                "re-signed by someone else, or comes from another platform's log.",
                f"伪造或未知密钥：本证据包的签名密钥指纹为 {self.fingerprint}，与您指定的密钥"
                f"（{self.pinned_fingerprint}）不符。请勿采信：它由他人制作或重新签名，或来自其他平台的日志。",
            )
        elif code == EXIT_FAILED:
            n = len(self.problems)
            head = both(f"FAILED: {n} problem(s)", f"未通过：发现 {n} 个问题")
        else:
            assert self.checkpoint is not None
            cp = self.checkpoint
            if code == EXIT_OK:
                head = both(
                    f"OK: {counted} verify against checkpoint {cp.origin} size {cp.size} "
                    f"({self.key_source}, fingerprint {self.fingerprint}).",
                    f"通过：{counted_zh}与检查点 {cp.origin}（大小 {cp.size}）一致，"
                    f"签名密钥即您指定的密钥（指纹 {self.fingerprint}）。",
                )
            else:
                head = both(
                    f"ORIGIN UNVERIFIED: {counted} agree with checkpoint {cp.origin} size {cp.size}, but only "
                    "against the key the bundle carries itself, which anyone re-signing a bundle can replace. "
                    f"Compare this fingerprint with the one the platform publishes (its /verify/ page, or "
                    f"GET /api/log/checkpoint):\n    {self.fingerprint}\n"
                    "then run again with --key or --fingerprint.",
                    f"来源未验证：{counted_zh}与检查点 {cp.origin}（大小 {cp.size}）一致，但所用的是证据包自带的"
                    "密钥，任何重新签名的人都可以替换它。请将上面的指纹与平台公布的指纹（其 /verify/ 页面或 "
                    "GET /api/log/checkpoint）核对，然后用 --key 或 --fingerprint 再次运行。",
                )
        return "\n".join([head, *(f"* {n}" for n in self.notes), *(f"- {p}" for p in self.problems)])


def _hex_list(values: Any) -> list[bytes] | None:
    try:
        out = [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        return None
    return out if all(len(h) == 32 for h in out) else None


def _fingerprint_of(key: str) -> str:
    try:
        return key_fingerprint(key)
    except NoteError:
        return "?"


def verify_bundle(
    path: str | Path,
    *,
    key: str | None = None,
    fingerprint: str | None = None,
    tsa_ca: bytes | None = None,
) -> Report:
    """Check the bundle at `path`; `key` (or its `fingerprint`) pins the log's verifier key, `tsa_ca`
    the TSA's certificates (PEM). Without either pin the report says the origin is unverified."""
    report = Report()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.problems.append(f"{path}: not a readable ZIP file ({exc})")
        return report
    with archive:
        listed_names = archive.namelist()
        names = set(listed_names)
        for name in sorted({n for n in listed_names if listed_names.count(n) > 1}):
            report.problems.append(
                both(
                    f"{name}: the ZIP holds this member more than once — one copy was added",
                    f"{name}：压缩包中此文件出现不止一次——有一份是后加的",
                )
            )
        damaged: set[str] = set()

        def read(name: str) -> bytes | None:
            if name not in names:
                report.problems.append(f"{name}: missing from the bundle")
                return None
            try:
                return archive.read(name)
            except UNREADABLE as exc:
                if name not in damaged:
                    damaged.add(name)
                    report.problems.append(
                        both(
                            f"{name}: its bytes in the ZIP are damaged and cannot be read ({exc})",
                            f"{name}：该文件在压缩包中的数据已损坏，无法读取",
                        )
                    )
                return None

        raw_manifest = read("manifest.json")
        if raw_manifest is None:
            return report
        try:
            manifest = json.loads(raw_manifest)
        except ValueError as exc:
            report.problems.append(f"manifest.json: not valid JSON ({exc})")
            return report
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            # Never a lesser check for an older format: a forger would simply claim it.
            older = (
                "; a bundle made before bundles were signed whole can be checked with the verifier it "
                "carries (verifier/), which cannot tell whether anything was left out"
                if found == "reviewshield-bundle/1"
                else ""
            )
            report.problems.append(f"manifest.json: format is {found!r}, expected {FORMAT!r}{older}")
            return report

        bundled_raw = read("log-key.txt")
        bundled = bundled_raw.decode(errors="replace").strip() if bundled_raw is not None else None
        signer = key if key is not None else bundled
        if signer is None:
            return report
        report.pinned = key is not None or fingerprint is not None
        if key is not None:
            report.key_source = "pinned key"
            report.pinned_fingerprint = _fingerprint_of(key)
        elif fingerprint is not None:
            report.key_source = "the bundle's key, whose fingerprint you pinned"
            report.pinned_fingerprint = " ".join(
                fingerprint_digits(fingerprint)[i : i + 4] for i in range(0, 64, 4)
            )
            if fingerprint_digits(_fingerprint_of(signer)) != fingerprint_digits(fingerprint):
                report.key_mismatch = True
        else:
            report.key_source = "key taken from the bundle"
        report.fingerprint = _fingerprint_of(signer)

        checkpoint_name = str(manifest.get("checkpoint", "checkpoint.txt"))
        note = read(checkpoint_name)
        if note is None:
            return report
        # Before the checkpoint's own signature: a changed checkpoint.txt must also be named as no
        # longer matching its timestamp, even though the signature check below stops the rest.
        if manifest.get("timestamp") or "checkpoint.tsr" in names:
            _check_bundled_timestamp(report, manifest, checkpoint_name, note, read, tsa_ca)
        try:
            checkpoint = open_checkpoint(note.decode(errors="replace"), signer)
        except NoteError as exc:
            # Signed by another key than the pinned one: say so, and go on with the bundle's own key
            # so that whatever else was changed is named too.
            if key is not None and bundled is not None and bundled != key:
                try:
                    checkpoint = open_checkpoint(note.decode(errors="replace"), bundled)
                except NoteError:
                    report.problems.append(f"checkpoint.txt: {exc}")
                    return report
                report.key_mismatch = True
                signer = bundled
                report.fingerprint = _fingerprint_of(bundled)
            else:
                report.problems.append(f"checkpoint.txt: {exc}")
                return report
        report.checkpoint = checkpoint
        contents = _open_contents(report, read, signer)
        expected, manifest_changed = _check_contents(report, manifest, contents, archive, listed_names, read)

        # number -> [(ref, sha256)] from the verified records that fix a chat stretch's hash.
        logged_chat: dict[str, list[tuple[str, str]]] = {}
        cited: dict[str, str] = {}  # number -> the ref of the event citing it in the case
        items = manifest.get("items", [])
        for position, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                report.problems.append(f"manifest.json, item #{position + 1}: not an entry")
                continue
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
            if not isinstance(record, dict):
                report.problems.append(f"{ref}: the logged record is not an object")
                continue
            if contents is not None and "case" in record and record["case"] != contents.case:
                report.problems.append(
                    both(
                        f"{ref}: its logged record belongs to case {record['case']}, not to case {contents.case} "
                        "this bundle was made for — a record of another case was put in",
                        f"{ref}：该日志记录属于案件 {record['case']}，而非本证据包所属的案件 {contents.case}"
                        "——被放入了其他案件的记录",
                    )
                )
            number, chat_sha256 = _chat_hash_in(record)
            if number is not None:
                logged_chat.setdefault(number, []).append((ref, chat_sha256))
                if record.get("type") == "case_event":
                    cited.setdefault(number, ref)
            if record.get("type") == "evidence":
                _check_evidence_file(report, ref, item, record, expected.get(ref), read)
        _check_chat(report, manifest, logged_chat, cited, read)
        if manifest_changed and not report.problems:
            report.problems.append(manifest_changed)  # changed in a way no sharper check names
    return report


def _open_contents(report: Report, read: Callable[[str], bytes | None], signer: str) -> Contents | None:
    raw = read(CONTENTS)
    if raw is None:
        return None
    try:
        return Contents.parse(open_note(raw.decode(errors="replace"), signer))
    except NoteError as exc:
        report.problems.append(
            both(
                f"{CONTENTS}: {exc} — the list of what this bundle holds cannot be trusted",
                f"{CONTENTS}：签名或格式无效——无法确认本证据包所含内容",
            )
        )
        return None


def _check_contents(
    report: Report,
    manifest: dict[str, Any],
    contents: Contents | None,
    archive: zipfile.ZipFile,
    listed_names: list[str],
    read: Callable[[str], bytes | None],
) -> tuple[dict[str, Leaf], str]:
    """Hold the manifest and the ZIP's members against the signed contents: the leaves by ref, and
    the problem to name if the manifest differs from the signed one and nothing sharper named it."""
    if contents is None:
        return {}, ""
    if manifest.get("case") != contents.case:
        report.problems.append(
            both(
                f"manifest.json: names case {manifest.get('case')}, but the bundle was made and signed for "
                f"case {contents.case} — the case reference was changed",
                f"manifest.json：写的是案件 {manifest.get('case')}，但本证据包是为案件 {contents.case} "
                "制作并签名的——案件编号被改动",
            )
        )
    if manifest.get("reader", contents.reader) != contents.reader:
        report.problems.append(
            f"manifest.json: says it was made for the {manifest.get('reader')}, the signed contents say for "
            f"the {contents.reader} — the manifest was changed"
        )
    leaves = {leaf.ref: leaf for leaf in contents.leaves}
    items = manifest.get("items", [])
    entries = {
        str(i.get("ref")): i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)
    }
    for leaf in contents.leaves:
        entry = entries.get(leaf.ref)
        if entry is None:
            report.problems.append(
                both(
                    f"{leaf.ref} (leaf {leaf.index}): a logged record of case {contents.case} is left out of "
                    "the manifest — an item was dropped from the bundle",
                    f"{leaf.ref}（第 {leaf.index} 个叶子）：案件 {contents.case} 的一条日志记录不在清单中"
                    "——有一项被从证据包中删去",
                )
            )
        elif entry.get("leaf_index") != leaf.index:
            report.problems.append(
                f"{leaf.ref}: the manifest puts it at leaf {entry.get('leaf_index')}, the signed contents at "
                f"leaf {leaf.index} — the manifest was changed"
            )
        elif leaf.copy in COPIES and (entry.get("copy"), entry.get("file") or "") != (leaf.copy, leaf.file):
            report.problems.append(
                f"{leaf.ref}: the manifest gives file {entry.get('file')!r} ({entry.get('copy')}), the signed "
                f"contents {leaf.file or None!r} ({leaf.copy}) — the manifest was changed"
            )
    for ref in entries:
        if ref not in leaves:
            report.problems.append(
                both(
                    f"{ref}: in the manifest but not in the bundle's signed contents — an item was added",
                    f"{ref}：在清单中，但不在证据包签名的内容列表中——有一项是后加的",
                )
            )
    manifest_changed = ""
    signed = dict(contents.members)
    present = set(listed_names) - {CONTENTS}
    for name in sorted(present - signed.keys()):
        report.problems.append(
            both(
                f"{name}: an extra member, not in the bundle's signed contents — it was added after the "
                "bundle was made",
                f"{name}：多出的文件，不在证据包签名的内容列表中——是在证据包制作后加入的",
            )
        )
    for name, digest in contents.members:
        if name not in present:
            report.problems.append(
                both(
                    f"{name}: missing from the bundle (the signed contents list it)",
                    f"{name}：证据包中缺少此文件（签名的内容列表中有它）",
                )
            )
            continue
        if name.startswith(("files/", "chat/")):
            continue  # each file is held against its logged record, with a sharper message
        try:
            actual = _sha256_member(archive, name)
        except UNREADABLE:
            read(name)  # names it as damaged
            continue
        if actual == digest:
            continue
        if name == "manifest.json":
            manifest_changed = both(
                f"manifest.json: changed after the bundle was made (SHA-256 {actual}, signed {digest})",
                "manifest.json：在证据包制作后被改动",
            )
        elif name.startswith(VERIFIER_DIR):
            report.problems.append(
                both(
                    f"{name}: the bundled verifier's code was changed (SHA-256 {actual}, signed {digest}) — "
                    "do not run the copy in this bundle; use a verifier you got yourself",
                    f"{name}：证据包内附的验证程序代码被改动——请勿运行包内的这份程序，请使用您自行取得的验证程序",
                )
            )
        else:
            report.problems.append(
                both(
                    f"{name}: changed after the bundle was made (SHA-256 {actual}, signed {digest})",
                    f"{name}：在证据包制作后被改动",
                )
            )
    return leaves, manifest_changed


def _sha256_member(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while chunk := member.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _check_evidence_file(
    report: Report,
    ref: str,
    item: dict[str, Any],
    record: dict[str, Any],
    leaf: Leaf | None,
    read: Callable[[str], bytes | None],
) -> None:
    """The evidence item's file: the original against the logged SHA-256 and size, a clean copy
    against the logged clean_sha256; a file withheld from this reader is noted, not failed."""
    copy = item.get("copy", "original")
    file_name = item.get("file")
    if copy == "withheld" and not file_name:
        if leaf is not None and leaf.copy == "withheld":
            report.notes.append(
                both(
                    f"{ref}: its file is not in this bundle — its reader may not open it (the platform's "
                    "agents only); its SHA-256 in the log is checked",
                    f"{ref}：此文件不在本证据包中——本证据包的读者无权打开它（仅平台客服可见）；已核对日志中的 SHA-256",
                )
            )
        return
    if not file_name:
        report.problems.append(f"{ref}: no file is named for this evidence item")
        return
    data = read(str(file_name))
    if data is None:
        return
    digest = hashlib.sha256(data).hexdigest()
    if copy == "clean":
        if digest != record.get("clean_sha256"):
            report.problems.append(
                f"{file_name} ({ref}): the clean copy's SHA-256 is {digest}; the log recorded "
                f"{record.get('clean_sha256')} — the file was changed"
            )
            return
    elif digest != record.get("sha256") or len(data) != record.get("size"):
        report.problems.append(
            f"{file_name} ({ref}): the file's SHA-256 is {digest} and its size {len(data)}; the log "
            f"recorded {record.get('sha256')} and {record.get('size')} — the file was changed"
        )
        return
    report.checked_files += 1


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


EPILOG = """\
Pin the platform's log key, as it publishes it (its /verify/ page, or GET /api/log/checkpoint):
--key with the key line or a file holding it, or --fingerprint with its 64 hex digits; or the
environment variable REVIEWSHIELD_VERIFY_KEY (key line or file) or REVIEWSHIELD_VERIFY_FINGERPRINT.

exit codes:
  0  OK: intact, and signed by the pinned key
  1  FAILED: something was changed, dropped, added or damaged (each named)
  2  the command was called wrongly
  3  ORIGIN UNVERIFIED: intact against the key the bundle carries, but no key was pinned
  4  FORGED OR UNKNOWN KEY: not signed by the pinned key

请用平台公布的日志密钥（其 /verify/ 页面或 GET /api/log/checkpoint）指定 --key 或 --fingerprint。
退出码：0 通过；1 未通过（有改动、删除、增加或损坏）；2 用法错误；3 来源未验证（未指定密钥）；4 伪造或未知密钥。
"""


def _pinned_key(value: str) -> str:
    """A verifier key given on the command line: the key line itself, or a file holding it."""
    candidate = Path(value)
    text = value
    if "+" not in value or candidate.is_file():
        try:
            text = candidate.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"cannot read the key file {value}: {exc}") from None
    try:
        key_fingerprint(text)
    except NoteError as exc:
        raise argparse.ArgumentTypeError(f"not a log verifier key ({exc}) / 不是有效的日志验证密钥") from None
    return text


def _pinned_fingerprint(value: str) -> str:
    digits = fingerprint_digits(value)
    if len(digits) != 64 or any(c not in "0123456789abcdef" for c in digits):
        raise argparse.ArgumentTypeError(
            "a fingerprint is 64 hexadecimal digits (spaces allowed) / 指纹应为 64 位十六进制数字（可含空格）"
        )
    return digits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="reviewshield verify",
        description=__doc__.split("\n\n")[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", help="the bundle ZIP")
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument(
        "--key",
        type=_pinned_key,
        help="the log's verifier key as the platform publishes it, or a file holding it",
    )
    pin.add_argument(
        "--fingerprint", type=_pinned_fingerprint, help="the log key's fingerprint (64 hex digits)"
    )
    parser.add_argument(
        "--tsa-ca",
        type=Path,
        help="the time-stamping authority's root certificate(s), PEM, as it publishes them",
    )
    args = parser.parse_args(argv)
    key, fingerprint = args.key, args.fingerprint
    if key is None and fingerprint is None:
        # The environment pins the key for whoever checks many bundles (a police station's machine).
        try:
            if os.environ.get("REVIEWSHIELD_VERIFY_KEY"):
                key = _pinned_key(os.environ["REVIEWSHIELD_VERIFY_KEY"])
            elif os.environ.get("REVIEWSHIELD_VERIFY_FINGERPRINT"):
                fingerprint = _pinned_fingerprint(os.environ["REVIEWSHIELD_VERIFY_FINGERPRINT"])
        except argparse.ArgumentTypeError as exc:
            parser.error(f"REVIEWSHIELD_VERIFY_KEY / REVIEWSHIELD_VERIFY_FINGERPRINT: {exc}")
    report = verify_bundle(
        args.bundle,
        key=key,
        fingerprint=fingerprint,
        tsa_ca=args.tsa_ca.read_bytes() if args.tsa_ca else None,
    )
    print(report.text())
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
