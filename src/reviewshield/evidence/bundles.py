"""Evidence bundles: one ZIP per case that an expert can check offline with `reviewshield verify`.

The bundle carries the case's logged records (events and evidence items, and the records of the
chat evidence numbers cited in it) with their inclusion proofs, the evidence files, each cited
number's frozen messages in their canonical encoding (`chat/<number>.json`, which hashes to the
number's logged SHA-256), the signed checkpoint they verify against, the log's verifier key, and
the verifier's own source code (`verifier/`), so nobody needs our database or our word. When the
checkpoint has an RFC 3161 timestamp, the bundle adds it (`checkpoint.tsr`) and the TSA's
certificates (`tsa-ca.pem`, when configured), and the manifest names them.

Bundles are for the case's buyer and agents only (the API and the pages refuse sellers): they hold
the sealed originals and the chat unmasked.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db.models import Max, Q

from reviewshield.cases.models import Case, CaseEvidence
from reviewshield.chat.digest import excerpt_bytes, lines_of
from reviewshield.chat.selectors import case_citations
from reviewshield.evidence.blobs import blob_open
from reviewshield.evidence.log import checkpoint_issue, log_nodes, log_sequence_all, log_size, verifier
from reviewshield.evidence.models import LogCheckpoint, LogLeaf
from reviewshield.proofs import bundle as bundle_format
from reviewshield.proofs.merkle import inclusion_proofs

PROOFS_DIR = Path(bundle_format.__file__).resolve().parent
VERIFIER_README = """Check this bundle without ReviewShield's database or servers:

    pip install cryptography
    cd verifier
    python -m reviewshield.proofs.bundle ../<this bundle>.zip --key "<the platform's published log key>"

The code is here in full (verifier/reviewshield/proofs/*.py): RFC 6962/9162 Merkle proofs, C2SP
signed checkpoints with Ed25519, the canonical encoding of chat stretches (chat/<number>.json hashes
to the number's logged SHA-256), and the checks of this bundle. Without --key it trusts log-key.txt.

When the bundle holds checkpoint.tsr, an RFC 3161 timestamp of checkpoint.txt, its signature is
checked too once `pip install rfc3161-client` is done (against tsa-ca.pem, or the TSA's root given
with --tsa-ca). Or check it with OpenSSL alone, in the unzipped bundle:

    openssl ts -verify -data checkpoint.txt -in checkpoint.tsr -CAfile tsa-ca.pem
"""


def bundle_build(*, case: Case, now: datetime) -> IO[bytes]:
    """Write the case's bundle to a temporary file and return it open for reading, at the start."""
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
    evidence = {f"evidence:{e.pk}": e for e in CaseEvidence.objects.filter(case=case).select_related("blob")}
    out = tempfile.TemporaryFile()  # noqa: SIM115 - returned open; the response closes it
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
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
            if item is not None:
                entry["file"] = f"files/{item.sha256}"
                if entry["file"] not in archive.namelist():
                    with (
                        blob_open(item.blob) as src,
                        archive.open(entry["file"], "w", force_zip64=True) as dst,
                    ):
                        shutil.copyfileobj(src, dst, 1 << 20)  # streamed: a large video is never held whole
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
            archive.writestr(
                str(stretch["file"]), excerpt_bytes(number.conversation.key, lines_of(excerpt.messages))
            )
            chat.append(stretch)
        manifest = {
            "format": bundle_format.FORMAT,
            "case": case.reference,
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
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        archive.writestr("checkpoint.txt", checkpoint.note)
        if checkpoint.timestamp_response is not None:
            archive.writestr("checkpoint.tsr", bytes(checkpoint.timestamp_response))
            if tsa_ca:
                archive.write(tsa_ca, "tsa-ca.pem")
        archive.writestr("log-key.txt", verifier() + "\n")
        archive.writestr("verifier/README.txt", VERIFIER_README)
        archive.writestr("verifier/reviewshield/__init__.py", "")
        for name in (
            "__init__.py",
            "merkle.py",
            "checkpoint.py",
            "bundle.py",
            "records.py",
            "timestamp.py",
            "chatdigest.py",
        ):
            archive.write(PROOFS_DIR / name, f"verifier/reviewshield/proofs/{name}")
    out.seek(0)
    return out
