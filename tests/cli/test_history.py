"""``chanjiao history``: every event of one aggregate — its type, effective date,
recorded time, principal and the hash on record — on both stores."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from freezegun import freeze_time

from domain.council import council_id_for
from projections.history import history
from tests.cli.steps import SEATS, council_body_in
from tests.factories import credit_code

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z") as clock:
        yield clock


@pytest.fixture
def body(ledger) -> str:
    """The CLI tests' council body (tests.cli.steps): founded 2024-01-01, six members
    admitted 2024-01-15, each holding a council seat — recorded at 2025-07-15 10:00
    in China."""
    return str(council_body_in(ledger))


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_every_version_is_listed_with_its_effective_date_and_the_hash_on_record(
    run, ledger, body, frozen
):
    frozen.move_to("2025-07-16T03:00:00Z")
    ledger.exit_member(
        body, SEATS[5], reason="withdrawal", effective_on="2025-06-30", principal="secretary:wang"
    )
    shown = ok(run, "history", body)
    assert (shown["id"], shown["kind"], shown["name"]) == (body, "community", "深圳市域产教联合体")
    events = shown["events"]
    assert [e["version"] for e in events] == list(range(1, 9))
    assert [e["type"] for e in events] == [
        "chanjiao.community.founded.v1",
        *["chanjiao.community.member_admitted.v1"] * 6,
        "chanjiao.community.member_exited.v1",
    ]
    assert [e["effective_on"] for e in events] == ["2024-01-01", *["2024-01-15"] * 6, "2025-06-30"]
    assert [e["recorded_at"] for e in events] == ["2025-07-15T02:00:00Z"] * 7 + [
        "2025-07-16T03:00:00Z"
    ]
    assert [e["principal"] for e in events] == ["p"] * 7 + ["secretary:wang"]
    assert events[-1]["data"]["unit_id"] == str(ledger.unit(SEATS[5]).id)
    hashes = ledger.event_hashes(UUID(body))
    assert [e["hash"] for e in events] == [hashes[v] for v in range(1, 9)]
    assert len(set(hashes.values())) == 8


def test_the_table_shows_china_time_and_the_start_of_each_hash(run, ledger, body):
    code, out, err = run("history", body)
    assert code == 0, err
    assert "深圳市域产教联合体 · community" in out and "chanjiao.community.founded.v1" in out
    assert "2025-07-15T10:00:00+08:00" in out
    first = ledger.event_hashes(UUID(body))[1]
    assert f"{first[:16]}…" in out and first not in out
    assert "7 events" in out


def test_a_unit_is_named_by_its_credit_code_and_a_council_by_its_id(run, ledger, body):
    ledger.rename_unit(
        SEATS[0], name="深圳新名称有限公司", effective_on="2025-01-01", principal="p"
    )
    unit = ok(run, "history", SEATS[0])
    assert (unit["kind"], unit["name"]) == ("unit", f"深圳新名称有限公司 ({SEATS[0]})")
    assert [(e["type"], e["effective_on"]) for e in unit["events"]] == [
        ("chanjiao.unit.registered.v1", None),
        ("chanjiao.unit.renamed.v1", "2025-01-01"),
    ]
    meeting = ledger.record_meeting(body, held_on="2024-03-01", present=SEATS, principal="p")
    ledger.record_resolution(
        body,
        meeting=meeting,
        matter="ordinary",
        title="年度工作计划",
        votes_for=6,
        votes_against=0,
        abstentions=0,
        principal="p",
    )
    by_name = ok(run, "history", "深圳市域")  # a body by a part of its name
    assert (by_name["kind"], by_name["name"]) == ("community", "深圳市域产教联合体")
    council = ok(run, "history", str(council_id_for(UUID(body))))
    assert (council["kind"], council["name"]) == ("council", "council of 深圳市域产教联合体")
    steps = [(e["type"].split(".")[2], e["effective_on"]) for e in council["events"]]
    assert steps[0] == ("established", None)
    # a resolution takes effect on the date of the meeting that passed it
    assert steps[-2:] == [("meeting_held", "2024-03-01"), ("resolution_recorded", "2024-03-01")]


def test_an_unknown_or_malformed_id_is_refused_in_the_users_terms(run, body):
    for ref, status, message in [
        (
            "6f1c1f40-4a38-4f1e-9d5b-2d1f4d0e7a11",
            3,
            "it is not the id of a member unit, community, council or agreement",
        ),
        (credit_code(999), 3, f"no member unit with credit code {credit_code(999)} is registered"),
        ("nonsense", 3, "nothing is named 'nonsense': no member unit, community or agreement"),
    ]:
        code, out, err = run("history", ref)
        assert (code, out) == (status, ""), ref
        assert message in err


def test_a_store_that_keeps_no_hashes_answers_none_for_them(memory_ledger):
    unit = memory_ledger.register_unit(
        code=credit_code(1), name="单位", unit_type="enterprise", division="440305", principal="p"
    )
    [entry] = history(memory_ledger, unit.id).events
    assert (entry.version, entry.hash, entry.effective_on) == (1, None, None)
