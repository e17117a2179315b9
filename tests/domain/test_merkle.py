"""RFC 9162 Merkle trees: roots, inclusion and consistency proofs, checked against a
direct recursive reading of the RFC's definitions and against tampering."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import merkle
from domain.merkle import leaf_hash, node_hash


def mth(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 §2.1.1 writes it (recursive, k = largest power of 2 < n)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def tree(n: int) -> list[bytes]:
    return [leaf_hash(f"event {i}".encode()) for i in range(n)]


def test_the_root_of_known_trees_matches_the_rfcs_recursive_definition():
    for n in range(0, 70):
        assert merkle.root(tree(n)) == mth(tree(n)), n


def test_a_leaf_and_a_node_are_hashed_with_different_prefixes():
    a, b = tree(2)
    assert leaf_hash(a + b) != node_hash(a, b)  # second-preimage resistance of the tree


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_every_leaf_has_an_inclusion_proof_that_verifies(case):
    n, i = case
    leaves = tree(n)
    top = merkle.root(leaves)
    proof = merkle.inclusion_proof(i, leaves)
    assert merkle.verify_inclusion(i, n, leaves[i], proof, top)
    other = leaf_hash(b"not in the log")
    assert not merkle.verify_inclusion(i, n, other, proof, top)
    if n > 1:
        assert not merkle.verify_inclusion((i + 1) % n, n, leaves[i], proof, top)
    if proof:
        bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        assert not merkle.verify_inclusion(i, n, leaves[i], bent, top)


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_a_grown_log_proves_it_extends_every_earlier_tree(case):
    m, n = case
    leaves = tree(n)
    old, new = merkle.root(leaves[:m]), merkle.root(leaves)
    proof = merkle.consistency_proof(m, leaves)
    assert merkle.verify_consistency(m, n, old, new, proof)
    if m < n:
        rewritten = [*leaves[: m - 1], leaf_hash(b"rewritten history")]
        assert not merkle.verify_consistency(m, n, merkle.root(rewritten), new, proof)
        assert not merkle.verify_consistency(m, n, old, merkle.root([*leaves[:-1], old]), proof)


def test_impossible_sizes_do_not_verify():
    leaves = tree(5)
    top = merkle.root(leaves)
    assert not merkle.verify_inclusion(5, 5, leaves[0], [], top)
    assert not merkle.verify_consistency(6, 5, top, top, [])
    assert not merkle.verify_consistency(0, 5, top, top, [])


@settings(deadline=None)  # quadratic by design: every prefix against the RFC's definition
@given(st.integers(0, 130))
def test_a_tree_grown_leaf_by_leaf_has_the_root_of_every_prefix(n):
    leaves = [leaf_hash(str(i).encode()) for i in range(n)]
    tree = merkle.Tree()
    assert tree.root() == merkle.root([])
    for i, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        assert tree.size == i
        assert tree.root() == merkle.root(leaves[:i]) == mth(leaves[:i])


@settings(deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_kept_levels_give_the_rfcs_audit_paths(case):
    n, index = case
    leaves = tree(n)
    levels = merkle.Levels(leaves)
    assert levels.root() == mth(leaves)
    assert levels.proof(index) == merkle.inclusion_proof(index, leaves)
