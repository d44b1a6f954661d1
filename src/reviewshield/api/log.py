"""The tamper-evident log: its latest signed checkpoint, inclusion and consistency proofs.

Anyone, without login, may read the latest checkpoint with the log's verifier key and its
fingerprint: that is how an outsider pins the key `reviewshield verify` checks a bundle against.
Anyone logged in may read consistency proofs (they reveal only sizes and hashes).
An inclusion proof is about one case's record: the case's buyer and agents get the record with it;
the seller gets the proof and the leaf hash, not the record, which may quote the buyer. A chat
evidence number's record (`chat_evidence:<id>`) belongs to no case: it is shown to whoever may see
the number (agents, the buyer who made it, the shop's seller once it is cited against them).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.responses import Status

from reviewshield.accounts.models import Role
from reviewshield.api.bounds import MAX_ID
from reviewshield.api.core import ErrorOut, require_roles
from reviewshield.cases import selectors
from reviewshield.cases.models import Side
from reviewshield.chat.selectors import chat_evidence_side_for_user
from reviewshield.errors import NotFound
from reviewshield.evidence import log
from reviewshield.evidence.models import LogCheckpoint, LogLeaf, LogQueue
from reviewshield.proofs.checkpoint import key_fingerprint

router = Router(tags=["log"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class CheckpointOut(Schema):
    origin: str
    size: int
    root: str  # hex
    note: str  # the C2SP signed note, ready for any signed-note verifier
    issued_at: datetime
    verifier_key: str
    # SHA-256 of the key (64 hex digits in groups of four) to compare with `reviewshield verify`'s.
    fingerprint: str
    # The RFC 3161 timestamp of `note` (SHA-256 of its UTF-8 bytes) from the platform's TSA, base64
    # of the DER TimeStampResp (`openssl ts -verify -data note.txt -in note.tsr -CAfile TSA.pem`),
    # and its genTime; null until the TSA has answered, or when timestamps are off.
    timestamp_response: str | None
    timestamped_at: datetime | None


def _checkpoint_out(cp: LogCheckpoint) -> dict[str, Any]:
    return {
        "origin": log.log_origin(),
        "size": cp.size,
        "root": bytes(cp.root).hex(),
        "note": cp.note,
        "issued_at": cp.issued_at,
        "verifier_key": log.verifier(),
        "fingerprint": key_fingerprint(log.verifier()),
        "timestamp_response": (
            base64.b64encode(bytes(cp.timestamp_response)).decode()
            if cp.timestamp_response is not None
            else None
        ),
        "timestamped_at": cp.timestamped_at,
    }


@router.get(
    "/log/checkpoint",
    response={200: CheckpointOut, **ERRORS},
    auth=None,
    summary="The latest signed checkpoint, with the log's verifier key and fingerprint (no login)",
)
def checkpoint_latest(request: HttpRequest) -> Any:
    return _checkpoint_out(log.latest_checkpoint(now=timezone.now()))


@router.post(
    "/log/checkpoint",
    response={201: CheckpointOut, 200: CheckpointOut, **ERRORS},
    summary="Sign a checkpoint now (agents, admins, the marketplace's systems)",
)
def checkpoint_now(request: HttpRequest) -> Any:
    require_roles(request, Role.AGENT, Role.SENIOR_AGENT, Role.ADMIN, Role.SYSTEM)
    now = timezone.now()
    issued = log.checkpoint_issue(now=now)
    if issued is None:
        return Status(200, _checkpoint_out(log.latest_checkpoint(now=now)))
    return Status(201, _checkpoint_out(issued))


class InclusionOut(Schema):
    ref: str
    index: int
    size: int
    leaf_hash: str
    record: str | None
    proof: list[str]
    checkpoint: CheckpointOut


class InclusionQuery(Schema):
    ref: str  # "event:<id>", "evidence:<id>" or "chat_evidence:<id>"


@router.get(
    "/log/inclusion",
    response={200: InclusionOut, **ERRORS},
    summary="Proof that a case event, an evidence item or a chat evidence number is in the log",
)
def inclusion(request: HttpRequest, q: Query[InclusionQuery]) -> Any:
    side = _side_for_ref(request.auth, q.ref)  # type: ignore[attr-defined]
    found = log.inclusion_for(ref=q.ref, now=timezone.now())
    return {
        "ref": found.ref,
        "index": found.index,
        "size": found.size,
        "leaf_hash": found.leaf_hash.hex(),
        "record": None if side == Side.SELLER else found.record.decode(),
        "proof": [h.hex() for h in found.proof],
        "checkpoint": _checkpoint_out(found.checkpoint),
    }


def _side_for_ref(user: Any, ref: str) -> str:
    """The side from which `user` sees the logged record `ref`; NotFound for outsiders and unknown refs."""
    kind, _, key = ref.partition(":")
    if kind == "chat_evidence":
        if not (key.isascii() and key.isdigit()) or int(key) > MAX_ID:
            raise NotFound()
        return chat_evidence_side_for_user(user, int(key))
    case_id = (
        LogLeaf.objects.filter(ref=ref).values_list("case_id", flat=True).first()
        or LogQueue.objects.filter(ref=ref).values_list("case_id", flat=True).first()
    )
    if case_id is None:
        raise NotFound()
    _case, side = selectors.case_get_for_user(user, case_id)
    return side


class ConsistencyQuery(Schema):
    first: int
    second: int


class ConsistencyOut(Schema):
    first: int
    second: int
    proof: list[str]


@router.get(
    "/log/consistency",
    response={200: ConsistencyOut, **ERRORS},
    summary="Proof that the log of `second` leaves extends the log of `first` leaves",
)
def consistency(request: HttpRequest, q: Query[ConsistencyQuery]) -> Any:
    proof = log.consistency_between(q.first, q.second)
    return {"first": q.first, "second": q.second, "proof": [h.hex() for h in proof]}
