"""Evidence bundles: one ZIP per case that an expert can check offline with `reviewshield verify`.

The bundle carries the case's logged records (events and evidence items, and the records of the
chat evidence numbers cited in it) with their inclusion proofs, the evidence files, each cited
number's frozen messages in their canonical encoding (`chat/<number>.json`, which hashes to the
number's logged SHA-256), the signed checkpoint they verify against, the log's verifier key, and
the verifier's own source code (`verifier/`), so nobody needs our database or our word. When the
checkpoint has an RFC 3161 timestamp, the bundle adds it (`checkpoint.tsr`) and the TSA's
certificates (`tsa-ca.pem`, when configured), and the manifest names them.

Bundles are for the case's buyer and agents only (the API and the pages refuse sellers): they hold
the chat unmasked. A bundle holds exactly the files its reader may open on the case page
(`cases.selectors.evidence_copy_for`, the one rule): the buyer gets their own originals, the clean
copies of the seller's images and texts, and of agents-only kinds (the seller's call records, say)
the logged record with its hash but not the file; agents get every original.

`contents.txt`, signed with the log's key as the bundle is made, lists the case, the reader, every
logged record of the case in the checkpoint and the SHA-256 of every other member, so the verifier
names a record left out, another case reference, an added member or a changed copy of itself.
`index.html` says what the bundle is and how to check it, with the log key's fingerprint.
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db.models import Max, Q

from reviewshield.cases.models import Case, CaseEvidence, Side
from reviewshield.cases.selectors import evidence_copy_for
from reviewshield.chat.digest import excerpt_bytes, lines_of
from reviewshield.chat.selectors import case_citations
from reviewshield.evidence.blobs import blob_open
from reviewshield.evidence.keys import log_origin, signing_key
from reviewshield.evidence.log import checkpoint_issue, log_nodes, log_sequence_all, log_size, verifier
from reviewshield.evidence.models import LogCheckpoint, LogLeaf
from reviewshield.proofs import bundle as bundle_format
from reviewshield.proofs.checkpoint import key_fingerprint, sign
from reviewshield.proofs.merkle import inclusion_proofs

PROOFS_DIR = Path(bundle_format.__file__).resolve().parent
VERIFIER_README = """Check this bundle without ReviewShield's database or servers:

    pip install cryptography
    cd verifier
    python -m reviewshield.proofs.bundle ../<this bundle>.zip --key "<the platform's published log key>"
    (or --fingerprint "<its published fingerprint>")

The code is here in full (verifier/reviewshield/proofs/*.py): RFC 6962/9162 Merkle proofs, C2SP
signed checkpoints with Ed25519, the canonical encoding of chat stretches (chat/<number>.json hashes
to the number's logged SHA-256), and the checks of this bundle. Without --key or --fingerprint it
says ORIGIN UNVERIFIED (exit code 3): the key in log-key.txt proves nothing by itself, since whoever
re-signs a changed bundle replaces it. Get the key or its fingerprint from the platform's /verify/
page. Exit codes: 0 OK, 1 FAILED, 2 wrong usage, 3 ORIGIN UNVERIFIED, 4 FORGED OR UNKNOWN KEY.
A copy of this code that was changed is named by a verifier you got elsewhere (contents.txt signs
the SHA-256 of every file here).

When the bundle holds checkpoint.tsr, an RFC 3161 timestamp of checkpoint.txt, its signature is
checked too once `pip install rfc3161-client` is done (against tsa-ca.pem, or the TSA's root given
with --tsa-ca). Or check it with OpenSSL alone, in the unzipped bundle:

    openssl ts -verify -data checkpoint.txt -in checkpoint.tsr -CAfile tsa-ca.pem
"""


VERIFIER_FILES = (
    "__init__.py",
    "merkle.py",
    "checkpoint.py",
    "bundle.py",
    "records.py",
    "timestamp.py",
    "chatdigest.py",
)

READERS = {Side.BUYER: "buyer", Side.AGENT: "agent"}


def _index_html(*, reference: str, reader: str, fingerprint: str, key: str) -> str:
    """The bundle's readable page: what it is and how to check it; its footer gives the key's fingerprint."""
    e = html.escape
    reader_zh = {"buyer": "消费者", "agent": "平台客服"}[reader]
    return f"""<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8"><title>{e(reference)} — evidence bundle / 证据包</title></head>
<body>
<h1>{e(reference)}</h1>
<p lang="zh-Hans">案件 {e(reference)} 的证据包，为{reader_zh}制作：其可查看的证据文件、案件的全部日志记录及其包含证明、
已签名的检查点，以及验证程序源代码（verifier/）。</p>
<p lang="en">The evidence bundle of case {e(reference)}, made for the {reader}: the evidence files they may open,
every logged record of the case with its inclusion proof, the signed checkpoint, and the verifier's
source code (verifier/).</p>
<h2>如何验证 / How to check it</h2>
<pre>pip install cryptography
cd verifier
python -m reviewshield.proofs.bundle ../{e(reference)}-evidence.zip --fingerprint "&lt;fingerprint&gt;"</pre>
<p lang="zh-Hans">请使用从平台 /verify/ 页面取得的指纹或密钥，而不是本证据包自带的：伪造者重新签名时会一并替换包内的密钥。
未指定密钥时，结果为“来源未验证”（退出码 3）。</p>
<p lang="en">Use the fingerprint or key from the platform's /verify/ page, never the one in this bundle: whoever re-signs
a forged bundle replaces that too. Without a pinned key the verdict is ORIGIN UNVERIFIED (exit code 3).</p>
<footer>
<p>日志密钥指纹 / Log key fingerprint: <code>{e(fingerprint)}</code></p>
<p>日志验证密钥 / Log verifier key: <code>{e(key)}</code></p>
</footer>
</body></html>
"""


def bundle_build(*, case: Case, side: str, now: datetime) -> IO[bytes]:
    """Write the case's bundle for a reader on `side` (buyer or agent) to a temporary file and return
    it open for reading, at the start."""
    reader = READERS[Side(side)]
    log_sequence_all(now=now)
    # The numbers' own records (made before any citation, logged without a case) come along, so the
    # verifier can hold each stretch against the hash fixed when the number was made.
    cited = case_citations(case)
    in_bundle = Q(case_id=case.pk) | Q(ref__in=[f"chat_evidence:{c.evidence.pk}" for c in cited])
    # A checkpoint the TSA has timestamped is better evidence than a fresher one it has not yet
    # answered for: take the newest timestamped one when it covers every record of the case.
    last = LogLeaf.objects.filter(in_bundle).aggregate(last=Max("index"))["last"]
    checkpoint = (
        LogCheckpoint.objects.filter(
            timestamp_response__isnull=False, size__gt=-1 if last is None else last
        ).first()
        or LogCheckpoint.objects.first()
    )
    if checkpoint is None or (checkpoint.timestamp_response is None and checkpoint.size < log_size()):
        checkpoint = checkpoint_issue(now=now, force=True)
    assert checkpoint is not None
    leaves = list(LogLeaf.objects.filter(in_bundle, index__lt=checkpoint.size).order_by("index"))
    evidence = {
        f"evidence:{e.pk}": e
        for e in CaseEvidence.objects.filter(case=case).select_related("blob", "clean_blob")
    }
    members: dict[str, str] = {}  # name -> SHA-256, signed in contents.txt
    leaf_lines: list[bundle_format.Leaf] = []
    out = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; the response closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: bytes | str) -> None:
            raw = data.encode() if isinstance(data, str) else data
            archive.writestr(name, raw)
            members[name] = hashlib.sha256(raw).hexdigest()

        items = []
        proofs = inclusion_proofs([leaf.index for leaf in leaves], checkpoint.size, log_nodes)
        for leaf, proof in zip(leaves, proofs, strict=True):
            entry = {
                "ref": leaf.ref,
                "record": bytes(leaf.record).decode(),
                "leaf_index": leaf.index,
                "proof": [h.hex() for h in proof],
            }
            item = evidence.get(leaf.ref)
            copy, file = "-", ""
            if item is not None:
                blob = evidence_copy_for(item, side)  # the one rule of what this reader may open
                if blob is None:
                    copy = "withheld"
                else:
                    copy = "original" if blob.sha256 == item.blob_id else "clean"
                    file = f"files/{blob.sha256}"
                    entry["file"] = file
                    if file not in members:
                        with (
                            blob_open(blob) as src,
                            archive.open(file, "w", force_zip64=True) as dst,
                        ):
                            shutil.copyfileobj(
                                src, dst, 1 << 20
                            )  # streamed: a large video is never held whole
                        members[file] = blob.sha256  # named by its content; the verifier rehashes it
                entry["copy"] = copy
            leaf_lines.append(bundle_format.Leaf(leaf.index, leaf.ref, copy, file))
            items.append(entry)
        chat = []
        for excerpt in cited:
            number = excerpt.evidence
            # The frozen messages (the number's own, never a later push: conflicts are not stored),
            # exactly as they were hashed; if the stored rows no longer hash to the number, the
            # verifier says so rather than the bundle hiding it.
            stretch = {
                "number": number.number,
                "sha256": number.sha256,
                "messages": number.message_count,
                "ref": f"chat_evidence:{number.pk}",
                "file": f"chat/{number.number}.json",
            }
            put(str(stretch["file"]), excerpt_bytes(number.conversation.key, lines_of(excerpt.messages)))
            chat.append(stretch)
        manifest = {
            "format": bundle_format.FORMAT,
            "case": case.reference,
            "reader": reader,
            "created_at": now.isoformat(),
            "checkpoint": "checkpoint.txt",
            "items": items,
            "chat": chat,
        }
        tsa_ca = settings.REVIEWSHIELD_TSA_CA_FILE
        if checkpoint.timestamp_response is not None:
            manifest["timestamp"] = "checkpoint.tsr"
            if tsa_ca:
                manifest["tsa_certificates"] = "tsa-ca.pem"
        put("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        put("checkpoint.txt", checkpoint.note)
        if checkpoint.timestamp_response is not None:
            put("checkpoint.tsr", bytes(checkpoint.timestamp_response))
            if tsa_ca:
                put("tsa-ca.pem", Path(tsa_ca).read_bytes())
        key = verifier()
        put("log-key.txt", key + "\n")
        put(
            "index.html",
            _index_html(reference=case.reference, reader=reader, fingerprint=key_fingerprint(key), key=key),
        )
        put("verifier/README.txt", VERIFIER_README)
        put("verifier/reviewshield/__init__.py", "")
        for name in VERIFIER_FILES:
            put(f"verifier/reviewshield/proofs/{name}", (PROOFS_DIR / name).read_bytes())
        contents = bundle_format.Contents(
            case=case.reference,
            reader=reader,
            leaves=tuple(leaf_lines),
            members=tuple(sorted(members.items())),
        )
        archive.writestr(bundle_format.CONTENTS, sign(contents.body(), log_origin(), signing_key()))
    out.seek(0)
    return out
