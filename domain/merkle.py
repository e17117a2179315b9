"""Merkle trees over the ledger's event hashes, as RFC 9162 (Certificate
Transparency 2.0) §2.1 defines them, with its inclusion and consistency proofs.

A checkpoint signs the root of the tree over the first ``n`` event hashes in
position order. An auditor who kept an earlier checkpoint asks for a consistency
proof that today's log extends it, and for an inclusion proof that an event is in
it; both are checked here with nothing but hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

Hash = bytes


def leaf_hash(entry: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[Hash]) -> Hash:
    """MTH(D[n]) of already-hashed leaves, computed level by level (RFC 9162 §2.1.1:
    an odd node at the end of a level is carried up unchanged)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(index: int, leaves: Sequence[Hash]) -> list[Hash]:
    """PATH(m, D[n]) (§2.1.3.1): the audit path of leaf ``index``."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root(leaves[:k])]


def verify_inclusion(index: int, size: int, leaf: Hash, proof: Sequence[Hash], top: Hash) -> bool:
    """§2.1.3.2: does ``proof`` put ``leaf`` at ``index`` in the tree of ``size`` with
    root ``top``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == top


def consistency_proof(old_size: int, leaves: Sequence[Hash]) -> list[Hash]:
    """PROOF(m, D[n]) (§2.1.4.1): that the first ``old_size`` leaves' tree is a prefix."""
    if not 0 < old_size <= len(leaves):
        raise ValueError(f"no tree of {old_size} inside a tree of {len(leaves)}")
    return _subproof(old_size, leaves, True)


def _subproof(m: int, leaves: Sequence[Hash], whole: bool) -> list[Hash]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), root(leaves[:k])]


def verify_consistency(
    old_size: int, new_size: int, old_root: Hash, new_root: Hash, proof: Sequence[Hash]
) -> bool:
    """§2.1.4.2: does ``proof`` show the tree (``new_size``, ``new_root``) extends
    (``old_size``, ``old_root``)?"""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
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
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


class Tree:
    """A tree grown one leaf at a time, keeping only the roots of its perfect
    subtrees (at most log2 n of them): the root of the first ``n`` leaves of a
    million-event log without holding the million leaves."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[tuple[int, Hash]] = []  # (height, root), left to right

    def append(self, leaf: Hash) -> None:
        height, node = 0, leaf
        while self._peaks and self._peaks[-1][0] == height:
            node = node_hash(self._peaks.pop()[1], node)
            height += 1
        self._peaks.append((height, node))
        self.size += 1

    def root(self) -> Hash:
        """MTH of the leaves so far: the perfect subtrees, folded right to left
        (the largest power of two first is exactly RFC 9162's split)."""
        if not self._peaks:
            return EMPTY_ROOT
        top = self._peaks[-1][1]
        for _, peak in reversed(self._peaks[:-1]):
            top = node_hash(peak, top)
        return top


class Levels:
    """Every level of the tree over ``leaves``, kept so that many audit paths cost
    log2 n lookups each rather than a pass over the leaves each (an export proves
    thousands of events against one checkpoint). Built as ``root`` builds the tree:
    pairs hashed level by level, an odd node at a level's end carried up unchanged."""

    def __init__(self, leaves: Sequence[Hash]) -> None:
        self.size = len(leaves)
        self.levels: list[list[Hash]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            level = self.levels[-1]
            up = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            if len(level) % 2:
                up.append(level[-1])
            self.levels.append(up)

    def root(self) -> Hash:
        return self.levels[-1][0] if self.size else EMPTY_ROOT

    def proof(self, index: int) -> list[Hash]:
        """PATH(index, D[n]): the sibling at each level, bottom up; a node carried up
        has no sibling at that level."""
        if not 0 <= index < self.size:
            raise ValueError(f"leaf {index} is not in a tree of {self.size}")
        path = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return path
