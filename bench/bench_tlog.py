"""The evidence log on SQLite: tlog_append_per_s (target ≥ 20,000) and tlog_proof_ms at 10,000,000
leaves (target ≤ 1 ms).

Appending is measured through the real path: records queued as the services queue them, then
`log_sequence` giving them leaves (hashes, subtree nodes, queue clean-up) in its transactions.
For the proof figure the 10,000,000-leaf tree's stored hashes are written straight into the node
table (building them through the sequencer would take the benchmark an hour, not the proof any
longer); the proofs are then read through `log_nodes`, the query the API uses.
"""

from __future__ import annotations

import os
import random
import statistics
import time

from harness import Figures, figures, setup_django

APPEND_N = 100_000
PROOF_LEAVES = int(os.environ.get("REVIEWSHIELD_BENCH_TLOG_LEAVES", "10000000"))


@figures("tlog_append_per_s")
def tlog_append() -> Figures:
    setup_django()
    from django.utils import timezone

    from reviewshield.evidence.log import log_sequence_all
    from reviewshield.evidence.models import LogQueue, LogState
    from reviewshield.proofs.records import canonical

    now = timezone.now()
    rows = [
        LogQueue(
            ref=f"event:{i}",
            case_id=i // 10,
            record=canonical({"type": "case_event", "id": i, "case": f"RS{i // 10:010d}", "kind": "filed"}),
            created_at=now,
        )
        for i in range(APPEND_N)
    ]
    LogQueue.objects.bulk_create(rows, batch_size=5000)
    started = time.perf_counter()
    done = log_sequence_all(now=now)
    elapsed = time.perf_counter() - started
    assert done == APPEND_N and LogState.objects.get().size == APPEND_N
    return {"tlog_append_per_s": (APPEND_N / elapsed, "leaves/s")}


@figures("tlog_proof_ms")
def tlog_proof() -> Figures:
    setup_django()
    from django.db import connection, transaction

    from reviewshield.evidence.log import log_nodes
    from reviewshield.evidence.models import LogState, node_id
    from reviewshield.proofs.merkle import Frontier, inclusion_proof, leaf_hash, verify_inclusion

    frontier = Frontier()
    with transaction.atomic(), connection.cursor() as cur:
        batch: list[tuple[int, bytes]] = []
        for i in range(PROOF_LEAVES):
            batch.extend((node_id(*key), h) for key, h in frontier.append(leaf_hash(i.to_bytes(8, "big"))))
            if len(batch) >= 200_000:
                cur.executemany("INSERT INTO evidence_lognode (id, hash) VALUES (%s, %s)", batch)
                batch.clear()
        cur.executemany("INSERT INTO evidence_lognode (id, hash) VALUES (%s, %s)", batch)
        LogState.objects.create(pk=1, size=PROOF_LEAVES)
    root = frontier.root()
    rng = random.Random(7)
    samples = []
    for _ in range(2000):
        index = rng.randrange(PROOF_LEAVES)
        started = time.perf_counter()
        proof = inclusion_proof(index, PROOF_LEAVES, log_nodes)
        samples.append((time.perf_counter() - started) * 1000)
        assert verify_inclusion(leaf_hash(index.to_bytes(8, "big")), index, PROOF_LEAVES, proof, root)
    return {"tlog_proof_ms": (statistics.quantiles(samples, n=20)[-1], "ms (p95)")}
