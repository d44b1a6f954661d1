"""RFC 6962 / 9162 hashing and proofs: the published test vectors, then properties over every shape."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewshield.proofs.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_proof,
    inclusion_proof,
    inclusion_proofs,
    leaf_hash,
    node_hash,
    root_from,
    verify_consistency,
    verify_inclusion,
)

# Certificate Transparency reference data (RFC 6962 test vectors as published with the
# transparency-dev Merkle implementation): eight leaves and the root of every prefix 0..8.
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
VECTOR_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
VECTOR_CONSISTENCY = [
    (2, 8, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


class Store:
    """A log kept the way the database keeps it: every perfect subtree's hash, built by a Frontier."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.frontier = Frontier()
        for leaf in leaves:
            self.nodes.update(self.frontier.append(leaf))

    def __call__(self, keys):
        return {k: self.nodes[k] for k in keys if k in self.nodes}


def reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1, recursively: the independent yardstick."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(reference_root(leaves[:k]), reference_root(leaves[k:]))


VECTOR_HASHES = [leaf_hash(d) for d in VECTOR_LEAVES]


def test_hashes_use_the_rfc_prefixes():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert EMPTY_ROOT.hex() == VECTOR_ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_vectors(size):
    store = Store(VECTOR_HASHES[:size])
    assert root_from(size, store).hex() == VECTOR_ROOTS[size]
    assert store.frontier.root().hex() == VECTOR_ROOTS[size]


@pytest.mark.parametrize(("index", "size", "expected"), VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index, size, expected):
    store = Store(VECTOR_HASHES)
    proof = inclusion_proof(index, size, store)
    assert [h.hex() for h in proof] == expected
    assert verify_inclusion(VECTOR_HASHES[index], index, size, proof, bytes.fromhex(VECTOR_ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "expected"), VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(old, new, expected):
    store = Store(VECTOR_HASHES)
    proof = consistency_proof(old, new, store)
    assert [h.hex() for h in proof] == expected
    assert verify_consistency(
        old, new, bytes.fromhex(VECTOR_ROOTS[old]), bytes.fromhex(VECTOR_ROOTS[new]), proof
    )


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_every_proof_in_every_tree_up_to_70_leaves():
    leaves = leaves_of(70)
    store = Store(leaves)
    roots = [reference_root(leaves[:n]) for n in range(71)]
    for n in range(71):
        assert root_from(n, store) == roots[n]
        for i in range(n):
            proof = inclusion_proof(i, n, store)
            assert verify_inclusion(leaves[i], i, n, proof, roots[n])
            assert not verify_inclusion(leaves[i], i, n, proof, roots[n - 1] if n > 1 else b"\x00" * 32)
        for m in range(n + 1):
            proof = consistency_proof(m, n, store)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))), st.data())
def test_inclusion_property_and_any_change_is_caught(n_i, data):
    n, i = n_i
    leaves = leaves_of(n)
    store = Store(leaves)
    root = store.frontier.root()
    proof = inclusion_proof(i, n, store)
    assert len(proof) <= (n - 1).bit_length()
    assert verify_inclusion(leaves[i], i, n, proof, root)
    other = data.draw(st.integers(0, n - 1).filter(lambda j: j != i)) if n > 1 else None
    if other is not None:
        assert not verify_inclusion(leaves[other], i, n, proof, root)  # another leaf
        assert not verify_inclusion(leaves[i], other, n, proof, root)  # another place
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bent = [*proof]
        bent[k] = bytes([bent[k][0] ^ (1 << (bit % 8)), *bent[k][1:]])
        assert not verify_inclusion(leaves[i], i, n, bent, root)
        assert not verify_inclusion(leaves[i], i, n, proof[:-1], root)
    assert not verify_inclusion(leaves[i], i, n, [*proof, b"\xab" * 32], root)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))), st.data())
def test_consistency_property_and_any_change_is_caught(m_n, data):
    m, n = m_n
    leaves = leaves_of(n)
    store = Store(leaves)
    old_root, new_root = root_from(m, store), root_from(n, store)
    proof = consistency_proof(m, n, store)
    assert verify_consistency(m, n, old_root, new_root, proof)
    if m < n:
        rewritten = [*leaves[: m - 1], leaf_hash(b"rewritten history")]
        assert not verify_consistency(m, n, reference_root(rewritten), new_root, proof)
        k = data.draw(st.integers(0, len(proof) - 1))
        bent = [*proof]
        bent[k] = bytes([bent[k][0] ^ 1, *bent[k][1:]])
        assert not verify_consistency(m, n, old_root, new_root, bent)
        assert not verify_consistency(m, n, old_root, new_root, proof[:-1])
        assert not verify_consistency(m, n, old_root, new_root, [*proof, b"\xcd" * 32])


def test_bad_requests_and_malformed_hashes():
    store = Store(VECTOR_HASHES)
    for index, size in ((8, 8), (-1, 8), (0, 0)):
        with pytest.raises(ProofError):
            inclusion_proof(index, size, store)
    with pytest.raises(ProofError):
        consistency_proof(5, 3, store)
    with pytest.raises(ProofError):
        inclusion_proof(0, 9, store)  # the log has only 8 leaves
    root8 = bytes.fromhex(VECTOR_ROOTS[8])
    proof = inclusion_proof(5, 8, store)
    assert not verify_inclusion(VECTOR_HASHES[5][:31], 5, 8, proof, root8)
    assert not verify_inclusion(VECTOR_HASHES[5], 5, 8, [proof[0][:31], *proof[1:]], root8)
    assert not verify_consistency(6, 8, bytes.fromhex(VECTOR_ROOTS[6]), root8, [])
    assert verify_consistency(4, 4, bytes.fromhex(VECTOR_ROOTS[4]), bytes.fromhex(VECTOR_ROOTS[4]), [])
    assert not verify_consistency(4, 4, bytes.fromhex(VECTOR_ROOTS[4]), bytes.fromhex(VECTOR_ROOTS[5]), [])
    assert verify_consistency(0, 8, EMPTY_ROOT, root8, [])
    assert not verify_consistency(8, 6, root8, bytes.fromhex(VECTOR_ROOTS[6]), [])


def test_frontier_restarts_from_stored_pieces():
    leaves = leaves_of(45)
    store = Store(leaves[:37])
    pieces = [store.nodes[k] for k in Frontier.keys_for(37)]
    resumed = Frontier(37, pieces)
    for leaf in leaves[37:]:
        store.nodes.update(resumed.append(leaf))
    assert resumed.root() == reference_root(leaves)
    assert root_from(45, store) == reference_root(leaves)
    with pytest.raises(ValueError):
        Frontier(37, pieces[:-1])


def test_many_proofs_at_once_equal_one_by_one_and_read_the_store_once():
    leaves = leaves_of(300)
    store = Store(leaves)
    calls = []

    def counted(keys):
        calls.append(1)
        return store(keys)

    indexes = [0, 1, 150, 255, 256, 299]
    together = inclusion_proofs(indexes, 300, counted)
    assert len(calls) == 1
    assert together == [inclusion_proof(i, 300, store) for i in indexes]
    assert inclusion_proofs([], 300, counted) == []
