"""The tamper-evident log: enqueue in the change's transaction, sequence in batches, sign checkpoints, prove.

Flow: a service that writes a case event or an evidence item calls `log_enqueue` inside its own
transaction (one INSERT). The worker — or any reader that needs a proof right now — calls
`log_sequence`, which takes the `LogState` row lock, gives the queued records the next leaf
indexes in queue order, stores every subtree hash they complete and deletes them from the queue,
all in one transaction. `checkpoint_issue` signs the current size and root (C2SP signed note).

Sequencing apart from the change keeps web requests off the log's single lock, and the queue (not
"ids above the last one seen") means a transaction that commits late is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from reviewshield.errors import NotFound, ValidationFailed
from reviewshield.evidence.keys import log_origin, log_verifier_key, signing_key
from reviewshield.evidence.models import LogCheckpoint, LogLeaf, LogNode, LogQueue, LogState, node_id
from reviewshield.proofs.checkpoint import Checkpoint, sign_checkpoint
from reviewshield.proofs.merkle import (
    Frontier,
    NodeKey,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from,
)
from reviewshield.proofs.records import canonical
from reviewshield.rawsql import insert_values

BATCH = 10_000


_QUEUED = ("ref", "case_id", "record", "created_at")


def log_enqueue(*, ref: str, record: Mapping[str, Any], now: datetime, case_id: int | None = None) -> None:
    """Queue a record for the log; call inside the transaction of the change it records."""
    insert_values(LogQueue, _QUEUED, [(ref, case_id, canonical(record), now)])


def log_enqueue_many(items: Iterable[tuple[str, Mapping[str, Any], datetime, int | None]]) -> None:
    """Queue several records, (ref, record, now, case_id) each, in one INSERT; in queue order."""
    rows = [(ref, case_id, canonical(record), now) for ref, record, now, case_id in items]
    insert_values(LogQueue, _QUEUED, rows)  # in queue order; nobody needs their ids back


def log_nodes(keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
    """The stored hashes of these subtrees, in one query (the `NodeSource` the proofs read)."""
    wanted = {node_id(level, index): (level, index) for level, index in keys}
    found: dict[NodeKey, bytes] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 900):  # SQLite's limit on query parameters
        for nid, h in LogNode.objects.filter(id__in=ids[start : start + 900]).values_list("id", "hash"):
            found[wanted[nid]] = bytes(h)
    return found


def log_size() -> int:
    state = LogState.objects.filter(pk=1).first()
    return state.size if state else 0


def log_sequence(*, now: datetime, limit: int = BATCH) -> int:
    """Give queued records their leaves; returns how many were sequenced (0 when the queue is empty)."""
    with transaction.atomic():
        state, _ = LogState.objects.select_for_update().get_or_create(pk=1)
        pending = list(LogQueue.objects.order_by("id").values_list("id", "ref", "case_id", "record")[:limit])
        if not pending:
            return 0
        keys = Frontier.keys_for(state.size)
        stored = log_nodes(keys)
        frontier = Frontier(state.size, [stored[k] for k in keys])
        leaves: list[tuple[int, str, int | None, bytes, datetime]] = []
        nodes: list[tuple[int, bytes]] = []
        for _qid, ref, case_id, record in pending:
            record = bytes(record)
            leaves.append((frontier.size, ref, case_id, record, now))
            nodes.extend((node_id(*key), h) for key, h in frontier.append(leaf_hash(record)))
        # Plain executemany: the ORM's bulk_create spends more time building objects than SQLite
        # spends storing them, and this is the log's hot path (tlog_append_per_s).
        with connection.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {LogLeaf._meta.db_table} (index, ref, case_id, record, sequenced_at) "
                "VALUES (%s, %s, %s, %s, %s)".replace("(index,", '("index",'),
                [(i, r, c, rec, connection.ops.adapt_datetimefield_value(at)) for i, r, c, rec, at in leaves],
            )
            cur.executemany(f"INSERT INTO {LogNode._meta.db_table} (id, hash) VALUES (%s, %s)", nodes)
        ids = [p[0] for p in pending]
        for start in range(0, len(ids), 900):
            LogQueue.objects.filter(id__in=ids[start : start + 900]).delete()
        state.size = frontier.size
        state.save(update_fields=["size"])
        return len(pending)


def log_sequence_all(*, now: datetime) -> int:
    total = 0
    while n := log_sequence(now=now):
        total += n
    return total


def checkpoint_issue(*, now: datetime, force: bool = False) -> LogCheckpoint | None:
    """Sign the log as it stands, unless the latest checkpoint already covers this size."""
    log_sequence_all(now=now)
    with transaction.atomic():
        state, _ = LogState.objects.select_for_update().get_or_create(pk=1)
        latest = LogCheckpoint.objects.first()
        if latest is not None and latest.size == state.size and not force:
            return None
        root = root_from(state.size, log_nodes)
        body = Checkpoint(log_origin(), state.size, root)
        note = sign_checkpoint(body, log_origin(), signing_key())
        return LogCheckpoint.objects.create(size=state.size, root=root, note=note, issued_at=now)


def checkpoint_tick(*, now: datetime) -> LogCheckpoint | None:
    """The worker's regular duty: sequence, and sign when the log grew and the last one is old enough."""
    log_sequence_all(now=now)
    latest = LogCheckpoint.objects.first()
    every = timedelta(seconds=settings.REVIEWSHIELD_CHECKPOINT_SECONDS)
    if latest is not None and (latest.size == log_size() or latest.issued_at > now - every):
        return None
    return checkpoint_issue(now=now)


def latest_checkpoint(*, now: datetime) -> LogCheckpoint:
    latest = LogCheckpoint.objects.first()
    return latest if latest is not None else checkpoint_issue(now=now, force=True)  # type: ignore[return-value]


@dataclass(frozen=True)
class InclusionProof:
    ref: str
    index: int
    size: int
    record: bytes
    leaf_hash: bytes
    proof: list[bytes]
    checkpoint: LogCheckpoint


def inclusion_for(*, ref: str, now: datetime) -> InclusionProof:
    """The proof that the record `ref` is in the log, against the newest checkpoint that covers it."""
    leaf = LogLeaf.objects.filter(ref=ref).first()
    if leaf is None and LogQueue.objects.filter(ref=ref).exists():
        log_sequence_all(now=now)
        leaf = LogLeaf.objects.filter(ref=ref).first()
    if leaf is None:
        raise NotFound()
    checkpoint = LogCheckpoint.objects.first()
    if checkpoint is None or checkpoint.size <= leaf.index:
        checkpoint = checkpoint_issue(now=now, force=True)
    assert checkpoint is not None
    record = bytes(leaf.record)
    return InclusionProof(
        ref=ref,
        index=leaf.index,
        size=checkpoint.size,
        record=record,
        leaf_hash=leaf_hash(record),
        proof=inclusion_proof(leaf.index, checkpoint.size, log_nodes),
        checkpoint=checkpoint,
    )


def consistency_between(first: int, second: int) -> list[bytes]:
    if not 0 <= first <= second <= log_size():
        raise ValidationFailed(
            details={
                "second": str(_("Choose sizes with 0 ≤ first ≤ second ≤ %(size)d, the log's size."))
                % {"size": log_size()}
            }
        )
    try:
        return consistency_proof(first, second, log_nodes)
    except ProofError as exc:  # pragma: no cover - sizes are checked above
        raise ValidationFailed(details={"first": str(exc)}) from exc


def verifier() -> str:
    return log_verifier_key()
