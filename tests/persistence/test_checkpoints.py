"""Signed checkpoints: the root of the whole log's Merkle tree, signed with a key kept
outside the database. A rewrite that keeps every hash chain consistent (the event
and its hashes redone) still fails the checkpoint; proofs let an auditor who kept a
checkpoint check inclusion and consistency with nothing but hashes."""

from __future__ import annotations

import os
import stat

import msgspec
import pytest

from adapters.signing import SigningKey
from domain import merkle
from domain.errors import Conflict, TamperedRecord
from domain.hashing import GENESIS, event_hash
from tests.persistence.test_tamper_evidence import forge, row, sql, unit_ledger  # noqa: F401


def kinds(ledger) -> list[tuple[str, int | None]]:
    return [(p.kind, p.position) for p in ledger.verify().problems]


def test_a_checkpoint_is_signed_with_a_key_created_outside_the_database(
    unit_ledger, tmp_path, monkeypatch
):
    ledger, _ = unit_ledger
    signing_key_file = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv("CHANJIAO_SIGNING_KEY", str(signing_key_file))
    checkpoint = ledger.checkpoint()
    assert signing_key_file.exists()
    assert stat.S_IMODE(os.stat(signing_key_file).st_mode) == 0o600
    assert (checkpoint.size, checkpoint.position) == (5, ledger.recorder.max_notification_id())
    assert checkpoint.signature_ok()
    assert checkpoint.key_id == SigningKey.load(signing_key_file).id
    hashes = [merkle.leaf_hash(h) for *_, h in ledger.chain.leaves(ledger.factory.datastore, 5)]
    assert checkpoint.root == merkle.root(hashes).hex()
    assert ledger.checkpoints() == [checkpoint]
    result = ledger.verify()
    assert result.ok and result.checkpoints_checked == 1


def test_a_log_that_has_not_grown_keeps_its_checkpoint_and_a_grown_one_gets_another(unit_ledger):
    ledger, unit = unit_ledger
    first = ledger.checkpoint()
    assert ledger.checkpoint() == first
    ledger.rename_unit(unit, name="新名", effective_on="2025-06-01", principal="p")
    second = ledger.checkpoint()
    assert second.size == first.size + 1
    assert ledger.checkpoints() == [first, second]
    assert ledger.verify().ok


def test_an_empty_log_has_nothing_to_checkpoint(ledger):
    with pytest.raises(Conflict, match="nothing to checkpoint"):
        ledger.checkpoint()


def test_an_event_rewritten_with_its_hashes_redone_is_caught_by_the_checkpoint(unit_ledger):
    ledger, unit = unit_ledger
    checkpoint = ledger.checkpoint()
    forge(ledger, unit, 2, "甲公司二", "丙公司")
    prev = GENESIS
    for version in (1, 2, 3):  # redo the unit's chain, as someone who knows the format would
        r = row(ledger, unit, version)
        prev = event_hash(prev, r["topic"], unit, version, bytes(r["state"]))
        sql(
            ledger,
            "UPDATE {chain} SET hash = ? WHERE originator_id = ? AND originator_version = ?",
            (prev.hex(), ledger.chain.key(unit), version),
        )
    assert kinds(ledger) == [("checkpoint", checkpoint.position)]
    assert "no longer has the root" in ledger.verify().problems[0].detail


def test_the_last_event_deleted_with_its_hash_is_caught_by_the_checkpoint(unit_ledger):
    ledger, unit = unit_ledger
    ledger.checkpoint()
    for table in ("{events}", "{chain}"):
        sql(
            ledger,
            f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = 3",
            (ledger.chain.key(unit),),
        )
    problems = ledger.verify().problems
    assert [p.kind for p in problems] == ["checkpoint"]
    assert "holds 4 events; the checkpoint signed 5" in problems[0].detail


def test_an_altered_checkpoint_fails_its_signature(unit_ledger):
    ledger, _ = unit_ledger
    checkpoint = ledger.checkpoint()
    sql(ledger, f"UPDATE {ledger.chain.checkpoint_table} SET position = position + 1")
    problems = ledger.verify().problems
    assert ("checkpoint", checkpoint.position + 1) in [(p.kind, p.position) for p in problems]
    assert "does not match its signature" in problems[0].detail


def test_a_checkpoint_signed_by_another_key_is_named(unit_ledger, tmp_path, monkeypatch):
    ledger, _ = unit_ledger
    monkeypatch.setenv("CHANJIAO_SIGNING_KEY", str(tmp_path / "ledger.key"))
    ledger.checkpoint(key=SigningKey.load(tmp_path / "someone-else.key"))
    assert ledger.verify().ok  # without this ledger's key at hand, any valid signature will do
    SigningKey.load()  # this ledger's key file, CHANJIAO_SIGNING_KEY
    problems = ledger.verify().problems
    assert [p.kind for p in problems] == ["checkpoint"]
    assert "not by this ledger's key" in problems[0].detail
    assert ledger.checkpoint().size == 5  # a key replaced: the signer carries on


def test_no_checkpoint_is_signed_over_a_log_that_does_not_verify(unit_ledger):
    ledger, unit = unit_ledger
    forge(ledger, unit, 2, "甲公司二", "丙公司")
    with pytest.raises(TamperedRecord, match="no checkpoint was signed"):
        ledger.checkpoint()
    assert ledger.checkpoints() == []


def test_every_event_has_an_inclusion_proof_an_auditor_can_check(unit_ledger):
    ledger, _ = unit_ledger
    checkpoint = ledger.checkpoint()
    positions = [p for p, *_ in ledger.chain.leaves(ledger.factory.datastore, checkpoint.size)]
    for index, position in enumerate(positions):
        proof = ledger.prove_inclusion(position)
        assert (proof.index, proof.checkpoint) == (index, checkpoint) and proof.verified
        leaf = merkle.leaf_hash(bytes.fromhex(proof.event_hash))
        path = [bytes.fromhex(h) for h in proof.proof]
        assert merkle.verify_inclusion(
            index, checkpoint.size, leaf, path, bytes.fromhex(checkpoint.root)
        )
        assert not merkle.verify_inclusion(
            index, checkpoint.size, merkle.leaf_hash(b"x"), path, bytes.fromhex(checkpoint.root)
        )


def test_a_later_checkpoint_proves_it_extends_an_earlier_one(unit_ledger):
    ledger, unit = unit_ledger
    first = ledger.checkpoint()
    for i in range(3):
        ledger.rename_unit(unit, name=f"名{i}", effective_on=f"2025-0{i + 4}-01", principal="p")
    second = ledger.checkpoint()
    proof = ledger.prove_consistency(first.size)
    assert (proof.first, proof.second, proof.verified) == (first, second, True)
    path = [bytes.fromhex(h) for h in proof.proof]
    assert merkle.verify_consistency(
        first.size, second.size, bytes.fromhex(first.root), bytes.fromhex(second.root), path
    )
    forged_first = msgspec.structs.replace(first, root=merkle.leaf_hash(b"x").hex())
    assert not merkle.verify_consistency(
        first.size, second.size, bytes.fromhex(forged_first.root), bytes.fromhex(second.root), path
    )
