"""``chanjiao replay --until POSITION|TIME``: every aggregate and the reports as the
ledger stood then — the same answers as the known-at projections — on both stores."""

from __future__ import annotations

import json
import tempfile

import pytest
from freezegun import freeze_time

from tests.cli.steps import SEATS, council_body_in
from tests.factories import credit_code

pytestmark = pytest.mark.usefixtures("frozen")

A, B, C = (credit_code(700 + i, division="440305") for i in range(3))


@pytest.fixture
def frozen():
    with freeze_time("2025-03-01T02:00:00Z") as clock:  # 10:00 in China
        yield clock


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """Where the replays make their scratch ledgers; empty again after each."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def recorded(ledger, frozen) -> dict:
    """On 2025-03-01 at 10:00 in China: units A, B and C registered, a city body
    founded (2025-01-01), A and B admitted from 2025-02-01 — the log's first six
    positions. On 2025-04-01 at 10:00: A's exit (2025-03-31) and C's admission,
    backdated to 2025-03-15."""
    for code in (A, B, C):
        ledger.register_unit(
            code=code,
            name=f"单位{code[-4:]}",
            unit_type="enterprise",
            division="440305",
            principal="p",
        )
    body = ledger.found_community(
        name="深圳市域产教联合体",
        kind="city",
        industry="电子信息",
        division="440300",
        founded_on="2025-01-01",
        principal="p",
    ).id
    for code in (A, B):
        ledger.admit_member(
            body, code, role="participant", effective_on="2025-02-01", principal="p"
        )
    day_one = ledger.recorder.max_notification_id()
    frozen.move_to("2025-04-01T02:00:00Z")
    ledger.exit_member(body, A, reason="withdrawal", effective_on="2025-03-31", principal="p")
    ledger.admit_member(body, C, role="participant", effective_on="2025-03-15", principal="p")
    return {"body": str(body), "day_one": day_one}


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def codes(members: dict) -> set[str]:
    return {m["code"] for m in members["members"]}


def test_replay_until_a_position_shows_the_ledger_as_it_stood_then(run, recorded, scratch):
    day_one = recorded["day_one"]
    shown = ok(run, "replay", "--until", str(day_one))
    assert shown["cutoff"] == {
        "until_position": day_one,
        "until_time": None,
        "position": day_one,
        "events": 6,
        "last_recorded_at": "2025-03-01T02:00:00Z",
        "as_of": "2025-03-01",
    }
    assert shown["counts"] == {"unit": 3, "community": 1, "council": 0, "agreement": 0}
    [body] = [a for a in shown["aggregates"] if a["kind"] == "community"]
    assert (body["id"], body["name"], body["version"]) == (
        recorded["body"],
        "深圳市域产教联合体",
        3,
    )
    # A, admitted before the cutoff and exited after it, is still a member then
    [members] = shown["members"]
    assert codes(members) == {A, B}
    assert shown["provinces"]["total"] == 2
    assert list(scratch.iterdir()) == []
    now = ok(run, "member", "list", recorded["body"], "--as-of", "2025-04-01")
    assert codes(now) == {B, C}
    everything = ok(run, "replay", "--until", "1000000")
    assert (everything["cutoff"]["events"], everything["aggregates"][-1]["version"]) == (8, 5)
    assert codes(everything["members"][0]) == {B, C}


CUTOFFS = [  # (until, the cutoff's date in China, the members then)
    ("2025-03-15", "2025-03-15", {A, B}),  # the end of that day in China
    ("2025-04-01T09:59:59", "2025-04-01", {A, B}),  # China time: A's exit not known yet
    ("2025-04-01T02:00:00Z", "2025-04-01", {B, C}),  # recorded at that very time
]


def test_replay_until_a_time_lists_the_members_the_known_at_projection_does(run, recorded):
    for until, as_of, expected in CUTOFFS:
        shown = ok(run, "replay", "--until", until)
        assert shown["cutoff"]["as_of"] == as_of, until
        [members] = shown["members"]
        known = ok(run, "member", "list", recorded["body"], "--as-of", as_of, "--known-at", until)
        assert [m["code"] for m in members["members"]] == [m["code"] for m in known["members"]]
        assert codes(members) == expected, until


def test_replay_reports_an_agreements_cost_sharing_as_it_stood(run, ledger):
    body = council_body_in(ledger)
    meeting = ledger.record_meeting(body, held_on="2024-03-01", present=SEATS, principal="p")
    number = ledger.record_resolution(
        body,
        meeting=meeting,
        matter="agreement",
        title="批准协议",
        votes_for=6,
        votes_against=0,
        abstentions=0,
        principal="p",
    ).number
    parties = [
        {"unit_id": SEATS[0], "cost_share_bp": 6000, "benefit_share_bp": 5000},
        {"unit_id": SEATS[1], "cost_share_bp": 4000, "benefit_share_bp": 5000},
    ]
    agreement = ledger.draft_agreement(
        body, title="共享实训基地", parties=parties, drafted_on="2024-02-15", principal="p"
    ).id
    ledger.approve_agreement(agreement, resolution=number, principal="p")
    ledger.record_cost(
        agreement, amount="1000.00", incurred_on="2024-04-01", description="耗材", principal="p"
    )
    before = ledger.recorder.max_notification_id()
    ledger.record_cost(
        agreement, amount="500.00", incurred_on="2024-05-01", description="设备维护", principal="p"
    )
    shown = ok(run, "replay", "--until", str(before), "--community", str(body))
    assert shown["counts"] == {"unit": 7, "community": 1, "council": 1, "agreement": 1}
    assert shown["community_id"] == str(body) and len(shown["members"]) == 1
    [report] = shown["cost_sharing"]
    assert report["total_costs"] == "1000.00"
    assert [p["cost_due"] for p in report["parties"]] == ["600.00", "400.00"]
    assert ok(run, "report", "cost-sharing", str(agreement))["total_costs"] == "1500.00"
    code, out, _err = run("replay", "--until", str(before))
    assert code == 0 and "共享实训基地" in out and "7 units, 1 community, 1 council" in out


REFUSED = [  # (until, community, exit code, message)
    ("-1", None, 2, "--until position must be 0 or more; got -1"),
    (
        "yesterday",
        None,
        2,
        "--until must be a log position (a whole number, 0 or more) or a "
        "recorded time such as 2025-07-15T09:30:00+08:00 or a date YYYY-MM-DD; got 'yesterday'",
    ),
    ("2025-02-30", None, 2, "--until time must be a timestamp"),
    ("3", "body", 3, "had not been recorded yet by the cutoff"),
    ("6", "6f1c1f40-4a38-4f1e-9d5b-2d1f4d0e7a11", 3, "has been founded"),
]


def test_a_bad_cutoff_or_body_is_refused_and_nothing_is_written(run, ledger, recorded, scratch):
    head = ledger.recorder.max_notification_id()
    for until, community, status, message in REFUSED:
        limit = (
            []
            if community is None
            else ["--community", recorded["body"] if community == "body" else community]
        )
        code, out, err = run("replay", "--until", until, *limit)
        assert (code, out) == (status, ""), until
        assert message in err
    assert ledger.recorder.max_notification_id() == head
    assert list(scratch.iterdir()) == []
