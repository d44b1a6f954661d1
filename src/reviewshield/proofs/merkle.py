"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification. PURE: hashlib only.

Written here rather than taken from a library: the one maintained Python package (`pymerkle`) is
GPL and unaudited, and the algorithm is short enough to check line by line against RFC 9162 §2.1
(and, in the tests, against the Certificate Transparency test vectors).

Hashes: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right), empty tree = SHA-256("").

The log stores the hash of every *perfect* subtree, keyed by (level, index): the subtree of
2**level leaves starting at leaf index * 2**level. Any range the RFC's recursion needs splits into
at most log2(n) such subtrees, so proofs are computed from O(log² n) stored hashes fetched at once,
however large the log grows. `Frontier` keeps the right edge of the tree so appending a leaf costs
O(1) amortised hashes.

This module is also copied into every evidence bundle's verifier: it must stay free of Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[
    int, int
]  # (level, index): the perfect subtree of leaves [index << level, (index + 1) << level)
NodeSource = Callable[[Iterable[NodeKey]], Mapping[NodeKey, bytes]]


class ProofError(ValueError):
    """A proof was asked for outside the tree (bad index or sizes)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2): where RFC 6962 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_pieces(start: int, end: int) -> list[NodeKey]:
    """The perfect subtrees, left to right, whose right fold with `node_hash` is MTH(leaves[start:end]).

    Valid for every range the RFC recursion produces: `start` is a multiple of the largest piece.
    """
    pieces: list[NodeKey] = []
    size = end - start
    while size:
        level = size.bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
        size -= 1 << level
    return pieces


def _fold(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _range_hashes(ranges: Sequence[tuple[int, int]], nodes: NodeSource) -> list[bytes]:
    """MTH of each [start, end) range, with one call to `nodes` for every stored hash they need."""
    pieces = [perfect_pieces(a, b) for a, b in ranges]
    stored = nodes({key for p in pieces for key in p})
    try:
        return [_fold([stored[key] for key in p]) for p in pieces]
    except KeyError as missing:
        raise ProofError(f"the log has no hash for subtree {missing.args[0]}") from None


def root_from(size: int, nodes: NodeSource) -> bytes:
    """MTH of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], nodes)[0]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PATH(index, D[0:size]), leaf side first (RFC 9162 §2.1.3.1)."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form PROOF(old, D[0:new]) (RFC 9162 §2.1.4.1)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new}")
    if old == 0 or old == new:
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new, old, True
    while m != end - start:
        k = split_point(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            m -= k
            complete = False
    if not complete:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, nodes: NodeSource) -> list[bytes]:
    return _range_hashes(inclusion_ranges(index, size), nodes)


def inclusion_proofs(indexes: Sequence[int], size: int, nodes: NodeSource) -> list[list[bytes]]:
    """Proofs for many leaves of one tree, reading every stored hash they need in one `nodes` call."""
    paths = [inclusion_ranges(i, size) for i in indexes]
    hashes = iter(_range_hashes([r for path in paths for r in path], nodes))
    return [[next(hashes) for _ in path] for path in paths]


def consistency_proof(old: int, new: int, nodes: NodeSource) -> list[bytes]:
    return _range_hashes(consistency_ranges(old, new), nodes)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` put the leaf hash `leaf` at `index` of the tree with `root`?"""
    if not 0 <= index < size or any(len(h) != HASH_SIZE for h in (leaf, root, *proof)):
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of `new` leaves with `new_root` an append-only extension of `old`?"""
    if not 0 <= old <= new or any(len(h) != HASH_SIZE for h in (old_root, new_root, *proof)):
        return False
    if old == new:
        return not proof and old_root == new_root
    if old == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node of the path
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Frontier:
    """The right edge of a log: the hashes of the perfect subtrees that make up its first `size` leaves.

    `append` returns every (level, index) → hash the new leaf completes, for the store to keep.
    """

    def __init__(self, size: int = 0, pieces: Sequence[bytes] = ()) -> None:
        if len(pieces) != bin(size).count("1"):
            raise ValueError(
                f"a log of {size} leaves has {bin(size).count('1')} perfect pieces, not {len(pieces)}"
            )
        self.size = size
        self._pieces = list(pieces)  # largest (leftmost) first

    @staticmethod
    def keys_for(size: int) -> list[NodeKey]:
        """The stored nodes a `Frontier(size, …)` is built from, largest first."""
        return perfect_pieces(0, size)

    def append(self, leaf: bytes) -> list[tuple[NodeKey, bytes]]:
        index = self.size
        new: list[tuple[NodeKey, bytes]] = [((0, index), leaf)]
        h, level = leaf, 0
        # Each trailing 1-bit of the old size is a piece the new leaf completes into a bigger one.
        while (index >> level) & 1:
            h = node_hash(self._pieces.pop(), h)
            level += 1
            new.append(((level, index >> level), h))
        self._pieces.append(h)
        self.size += 1
        return new

    def root(self) -> bytes:
        return _fold(self._pieces) if self._pieces else EMPTY_ROOT
