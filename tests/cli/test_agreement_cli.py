"""Agreements, contributions and the cost-sharing reports through the command line,
on both stores."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from freezegun import freeze_time

from tests.cli.steps import NEWCOMER, SEATS, council_body_in

pytestmark = pytest.mark.usefixtures("frozen")

A, B, C, D, E = SEATS[:5]


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z"):
        yield


@pytest.fixture
def body(ledger) -> str:
    """The CLI tests' council body (tests.cli.steps), recorded straight through the
    ledger: the setting is not what these tests are about."""
    return str(council_body_in(ledger))


@pytest.fixture
def resolutions(ledger, body) -> tuple[str, str]:
    """An agreement resolution of 2024-03-01 to approve, and one of 2024-09-01 to amend."""
    numbers = []
    for held_on, title in (("2024-03-01", "批准协议"), ("2024-09-01", "调整比例")):
        meeting = ledger.record_meeting(body, held_on=held_on, present=SEATS, principal="p")
        numbers.append(
            ledger.record_resolution(
                body,
                meeting=meeting,
                matter="agreement",
                title=title,
                votes_for=6,
                votes_against=0,
                abstentions=0,
                principal="p",
            ).number
        )
    return numbers[0], numbers[1]


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def draft(run, body: str) -> str:
    return ok(
        run,
        "agreement",
        "draft",
        body,
        "--title",
        "共享实训基地",
        "--kind",
        "training_base",
        "--party",
        f"{A}:50%:4000",
        "--party",
        f"{B}:3000:40%",
        "--party",
        f"{C}:2000:2000",
        "--drafted-on",
        "2024-02-15",
    )["id"]


def test_a_year_of_cost_sharing_across_an_amendment_reports_to_the_fen(run, body, resolutions):
    approving, amending = resolutions
    agreement = draft(run, body)
    shown = ok(run, "agreement", "approve", agreement, "--resolution", approving)
    assert (shown["status"], shown["approved_on"]) == ("active", "2024-03-01")
    entry = ok(
        run,
        "agreement",
        "contribute",
        agreement,
        A,
        "--kind",
        "funds",
        "--amount",
        "100000",
        "--contributed-on",
        "2024-04-01",
        "--description",
        "启动资金",
    )
    assert (entry["entry"], entry["amount"], entry["kind"]) == (1, "100000.00", "funds")
    ok(
        run,
        "agreement",
        "cost",
        agreement,
        "--amount",
        "1000.01",
        "--incurred-on",
        "2024-05-01",
        "--description",
        "装修",
    )
    ok(
        run,
        "agreement",
        "amend",
        agreement,
        "--resolution",
        amending,
        "--party",
        f"{A}:3333:5000",
        "--party",
        f"{B}:3333:2500",
        "--party",
        f"{D}:3334:2500",
    )
    ok(
        run,
        "agreement",
        "cost",
        agreement,
        "--amount",
        "100",
        "--incurred-on",
        "2024-10-01",
        "--description",
        "耗材",
    )
    ok(
        run,
        "agreement",
        "benefit",
        agreement,
        "--amount",
        "77.77",
        "--realized-on",
        "2024-11-01",
        "--description",
        "培训收入",
    )

    report = ok(run, "report", "cost-sharing", agreement, "--as-of", "2025-06-30")
    rows = {p["code"]: p for p in report["parties"]}
    # 1000.01 split 50/30/20 before the amendment, 100.00 split 3333/3333/3334 after it
    assert {c: rows[c]["cost_due"] for c in (A, B, C, D)} == {
        A: "533.34",
        B: "333.33",
        C: "200.00",
        D: "33.34",
    }
    assert {c: rows[c]["benefit_due"] for c in (A, B, C, D)} == {
        A: "38.89",
        B: "19.44",
        C: "0.00",
        D: "19.44",
    }
    assert rows[A]["balance"] == "99466.66" and rows[C]["balance"] == "-200.00"
    assert [rows[c]["cost_share_bp"] for c in (A, B, C, D)] == [3333, 3333, 0, 3334]
    for column, total in (
        ("cost_due", "total_costs"),
        ("contributed", "total_contributed"),
        ("balance", "total_balance"),
        ("benefit_due", "total_benefits"),
    ):
        assert sum(Decimal(p[column]) for p in report["parties"]) == Decimal(report[total])
    assert (report["total_costs"], report["total_benefits"]) == ("1100.01", "77.77")

    before = ok(run, "report", "cost-sharing", agreement, "--as-of", "2024-08-31")
    assert [p["code"] for p in before["parties"]] == [A, B, C]
    assert [p["cost_due"] for p in before["parties"]] == ["500.01", "300.00", "200.00"]

    code, out, _ = run(
        "report", "cost-sharing", agreement, "--as-of", "2025-06-30", "--format", "csv"
    )
    assert code == 0 and out.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    *parties, total = table
    assert total["name"] == "total" and len(parties) == 4
    for column in ("cost_due", "contributed", "balance", "benefit_due"):
        assert sum(Decimal(p[column]) for p in parties) == Decimal(total[column])

    code, out, _ = run("report", "cost-sharing", agreement)
    assert code == 0 and "533.34" in out and "1,100.01" in out  # the table groups thousands


def test_the_investment_summary_adds_up_by_kind_source_and_province(run, body, resolutions):
    agreement = draft(run, body)
    ok(run, "agreement", "approve", agreement, "--resolution", resolutions[0])
    for unit, kind, amount in ((A, "funds", "300"), (B, "equipment", "100"), (C, "site", "200.5")):
        ok(
            run,
            "agreement",
            "contribute",
            agreement,
            unit,
            "--kind",
            kind,
            "--amount",
            amount,
            "--contributed-on",
            "2024-06-01",
            "--description",
            "投入",
        )
    summary = ok(run, "report", "investment", body)
    assert summary["total_contributed"] == "600.50"
    kinds = {s["key"]: (s["amount"], s["share_bp"]) for s in summary["by_kind"]}
    assert kinds["funds"] == ("300.00", 4996) and kinds["site"] == ("200.50", 3339)
    for dimension in ("by_kind", "by_source", "by_province"):
        assert sum(s["share_bp"] for s in summary[dimension]) == 10000
        assert sum(Decimal(s["amount"]) for s in summary[dimension]) == Decimal("600.50")
    assert [(s["key"], s["name"]) for s in summary["by_province"]] == [("440000", "广东")]
    assert {s["key"]: s["amount"] for s in summary["by_source"]}["enterprise"] == "600.50"
    _code, out, _ = run("report", "investment", body, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert {r["dimension"] for r in rows} == {"kind", "source", "province", "funder", "agreement"}


def test_outside_funding_adds_a_source_but_no_partys_figure(run, body, resolutions):
    agreement = draft(run, body)
    ok(run, "agreement", "approve", agreement, "--resolution", resolutions[0])
    ok(
        run,
        "agreement",
        "contribute",
        agreement,
        A,
        "--kind",
        "funds",
        "--amount",
        "300",
        "--contributed-on",
        "2024-06-01",
        "--description",
        "投入",
    )
    entry = ok(
        run,
        "agreement",
        "fund",
        agreement,
        "--funder",
        "深圳市教育局",
        "--funder-kind",
        "专项资金",
        "--kind",
        "设备",
        "--amount",
        "0.1万",
        "--received-on",
        "2024-06-02",
        "--description",
        "实训设备专项",
    )
    assert (entry["type"], entry["funder_kind"], entry["amount"]) == (
        "funding",
        "government_fund",
        "1000.00",
    )
    summary = ok(run, "report", "investment", body)
    assert (summary["total_contributed"], summary["outside_funding"]) == ("300.00", "1000.00")
    for dimension in ("by_kind", "by_source", "by_province", "by_funder"):
        assert sum(s["share_bp"] for s in summary[dimension]) == 10000
        assert sum(Decimal(s["amount"]) for s in summary[dimension]) == Decimal("1300.00")
    assert {s["key"]: s["amount"] for s in summary["by_source"]}["government"] == "1000.00"
    assert [s["key"] for s in summary["by_province"]] == ["440000", "outside"]
    report = ok(run, "report", "cost-sharing", agreement)
    assert (report["total_contributed"], report["outside_funding"]) == ("300.00", "1000.00")
    assert sum(Decimal(p["contributed"]) for p in report["parties"]) == Decimal("300.00")
    code, out, _ = run("report", "investment", body)
    assert code == 0 and "政府专项资金" in out
    reversed_ = ok(run, "agreement", "reverse", agreement, str(entry["entry"]), "--reason", "重复")
    assert reversed_["reversed_because"] == "重复"
    assert ok(run, "report", "investment", body)["outside_funding"] == "0.00"


def test_an_entry_recorded_by_the_agreements_title_answers_with_its_id(run, body, resolutions):
    """The answer is made from the entry the command recorded (ADR 0035): it still names
    the agreement by its id, whatever the command was given."""
    agreement = draft(run, body)
    ok(run, "agreement", "approve", agreement, "--resolution", resolutions[0])
    args = ["--incurred-on", "2024-05-01", "--description", "耗材"]
    entry = ok(run, "agreement", "cost", "实训基地", "--amount", "120", *args)
    assert (entry["agreement_id"], entry["entry"], entry["amount"]) == (agreement, 1, "120.00")
    reversed_ = ok(run, "agreement", "reverse", "共享实训基地", "1", "--reason", "记错")
    assert (reversed_["agreement_id"], reversed_["reversed_because"]) == (agreement, "记错")


def test_a_mistaken_entry_is_reversed_not_edited(run, body, resolutions):
    agreement = draft(run, body)
    ok(run, "agreement", "approve", agreement, "--resolution", resolutions[0])
    ok(
        run,
        "agreement",
        "cost",
        agreement,
        "--amount",
        "98000",
        "--incurred-on",
        "2024-05-01",
        "--description",
        "装修",
    )
    reversed_ = ok(run, "agreement", "reverse", agreement, "1", "--reason", "多输一位")
    assert reversed_["reversed_because"] == "多输一位"
    ok(
        run,
        "agreement",
        "cost",
        agreement,
        "--amount",
        "9800",
        "--incurred-on",
        "2024-05-01",
        "--description",
        "装修",
    )
    assert ok(run, "report", "cost-sharing", agreement)["total_costs"] == "9800.00"
    shown = ok(run, "agreement", "show", agreement)
    assert [(e["entry"], e["amount"], e["reversed_because"]) for e in shown["entries"]] == [
        (1, "98000.00", "多输一位"),
        (2, "9800.00", None),
    ]
    listed = ok(run, "agreement", "list", body)
    assert [(a["id"], a["status"], a["parties"]) for a in listed["agreements"]] == [
        (agreement, "active", 3)
    ]


@pytest.mark.parametrize(
    ("step", "exit_code", "message"),
    [
        (
            lambda b, a, r: (
                "agreement",
                "draft",
                b,
                "--title",
                "x",
                "--party",
                f"{A}:5000:5000",
                "--party",
                f"{B}:4999:5000",
            ),
            2,
            "the cost shares add up to 9999 basis points",
        ),
        (
            lambda b, a, r: (
                "agreement",
                "draft",
                b,
                "--title",
                "x",
                "--party",
                f"{A}:5000:5000",
                "--party",
                f"{B}:5000:5001",
            ),
            2,
            "the benefit shares add up to 10001 basis points",
        ),
        (
            lambda b, a, r: ("agreement", "draft", b, "--title", "x", "--party", f"{A}:50%"),
            2,
            "--party takes UNIT:COST_SHARE:BENEFIT_SHARE",
        ),
        (
            lambda b, a, r: (
                "agreement",
                "draft",
                b,
                "--title",
                "x",
                "--party",
                f"{NEWCOMER}:10000:10000",
            ),
            4,
            "is not a member of 深圳市域产教联合体",
        ),
        (  # what the input alone shows comes before what the ledger holds
            lambda b, a, r: (
                "agreement",
                "draft",
                b,
                "--title",
                "x",
                "--party",
                f"{NEWCOMER}:90%:100%",
            ),
            2,
            "the cost shares add up to 9000 basis points (90%)",
        ),
        (
            lambda b, a, r: (
                "agreement",
                "contribute",
                a,
                A,
                "--kind",
                "funds",
                "--amount",
                "10",
                "--contributed-on",
                "2024-06-01",
                "--description",
                "x",
            ),
            4,
            "has not been approved yet",
        ),
        (
            lambda b, a, r: ("agreement", "approve", a, "--resolution", "2023-001"),
            4,
            "register has no resolution 2023-001",
        ),
        (
            lambda b, a, r: (
                "agreement",
                "cost",
                a,
                "--amount",
                "0",
                "--incurred-on",
                "2024-06-01",
                "--description",
                "x",
            ),
            2,
            "amount must be more than 0",
        ),
        (
            lambda b, a, r: (
                "agreement",
                "cost",
                a,
                "--amount",
                "1.005",
                "--incurred-on",
                "2024-06-01",
                "--description",
                "x",
            ),
            2,
            "more than two decimal places",
        ),
        (
            lambda b, a, r: ("report", "cost-sharing", "not-an-id"),
            3,
            "no agreement is named 'not-an-id' or has it in its name",
        ),
        (
            lambda b, a, r: ("agreement", "show", "8c0e2f34-0000-4000-8000-000000000000"),
            3,
            "no agreement",
        ),
    ],
)
def test_refusals_are_clear_and_write_nothing(
    run, body, resolutions, ledger, step, exit_code, message
):
    agreement = draft(run, body)
    before = ledger.recorder.max_notification_id()
    code, out, err = run(*step(body, agreement, resolutions))
    assert (code, out) == (exit_code, "")
    assert err.startswith("chanjiao: ") and message in err and err.count("\n") == 1
    assert ledger.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            lambda a: (a, E, "--kind", "funds", "--amount", "10", "--contributed-on", "2024-06-01"),
            "is not a party to agreement '共享实训基地' on 2024-06-01",
        ),
        (
            lambda a: (a, E, "--kind", "funds", "--amount", "10", "--contributed-on", "2024-10-01"),
            "is not an active member of 深圳市域产教联合体 on 2024-10-01",
        ),
        (
            lambda a: (a, A, "--kind", "funds", "--amount", "10", "--contributed-on", "2024-02-20"),
            "took effect 2024-03-01",
        ),
        (
            lambda a: (a, A, "--kind", "gold", "--amount", "10", "--contributed-on", "2024-06-01"),
            "contribution kind",
        ),
    ],
)
def test_only_members_that_are_parties_contribute_while_it_is_in_force(
    run, body, resolutions, ledger, args, message
):
    agreement = draft(run, body)
    ok(run, "agreement", "approve", agreement, "--resolution", resolutions[0])
    # C is a party, so it stays a member while the agreement lists it; E is not one.
    assert (
        run("member", "exit", body, C, "--reason", "withdrawal", "--effective-on", "2024-07-01")[0]
        == 4
    )
    assert (
        run("member", "exit", body, E, "--reason", "withdrawal", "--effective-on", "2024-09-02")[0]
        == 0
    )
    before = ledger.recorder.max_notification_id()
    code, out, err = run("agreement", "contribute", *args(agreement), "--description", "投入")
    assert code in (2, 4) and out == "" and message in err
    assert ledger.recorder.max_notification_id() == before
