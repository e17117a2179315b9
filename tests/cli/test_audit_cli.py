"""``chanjiao audit verify|checkpoint|checkpoints|inclusion|consistency``."""

from __future__ import annotations

import json

import pytest

from domain import merkle


@pytest.fixture
def recorded(run) -> None:
    for _i, (code, name) in enumerate((("91320506000000001K", "甲"), ("91320506000000002N", "乙"))):
        c, _, err = run(
            "unit",
            "register",
            "--code",
            code,
            "--name",
            name,
            "--type",
            "enterprise",
            "--division",
            "320506",
        )
        assert c == 0, err


def test_audit_verify_reports_an_untouched_ledger_and_exits_6_on_tampering(run, database_url):
    run(
        "unit",
        "register",
        "--code",
        "91320506000000001K",
        "--name",
        "甲",
        "--type",
        "enterprise",
        "--division",
        "320506",
    )
    code, out, err = run("audit", "verify", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == {
        "ok": True,
        "events_checked": 1,
        "checkpoints_checked": 0,
        "problems": [],
    }
    from bootstrap import Ledger

    ledger = Ledger(database_url)
    try:
        with ledger.factory.datastore.transaction(commit=True) as cursor:
            cursor.execute(f"DELETE FROM {ledger.chain.events}")
    finally:
        ledger.close()
    code, out, _ = run("audit", "verify", "--format", "json")
    assert code == 6
    assert [p["kind"] for p in json.loads(out)["problems"]] == ["deleted"]


def test_checkpoint_creates_the_key_once_with_a_message_and_signs_the_log(
    run, recorded, tmp_path, monkeypatch
):
    key = tmp_path / "audit" / "signing.key"
    monkeypatch.setenv("CHANJIAO_SIGNING_KEY", str(key))
    code, out, err = run("audit", "checkpoint", "--format", "json")
    assert code == 0, err
    assert f"created a new Ed25519 signing key in {key}" in err
    first = json.loads(out)
    assert (first["size"], first["position"]) == (2, 2)
    code, out, err = run("audit", "checkpoint", "--format", "json")
    assert (code, json.loads(out), err) == (0, first, "")  # the same key, the same log
    code, out, _ = run("audit", "checkpoints", "--format", "json")
    assert json.loads(out) == [first]
    code, out, _ = run("audit", "verify", "--format", "json")
    assert json.loads(out)["checkpoints_checked"] == 1


def test_inclusion_prints_a_path_that_checks_against_the_signed_root(run, recorded):
    checkpoint = json.loads(run("audit", "checkpoint", "--format", "json")[1])
    code, out, err = run("audit", "inclusion", "2", "--format", "json")
    assert code == 0, err
    proof = json.loads(out)
    assert (proof["index"], proof["verified"], proof["checkpoint"]) == (1, True, checkpoint)
    assert merkle.verify_inclusion(
        1,
        2,
        merkle.leaf_hash(bytes.fromhex(proof["event_hash"])),
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(checkpoint["root"]),
    )
    code, _, err = run("audit", "inclusion", "9")
    assert code == 2 and "no event at position 9" in err


def test_consistency_checks_a_kept_checkpoint_file_against_the_latest(run, recorded, tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text(run("audit", "checkpoint", "--format", "json")[1])
    run(
        "unit",
        "register",
        "--code",
        "91320506000000003R",
        "--name",
        "丙",
        "--type",
        "enterprise",
        "--division",
        "320506",
    )
    run("audit", "checkpoint")
    code, out, err = run("audit", "consistency", str(kept), "--format", "json")
    assert code == 0, err
    assert (json.loads(out)["verified"], json.loads(out)["second"]["size"]) == (True, 3)
    forged = json.loads(kept.read_text()) | {"root": "00" * 32}
    kept.write_text(json.dumps(forged))
    code, out, _ = run("audit", "consistency", str(kept), "--format", "json")
    assert (code, json.loads(out)["verified"]) == (6, False)
    code, _, err = run("audit", "consistency", str(tmp_path / "missing.json"))
    assert code == 2 and "neither a checkpoint size nor a file" in err


def test_without_a_checkpoint_the_proofs_say_how_to_get_one(run, recorded):
    code, _, err = run("audit", "inclusion", "1")
    assert code == 3 and "chanjiao audit checkpoint" in err
