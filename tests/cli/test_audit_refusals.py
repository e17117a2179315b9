"""The command line refuses, with exit code 6 and the event named, to prove, export or
fold an event whose stored data was changed in the database; untouched, it answers as
before (exit code 0). On both stores."""

from __future__ import annotations

import json

import pytest

from bootstrap import Ledger
from tests.tampering import alter_stored_event

CODES = ("91320506000000001K", "91320506000000002N")


@pytest.fixture
def body(run, database_url):
    """Two units; a body that admitted the first on 2024-02-01 (its version 2)."""
    for code, name in zip(CODES, ("甲", "乙"), strict=True):
        code_, _, err = run(
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
        assert code_ == 0, err
    code, out, err = run(
        "community",
        "found",
        "--name",
        "苏州联合体",
        "--kind",
        "city",
        "--industry",
        "电子",
        "--division",
        "320500",
        "--founded-on",
        "2024-01-01",
        "--format",
        "json",
    )
    assert code == 0, err
    body = json.loads(out)["id"]
    code, _, err = run("member", "admit", body, CODES[0], "--effective-on", "2024-02-01")
    assert code == 0, err
    ledger = Ledger(database_url)
    try:
        return ledger.community(body).id
    finally:
        ledger.close()


def alter(database_url, body) -> int:
    return alter_stored_event(database_url, body, 2, b'"2024-02-01"', b'"2024-02-09"')


def refused(result, body, position: int) -> str:
    code, out, err = result
    assert (code, out) == (6, "")
    assert f"altered (aggregate {body}, version 2, position {position})" in err
    return err


def test_inclusion_of_an_altered_event_exits_6_naming_it(run, database_url, body):
    assert run("audit", "checkpoint")[0] == 0
    position = alter(database_url, body)
    err = refused(run("audit", "inclusion", str(position), "--format", "json"), body, position)
    assert "no proof is given" in err


def test_consistency_over_an_altered_event_exits_6_naming_it(run, database_url, body, tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text(run("audit", "checkpoint", "--format", "json")[1])
    run("unit", "rename", CODES[1], "--name", "乙二", "--effective-on", "2025-01-01")
    assert run("audit", "checkpoint")[0] == 0
    position = alter(database_url, body)
    refused(run("audit", "consistency", str(kept), "--format", "json"), body, position)


def test_rebuild_exits_6_naming_the_altered_event_and_swaps_nothing_in(run, database_url, body):
    members = run("member", "list", str(body), "--as-of", "2024-02-05", "--format", "json")[1]
    status = run("projections", "status", "--format", "json")[1]
    position = alter(database_url, body)
    err = refused(run("projections", "rebuild", "--format", "json"), body, position)
    assert "not folded" in err
    assert run("projections", "rebuild", "membership")[0] == 6
    assert run("projections", "status", "--format", "json")[1] == status
    after = run("member", "list", str(body), "--as-of", "2024-02-05", "--format", "json")
    assert after[:2] == (0, members) and json.loads(members)["members"]


def test_export_of_a_log_that_does_not_verify_exits_6_and_writes_nothing(
    run, database_url, body, tmp_path
):
    position = alter(database_url, body)
    (tmp_path / "out").mkdir()
    refused(run("audit", "export", str(tmp_path / "out" / "bundle.jsonl")), body, position)
    assert list((tmp_path / "out").iterdir()) == []  # neither the bundle nor a partial one


def test_untouched_the_same_commands_answer_as_before(run, body, tmp_path):
    kept = tmp_path / "kept.json"
    kept.write_text(run("audit", "checkpoint", "--format", "json")[1])
    run("unit", "rename", CODES[1], "--name", "乙二", "--effective-on", "2025-01-01")
    code, out, err = run("audit", "checkpoint", "--format", "json")
    assert code == 0, err
    head = json.loads(out)["position"]
    code, out, err = run("audit", "inclusion", "3", "--format", "json")
    assert (code, json.loads(out)["verified"]) == (0, True), err
    code, out, err = run("audit", "consistency", str(kept), "--format", "json")
    assert (code, json.loads(out)["verified"]) == (0, True), err
    code, out, err = run("projections", "rebuild", "--format", "json")
    assert code == 0, err
    assert {r["position"] for r in json.loads(out)} == {head}
    code, _, err = run("audit", "export", str(tmp_path / "bundle.jsonl"))
    assert code == 0, err
