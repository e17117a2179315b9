"""The audit bundle: exported, copied elsewhere and checked with no database it
passes; with one byte changed it fails, naming the event (docs/audit-bundle.md)."""

from __future__ import annotations

import ast
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.signing import SigningKey
from bootstrap import Ledger
from cli.main import main
from domain import bundle
from domain.errors import TamperedRecord
from tests.factories import credit_code
from tests.persistence.test_tamper_evidence import forge, unit_ledger  # noqa: F401

OFFLINE = ["--db", "postgresql://nobody@127.0.0.1:1/nowhere"]  # never opened


@pytest.fixture
def body_ledger(unit_ledger):
    """The unit ledger, plus a second body with a member of its own."""
    ledger, unit = unit_ledger
    body = next(ledger.community_ids())
    ledger.admit_member(body, unit, role="participant", effective_on="2024-02-01", principal="p")
    other = ledger.found_community(
        name="无锡联合体",
        kind="city",
        industry="机械",
        division="320200",
        founded_on="2024-01-01",
        principal="p",
    )
    return ledger, unit, body, other.id


def export(ledger, community=None) -> list[bytes]:
    return list(ledger.export(community).lines())


def lines_of(lines: list[bytes], kind: str) -> list[int]:
    return [i for i, line in enumerate(lines) if json.loads(line)["kind"] == kind]


def test_a_bundle_copied_elsewhere_verifies_offline(body_ledger, tmp_path, capsys):
    ledger, *_ = body_ledger
    ledger.checkpoint()
    ledger.rename_unit(body_ledger[1], name="后名", effective_on="2025-05-01", principal="p")
    written = tmp_path / "ledger" / "bundle.jsonl"
    written.parent.mkdir()
    written.write_bytes(b"".join(export(ledger)))
    copy = tmp_path / "elsewhere.jsonl"
    shutil.copy(written, copy)
    key = SigningKey.load().id
    assert (
        main(["audit", "verify-bundle", str(copy), "--key-id", key, "--format", "json", *OFFLINE])
        == 0
    )
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert (result["ok"], result["scope"], result["events_checked"]) == (True, "all", 8)
    assert result["checkpoints_checked"] == 2  # the one kept earlier and the export's anchor
    assert (result["key_id"], result["key_pinned"], err) == (key, True, "")


def test_a_bundle_checked_without_the_published_key_is_only_shown_consistent(
    body_ledger, tmp_path, capsys
):
    ledger, *_ = body_ledger
    forged = tmp_path / "forged.jsonl"  # a whole ledger of someone else's, with their key
    other = Ledger(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        other.register_unit(
            code=credit_code(9),
            name="冒名公司",
            unit_type="enterprise",
            division="320506",
            principal="m",
        )
        forged.write_bytes(b"".join(other.export(key=SigningKey.load(tmp_path / "m.key")).lines()))
    finally:
        other.close()
    good = tmp_path / "good.jsonl"
    good.write_bytes(b"".join(export(ledger)))
    assert main(["audit", "verify-bundle", str(good), "--format", "json", *OFFLINE]) == 7
    out, err = capsys.readouterr()
    assert (json.loads(out)["ok"], json.loads(out)["key_pinned"]) == (True, False)
    assert "only shown consistent with the key it carries" in err and "--key-id" in err
    assert main(["audit", "verify-bundle", str(good), *OFFLINE]) == 7
    table = " ".join(capsys.readouterr().out.split())  # the title, however wrapped
    assert "verified: consistent with the key it carries, which was not checked" in table
    assert main(["audit", "verify-bundle", str(forged), *OFFLINE]) == 7
    assert (
        main(["audit", "verify-bundle", str(forged), "--key-id", SigningKey.load().id, *OFFLINE])
        == 6
    )
    published = SigningKey.load().public.hex()
    assert main(["audit", "verify-bundle", str(good), "--public-key", published, *OFFLINE]) == 0
    assert main(["audit", "verify-bundle", str(forged), "--public-key", published, *OFFLINE]) == 6
    lines = export(ledger)
    at = lines_of(lines, "event")[0]
    altered = lines[at].replace(b'\\"principal\\":\\"p\\"', b'\\"principal\\":\\"q\\"')
    assert altered != lines[at]
    lines[at] = altered
    (tmp_path / "altered.jsonl").write_bytes(b"".join(lines))
    assert main(["audit", "verify-bundle", str(tmp_path / "altered.jsonl"), *OFFLINE]) == 6


def test_one_byte_changed_in_any_events_data_is_named(body_ledger):
    ledger, *_ = body_ledger
    lines = export(ledger)
    for i in lines_of(lines, "event"):
        event = json.loads(lines[i])
        state = event["state"]
        at = state.index('"principal":"') + len('"principal":"')  # a byte of the data
        changed = state[:at] + ("q" if state[at] != "q" else "r") + state[at + 1 :]
        tampered = list(lines)
        tampered[i] = lines[i].replace(
            json.dumps(state, ensure_ascii=False)[1:-1].encode(),
            json.dumps(changed, ensure_ascii=False)[1:-1].encode(),
        )
        assert len(tampered[i]) == len(lines[i]) and tampered[i] != lines[i]
        result = bundle.verify(tampered)
        assert not result.ok
        assert ("altered", event["aggregate"], event["version"], event["position"]) in {
            (p.kind, str(p.aggregate), p.version, p.position) for p in result.problems
        }


def test_any_single_byte_changed_anywhere_fails(body_ledger):
    ledger, *_ = body_ledger
    for community in (None, body_ledger[2]):
        whole = b"".join(export(ledger, community))
        rng = random.Random(7)
        for at in rng.sample(range(len(whole)), 150):
            flipped = whole[:at] + bytes([whole[at] ^ 0x01]) + whole[at + 1 :]
            result = bundle.verify(flipped.splitlines(keepends=True))
            assert not result.ok, f"byte {at} ({whole[at - 20 : at + 20]!r}) changed unnoticed"


def test_a_bundle_of_one_body_proves_each_event_in_the_signed_log(body_ledger):
    ledger, unit, body, other = body_ledger
    lines = export(ledger, body)
    result = bundle.verify(lines)
    assert result.ok and result.scope == f"community {body}"
    aggregates = {json.loads(lines[i])["aggregate"] for i in lines_of(lines, "event")}
    assert {str(body), str(unit)} <= aggregates and str(other) not in aggregates
    events = lines_of(lines, "event")
    dropped = [line for i, line in enumerate(lines) if i != events[-1]]
    assert [p.kind for p in bundle.verify(dropped).problems] == ["manifest"]
    first = json.loads(lines[events[0]])
    first["proof"][0] = "00" * 32
    bent = list(lines)
    bent[events[0]] = (json.dumps(first, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
    assert ("not included", first["position"]) in {
        (p.kind, p.position) for p in bundle.verify(bent).problems
    }


def test_a_bundle_re_signed_with_another_key_fails_against_the_published_key_id(
    body_ledger, tmp_path
):
    ledger, *_ = body_ledger
    forged = list(ledger.export(key=SigningKey.load(tmp_path / "mallory.key")).lines())
    assert bundle.verify(forged).ok  # consistent with the key it carries
    published = SigningKey.load().id
    result = bundle.verify(forged, trusted_key=published)
    assert [p.kind for p in result.problems] == ["manifest"]
    assert f"not by the trusted key {published}" in result.problems[0].detail


def test_a_cut_short_or_garbled_bundle_says_so(body_ledger):
    ledger, *_ = body_ledger
    lines = export(ledger)
    assert [p.detail for p in bundle.verify(lines[:-1]).problems][-1].startswith(
        "the bundle has no manifest"
    )
    garbled = [*lines[:2], b"{not json\n", *lines[2:]]
    assert "line 3 is not a bundle line" in bundle.verify(garbled).problems[0].detail


def test_no_bundle_is_exported_from_a_log_that_does_not_verify(unit_ledger, tmp_path, capsys):
    ledger, unit = unit_ledger
    before = forge(ledger, unit, 2, "甲公司二", "丙公司")
    with pytest.raises(TamperedRecord):
        ledger.export()
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "b.jsonl"
    assert main(["audit", "export", str(target), "--db", ledger.url]) == 6
    assert list(target.parent.iterdir()) == []  # neither the bundle nor a partial one
    err = capsys.readouterr().err
    assert "does not verify" in err
    assert f"altered (aggregate {unit}, version 2, position {before['position']})" in err


def test_export_refuses_to_overwrite_and_names_bad_places(unit_ledger, tmp_path, capsys):
    ledger, _ = unit_ledger
    existing = tmp_path / "kept.jsonl"
    existing.write_text("mine")
    assert main(["audit", "export", str(existing), "--db", ledger.url]) == 2
    assert existing.read_text() == "mine"
    assert (
        main(["audit", "export", str(tmp_path / "no" / "such" / "dir.jsonl"), "--db", ledger.url])
        == 2
    )
    err = capsys.readouterr().err
    assert "already exists" in err and "is not a directory" in err
    assert main(["audit", "verify-bundle", str(tmp_path / "missing.jsonl"), *OFFLINE]) == 2


def test_lines_not_as_the_format_writes_them_fail(body_ledger):
    ledger, *_ = body_ledger
    lines = export(ledger)
    event = lines_of(lines, "event")[0]
    checkpoint = lines_of(lines, "checkpoint")[0]
    cases = {
        "an unknown field": {
            event: lines[event].replace(b'{"kind":"event",', b'{"kind":"event","note":1,')
        },
        "a repeated key": {
            event: lines[event].replace(b'{"kind":"event",', b'{"kind":"event","version":1,')
        },
        "no final newline": {len(lines) - 1: lines[-1].rstrip(b"\n")},
    }
    for name, changes in cases.items():
        changed = [changes.get(i, line) for i, line in enumerate(lines)]
        assert "format" in {p.kind for p in bundle.verify(changed).problems}, name
    moved = [line for i, line in enumerate(lines) if i != checkpoint]
    moved.insert(len(moved) - 1, lines[checkpoint])  # after the events, before the manifest
    assert "a checkpoint after the events" in bundle.verify(moved).problems[0].detail


def test_the_operator_may_be_pinned_by_the_whole_public_key(body_ledger):
    ledger, *_ = body_ledger
    key = SigningKey.load()
    assert bundle.verify(export(ledger), trusted_key=key.public.hex()).ok
    assert not bundle.verify(export(ledger), trusted_key="ab" * 32).ok


CHECKER = Path(__file__).resolve().parents[2] / "docs" / "examples" / "check_bundle.py"


def test_the_independent_checker_needs_only_the_stdlib_and_cryptography():
    tree = ast.parse(CHECKER.read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_the_independent_checker_passes_a_bundle_and_names_a_changed_event(body_ledger, tmp_path):
    ledger, _unit, body, _ = body_ledger
    key = SigningKey.load().id
    for community in (None, body):
        lines = export(ledger, community)
        good = tmp_path / "good.jsonl"
        good.write_bytes(b"".join(lines))
        done = subprocess.run(
            [sys.executable, str(CHECKER), str(good), "--key-id", key],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OK:")
        i = lines_of(lines, "event")[-1]
        event = json.loads(lines[i])
        bad = tmp_path / "bad.jsonl"
        lines[i] = lines[i].replace(b'"principal\\":\\"p', b'"principal\\":\\"q')
        bad.write_bytes(b"".join(lines))
        done = subprocess.run(
            [sys.executable, str(CHECKER), str(bad), "--key-id", key],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert (
            f"altered: aggregate {event['aggregate']} version {event['version']} "
            f"position {event['position']}"
        ) in done.stdout
