"""Every case event and evidence item lands in the Merkle log; checkpoints are signed; proofs verify."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from reviewshield.cases import services
from reviewshield.cases.models import CaseEvent
from reviewshield.deadlines.worker import run_worker
from reviewshield.errors import ValidationFailed
from reviewshield.evidence import log
from reviewshield.evidence.models import LogCheckpoint, LogLeaf, LogQueue
from reviewshield.proofs.checkpoint import open_checkpoint
from reviewshield.proofs.merkle import leaf_hash, node_hash, verify_consistency, verify_inclusion
from reviewshield.proofs.records import canonical
from tests.conftest import as_user, local
from tests.samples import statement

NOW = local(2026, 11, 12, 9, 0)


def reference_root(hashes):
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


@pytest.fixture
def case(cast, time_machine):
    time_machine.move_to(NOW, tick=False)
    order = cast.order(trade_success_at=NOW - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=1),
        narrative="He threatened me.",
        files=[statement("chat log", name="chat.txt")],
        now=NOW,
    )
    services.case_answer(case_id=case.pk, seller=cast.alice, kind="defence", text="No.", now=NOW)
    return case


def test_every_event_and_evidence_item_is_queued_in_its_own_transaction(case):
    refs = set(LogQueue.objects.values_list("ref", flat=True))
    events = {f"event:{pk}" for pk in CaseEvent.objects.filter(case=case).values_list("pk", flat=True)}
    assert events <= refs and f"evidence:{case.evidence.get().pk}" in refs
    assert len(refs) == len(events) + 1


def test_a_refused_change_leaves_nothing_in_the_log(case, cast):
    before = LogQueue.objects.count()
    with pytest.raises(ValidationFailed):
        services.case_decide(case_id=case.pk, agent=cast.erin, outcome="uphold", reasons="", now=NOW)
    assert LogQueue.objects.count() == before


def test_sequenced_log_matches_its_records_and_the_signed_checkpoint(case):
    assert log.log_sequence(now=NOW, limit=2) == 2  # in small batches: the frontier carries over
    log.log_sequence_all(now=NOW)
    assert not LogQueue.objects.exists()
    leaves = list(LogLeaf.objects.order_by("index"))
    assert [leaf.index for leaf in leaves] == list(range(len(leaves)))
    cp = log.checkpoint_issue(now=NOW)
    opened = open_checkpoint(cp.note, log.verifier())
    assert opened.size == len(leaves) and opened.origin == "reviewshield.local/evidence"
    assert opened.root == reference_root([leaf_hash(bytes(leaf.record)) for leaf in leaves])
    assert log.checkpoint_issue(now=NOW) is None  # nothing new: no second checkpoint of the same size


def test_records_are_the_canonical_event(case):
    log.log_sequence_all(now=NOW)
    event = CaseEvent.objects.filter(case=case, kind="filed").get()
    leaf = LogLeaf.objects.get(ref=f"event:{event.pk}")
    assert bytes(leaf.record) == canonical(
        {
            "type": "case_event",
            "id": event.pk,
            "case": case.reference,
            "kind": "filed",
            "at": "2026-11-12T01:00:00.000000Z",
            "actor": case.buyer_id,
            "actor_role": "buyer",
            "from": "",
            "to": "awaiting_response",
            "data": event.data,
        }
    )


def test_inclusion_and_consistency_proofs_verify(case, cast):
    first = log.checkpoint_issue(now=NOW)
    services.case_decide(
        case_id=case.pk, agent=cast.erin, outcome="reject", reasons="No evidence of contact.", now=NOW
    )
    decided = CaseEvent.objects.get(case=case, kind="decided")
    found = log.inclusion_for(ref=f"event:{decided.pk}", now=NOW)
    second = found.checkpoint
    assert second.size > first.size
    assert verify_inclusion(found.leaf_hash, found.index, found.size, found.proof, bytes(second.root))
    assert not verify_inclusion(
        leaf_hash(b"something else"), found.index, found.size, found.proof, bytes(second.root)
    )
    proof = log.consistency_between(first.size, second.size)
    assert verify_consistency(first.size, second.size, bytes(first.root), bytes(second.root), proof)
    with pytest.raises(ValidationFailed):
        log.consistency_between(second.size, second.size + 5)


def test_log_api_for_buyer_seller_outsider(case, cast):
    evidence_ref = f"evidence:{case.evidence.get().pk}"
    res = as_user(cast.bob).get("/api/log/inclusion", {"ref": evidence_ref})
    body = res.json()
    assert res.status_code == 200 and '"sha256"' in body["record"]
    root = bytes.fromhex(body["checkpoint"]["root"])
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert verify_inclusion(leaf_hash(body["record"].encode()), body["index"], body["size"], proof, root)
    assert open_checkpoint(body["checkpoint"]["note"], body["checkpoint"]["verifier_key"]).root == root
    seller = as_user(cast.alice).get("/api/log/inclusion", {"ref": evidence_ref}).json()
    assert seller["record"] is None and seller["leaf_hash"] == body["leaf_hash"]
    assert as_user(cast.carol).get("/api/log/inclusion", {"ref": evidence_ref}).status_code == 404
    assert as_user(cast.bob).get("/api/log/inclusion", {"ref": "event:999999"}).status_code == 404

    latest = as_user(cast.carol).get("/api/log/checkpoint").json()
    assert latest["size"] == body["size"]
    assert as_user(cast.bob).post("/api/log/checkpoint").status_code == 403
    res = as_user(cast.erin).get("/api/log/consistency", {"first": 1, "second": latest["size"]})
    assert res.status_code == 200
    bad = as_user(cast.erin).get("/api/log/consistency", {"first": 3, "second": 10_000})
    assert bad.status_code == 422 and "the log's size" in bad.json()["details"]["second"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_signs_checkpoints_on_its_own(cast, settings):
    settings.REVIEWSHIELD_CHECKPOINT_SECONDS = 0
    now = timezone.now()
    order = cast.order(trade_success_at=now - timedelta(days=1))
    services.case_file(
        buyer=cast.bob, order_id=order.pk, harassment_types=["other"], occurred_at=now, narrative="x", now=now
    )
    assert not LogCheckpoint.objects.exists()
    run_worker(name="t", idle_sleep=0, stop=threading.Event(), max_idle_loops=1)
    cp = LogCheckpoint.objects.get()
    assert cp.size == LogLeaf.objects.count() == 1 and not LogQueue.objects.exists()
