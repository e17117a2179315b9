"""Charter, council and register through the command line, on both stores."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.cli.steps import NEWCOMER, SEATS, council_body_in, meeting, resolve

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z"):
        yield


@pytest.fixture
def body(ledger) -> str:
    return str(council_body_in(ledger))


def test_the_register_reads_back_in_order_with_stable_numbers(run, body):
    m1 = meeting(run, body, "2024-03-01", SEATS)
    assert resolve(run, body, m1, "removal", "清退某单位", 4, 2)[1]["number"] == "2024-001"
    rejected = resolve(run, body, m1, "removal", "清退另一单位", 3, 3)[1]
    assert rejected["number"] is None
    assert rejected["reason"] == "rejected: 3 in favour, 4 needed (two-thirds of 6 voting seats)"
    m2 = meeting(run, body, "2024-04-01", SEATS[:3])
    short = resolve(run, body, m2, "ordinary", "年度计划", 3)[1]
    assert short["reason"] == "quorum not met: 3 of 6 seats present, 4 needed"
    m3 = meeting(run, body, "2025-01-10", SEATS)
    revoking = resolve(run, body, m3, "ordinary", "撤销", 6, 0, 0, "--revokes", "2024-001")[1]
    assert revoking["number"] == "2025-001" and revoking["revokes"] == "2024-001"

    code, out, _ = run("council", "resolution", "list", body, "--format", "json")
    register = json.loads(out)["resolutions"]
    assert [(r["number"], r["outcome"], r["revoked_by"]) for r in register] == [
        ("2024-001", "adopted", "2025-001"),
        (None, "rejected", None),
        (None, "rejected", None),
        ("2025-001", "adopted", None),
    ]
    code, out, _ = run("council", "resolution", "list", body)
    assert code == 0 and "2024-001" in out and "quorum not met: 3 of 6 seats present" in out


def test_an_impossible_tally_is_refused_with_nothing_recorded(run, body, ledger):
    m1 = meeting(run, body, "2024-03-01", SEATS[:4])
    before = ledger.recorder.max_notification_id()
    code, err = resolve(run, body, m1, "ordinary", "x", 5)
    assert code == 2 and "counts 5 votes and abstentions, but only 4 seats could vote" in err
    assert ledger.recorder.max_notification_id() == before


def test_after_a_charter_requiring_it_admission_needs_a_valid_resolution(run, body):
    assert run("charter", "adopt", body, "--version", "1.0", "--effective-on", "2024-01-01")[0] == 0
    m1 = meeting(run, body, "2024-06-01", SEATS)
    amendment = resolve(run, body, m1, "charter", "修订章程", 5, 1)[1]["number"]
    code, out, err = run(
        "charter",
        "adopt",
        body,
        "--version",
        "2.0",
        "--resolution",
        amendment,
        "--admission-requires-resolution",
        "--majority",
        "admission=cast:two_thirds",
        "--format",
        "json",
    )
    assert code == 0, err
    charter = json.loads(out)
    assert charter["version"] == "2.0" and charter["adopted_by"] == "2024-001"
    assert charter["majorities"]["admission"] == {"base": "cast", "threshold": "two_thirds"}

    code, _, err = run("member", "admit", body, NEWCOMER, "--effective-on", "2024-07-01")
    assert code == 4 and "requires an adopted admission resolution" in err
    m2 = meeting(run, body, "2024-06-20", SEATS)
    admission = resolve(run, body, m2, "admission", "接纳新成员", 4, 2)[1]["number"]
    assert admission == "2024-002"  # 4 of 6 cast is exactly two-thirds
    code, _, err = run(
        "member", "admit", body, NEWCOMER, "--effective-on", "2024-07-01", "--resolution", admission
    )
    assert code == 0, err
    code, out, _ = run("unit", "show", NEWCOMER, "--format", "json")
    assert json.loads(out)["memberships"][0]["admitted_by"] == "2024-002"


def test_an_exit_vacates_the_members_seat(run, body):
    assert (
        run(
            "member",
            "exit",
            body,
            SEATS[5],
            "--reason",
            "withdrawal",
            "--effective-on",
            "2025-01-01",
        )[0]
        == 0
    )
    _code, out, _ = run("council", "seat", "list", body, "--format", "json")
    assert [s["code"] for s in json.loads(out)["seats"]] == SEATS[:5]
    _code, out, _ = run(
        "council", "seat", "list", body, "--as-of", "2024-12-31", "--format", "json"
    )
    assert len(json.loads(out)["seats"]) == 6
