"""The command line end to end, on both stores."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from freezegun import freeze_time

from cli.main import main
from tests.factories import credit_code, wrong_check

FIRM, SCHOOL = credit_code(11), credit_code(12, prefix="12")


@pytest.fixture
def body(run) -> str:
    assert (
        run(
            "unit",
            "register",
            "--code",
            FIRM,
            "--name",
            "宁德时代",
            "--type",
            "enterprise",
            "--division",
            "350902",
        )[0]
        == 0
    )
    assert (
        run(
            "unit",
            "register",
            "--code",
            SCHOOL,
            "--name",
            "宁德职业技术学院",
            "--type",
            "vocational_school",
            "--level",
            "higher",
            "--division",
            "350981",
        )[0]
        == 0
    )
    code, out, _ = run(
        "community",
        "found",
        "--name",
        "宁德新能源市域产教联合体",
        "--kind",
        "city",
        "--industry",
        "锂电新能源",
        "--division",
        "350900",
        "--founded-on",
        "2024-03-01",
        "--format",
        "json",
    )
    assert code == 0
    return json.loads(out)["id"]


@freeze_time("2025-07-15T02:00:00Z")
def test_a_secretary_admits_members_and_reads_them_back_as_json(run, body):
    assert (
        run("member", "admit", body, FIRM, "--role", "lead", "--effective-on", "2024-03-01")[0] == 0
    )
    assert run("member", "admit", body, SCHOOL, "--effective-on", "2024-05-01")[0] == 0
    assert (
        run(
            "member", "exit", body, SCHOOL, "--reason", "withdrawal", "--effective-on", "2025-01-01"
        )[0]
        == 0
    )
    code, out, err = run("member", "list", body, "--as-of", "2024-12-31", "--format", "json")
    assert (code, err) == (0, "")
    answer = json.loads(out)
    assert answer["as_of"] == "2024-12-31"
    assert [(m["code"], m["role"], m["province"]) for m in answer["members"]] == [
        (FIRM, "lead", "350000"),
        (SCHOOL, "participant", "350000"),
    ]
    code, out, _ = run("member", "list", body, "--format", "json")
    assert [m["code"] for m in json.loads(out)["members"]] == [FIRM]


@freeze_time("2025-07-15T02:00:00Z")
def test_the_member_table_is_readable(run, body):
    run("member", "admit", body, FIRM, "--effective-on", "2024-03-01")
    code, out, _ = run("member", "list", body, "--as-of", "2025-01-01")
    assert code == 0
    assert "宁德新能源市域产教联合体: members on 2025-01-01" in out
    assert FIRM in out and "宁德时代" in out and "福建" in out and "1 members" in out


@freeze_time("2025-07-15T02:00:00Z")
def test_unit_show_lists_the_units_memberships(run, body):
    run("member", "admit", body, FIRM, "--effective-on", "2024-03-01")
    code, out, _ = run("unit", "show", FIRM, "--format", "json")
    unit = json.loads(out)
    assert code == 0 and unit["code"] == FIRM and unit["province_name"] == "福建"
    assert [
        (p["community_name"], p["admitted_on"], p["admitted_by"]) for p in unit["memberships"]
    ] == [
        ("宁德新能源市域产教联合体", "2024-03-01", None),
    ]


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (
            (
                "unit",
                "register",
                "--code",
                wrong_check(credit_code(20)),
                "--name",
                "x",
                "--type",
                "enterprise",
                "--division",
                "350902",
            ),
            2,
            "check character should be",
        ),
        (
            (
                "unit",
                "register",
                "--code",
                credit_code(21),
                "--name",
                "x",
                "--type",
                "enterprise",
                "--division",
                "990000",
            ),
            2,
            "not one of the 34 provincial-level divisions",
        ),
        (
            (
                "unit",
                "register",
                "--code",
                FIRM,
                "--name",
                "x",
                "--type",
                "enterprise",
                "--division",
                "350902",
            ),
            4,
            f"credit code {FIRM} is already registered",
        ),
        (("unit", "show", credit_code(22)), 3, "no member unit"),
        (("member", "list", "not-a-uuid"), 3, "no community is named 'not-a-uuid' or has it"),
    ],
)
def test_errors_are_one_clear_line_on_stderr_with_a_distinct_exit_code_and_write_nothing(
    run, body, ledger, args, exit_code, message
):
    before = ledger.recorder.max_notification_id()
    code, out, err = run(*args)
    assert (code, out) == (exit_code, "")
    assert err.startswith("chanjiao: ") and message in err and err.count("\n") == 1
    assert ledger.recorder.max_notification_id() == before


def test_the_demo_loads_once_and_then_shows_what_is_loaded(run):
    code, out, err = run("demo")
    assert (code, err) == (0, "")
    assert "Loaded 34 member units (8 qualifications), 3 communities" in out
    assert "2 outside fundings, 4 filings and 7 indicator figures" in out
    token = re.search(r"export TOKEN=(cj_\S+)", out).group(1)  # an admin token to try the API
    code, listing, _ = run("token", "list", "--format", "json")
    assert [(t["name"], t["role"]) for t in json.loads(listing)] == [("demo", "admin")]
    assert token.split("_")[1] == json.loads(listing)[0]["id"]
    code, out, _ = run("community", "list", "--format", "json")
    bodies = json.loads(out)
    assert {b["kind"] for b in bodies} == {"industry", "city", "development"}
    assert all(b["active_members"] > 5 for b in bodies)
    code, out, _ = run("agreement", "list", "--format", "json")
    agreements = json.loads(out)["agreements"]
    assert [(a["kind"], a["status"]) for a in agreements] == [
        ("training_base", "active"),
        ("industry_college", "active"),
    ]
    code, out, _ = run("agreement", "show", agreements[0]["id"], "--format", "json")
    assert len(json.loads(out)["terms"]) == 3  # drafted, approved, amended mid-year
    code, out, _ = run(
        "report", "cost-sharing", agreements[0]["id"], "--as-of", "2026-03-31", "--format", "json"
    )
    report = json.loads(out)
    assert sum(Decimal(p["cost_due"]) for p in report["parties"]) == Decimal(report["total_costs"])
    code, out, _ = run("demo")
    assert code == 0 and "already loaded" in out


def test_an_unreachable_database_is_reported_not_crashed(capsys):
    code = main(
        ["community", "list", "--db", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"]
    )
    err = capsys.readouterr().err
    assert code == 5 and err.startswith("chanjiao: cannot use the database")
