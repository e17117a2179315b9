"""``--format xlsx`` on every list and report, read back with openpyxl, and the CSV of the
lists that had none (issue 17, step 5; ADR 0028), on both stores."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest
from freezegun import freeze_time

from cli.main import main
from cli.spreadsheet import TERMINAL_REFUSAL
from tests.cli.steps import SEATS, council_body_in
from tests.factories import credit_code

pytestmark = pytest.mark.usefixtures("frozen")

# All 18 characters digits, check character included: what Excel and WPS turn into
# 1.233E+17 when a cell is not text.
DIGITS = credit_code(700)


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z"):
        yield


@pytest.fixture
def setting(ledger) -> dict[str, str]:
    """The council body with a seventh member whose code is all digits, a seat for it,
    an adopted agreement resolution, and an agreement with a contribution and a cost."""
    assert DIGITS.isdigit()
    body = council_body_in(ledger)
    ledger.register_unit(
        code=DIGITS, name="数字代码单位", unit_type="enterprise", division="440305", principal="p"
    )
    ledger.admit_member(body, DIGITS, role="participant", effective_on="2024-01-20", principal="p")
    ledger.assign_seat(
        body,
        DIGITS,
        representative="王芳",
        office="director",
        effective_on="2024-02-01",
        principal="p",
    )
    meeting = ledger.record_meeting(
        body, held_on="2024-03-01", present=[*SEATS, DIGITS], principal="p"
    )
    number = ledger.record_resolution(
        body,
        meeting=meeting,
        matter="agreement",
        title="批准协议",
        votes_for=7,
        votes_against=0,
        abstentions=0,
        principal="p",
    ).number
    parties = [
        {"unit_id": DIGITS, "cost_share_bp": 6000, "benefit_share_bp": 5000},
        {"unit_id": SEATS[1], "cost_share_bp": 4000, "benefit_share_bp": 5000},
    ]
    agreement = ledger.draft_agreement(
        body, title="共享实训基地", parties=parties, drafted_on="2024-02-15", principal="p"
    ).id
    ledger.approve_agreement(agreement, resolution=number, principal="p")
    ledger.record_contribution(
        agreement,
        DIGITS,
        kind="funds",
        amount="1250000.05",
        contributed_on="2024-04-01",
        description="启动资金",
        principal="p",
    )
    ledger.record_cost(
        agreement, amount="1000.00", incurred_on="2024-04-02", description="耗材", principal="p"
    )
    return {"body": str(body), "agreement": str(agreement), "resolution": number}


def workbook(run, tmp_path, *args: str) -> tuple[list[str], list[list]]:
    """The command's --format xlsx --output answer: its header row and its rows of cells."""
    path = tmp_path / "out.xlsx"
    code, out, err = run(*args, "--format", "xlsx", "--output", str(path))
    assert (code, out, err) == (0, "", "")
    sheet = openpyxl.load_workbook(path).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]


def column(header: list[str], english: str) -> int:
    """The index of the column whose header ends in the English name."""
    [i] = [i for i, h in enumerate(header) if h.split(" ", 1)[1] == english]
    return i


def assert_text(cell, value: str) -> None:
    assert cell.data_type == "s" and cell.number_format == "@" and cell.value == value


class Out(io.TextIOWrapper):
    """A stdout over bytes that may say it is a terminal."""

    terminal = False

    def isatty(self) -> bool:
        return self.terminal


def piped(monkeypatch, database_url, *args: str) -> tuple[list[str], list[list]]:
    """The command's --format xlsx answer on a stdout that is not a terminal."""
    out = Out(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    assert main([*args, "--format", "xlsx", "--db", database_url]) == 0
    out.flush()
    monkeypatch.undo()
    sheet = openpyxl.load_workbook(io.BytesIO(out.buffer.getvalue())).active
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]]


def test_the_member_list_keeps_an_all_digit_credit_code_as_text(setting, database_url, monkeypatch):
    header, rows = piped(monkeypatch, database_url, "member", "list", setting["body"])
    assert "统一社会信用代码 code" in header and "名称 name" in header
    code, since = column(header, "code"), column(header, "since")
    [row] = [r for r in rows if r[code].value == DIGITS]
    assert_text(row[code], DIGITS)
    assert_text(row[column(header, "province")], "440000")
    assert row[column(header, "name")].value == "数字代码单位"
    assert row[since].value == datetime(2024, 1, 20) and row[since].number_format == "yyyy-mm-dd"
    assert len(rows) == 7


def test_the_cost_sharing_report_has_money_as_numbers_and_shares_as_percentages(
    run, setting, tmp_path
):
    header, rows = workbook(run, tmp_path, "report", "cost-sharing", setting["agreement"])
    assert "成本分摊比例 cost share" in header and "应担成本（元） cost due" in header
    first = rows[0]
    assert_text(first[column(header, "code")], DIGITS)
    share = first[column(header, "cost share")]
    assert share.value == pytest.approx(0.6) and share.number_format == "0.00%"
    contributed = first[column(header, "contributed")]
    assert isinstance(contributed.value, (int, float))
    assert Decimal(str(contributed.value)) == Decimal("1250000.05")
    assert contributed.number_format == "#,##0.00"
    assert first[column(header, "cost due")].value == 600
    total = rows[-1]
    assert total[column(header, "name")].value == "total"
    assert total[column(header, "cost due")].value == 1000


def test_the_investment_and_provinces_reports(run, setting, tmp_path):
    header, rows = workbook(run, tmp_path, "report", "investment", setting["body"])
    assert header[:2] == ["维度 dimension", "代码 key"] and "金额（元） amount" in header
    amount = column(header, "amount")
    funds = next(r for r in rows if r[1].value == "funds")
    assert Decimal(str(funds[amount].value)) == Decimal("1250000.05")
    province = next(r for r in rows if r[0].value == "province")
    assert_text(province[1], "440000")
    assert province[column(header, "share")].value == 1
    header, rows = workbook(run, tmp_path, "report", "provinces", setting["body"])
    [guangdong] = [r for r in rows if r[0].value == "province"]
    assert_text(guangdong[1], "440000")
    assert guangdong[column(header, "units")].value == 7


def test_the_register_seats_entries_and_agreement_list(run, setting, tmp_path):
    header, rows = workbook(run, tmp_path, "council", "resolution", "list", setting["body"])
    assert header[0] == "决议编号 number"
    [resolution] = rows
    assert_text(resolution[0], setting["resolution"])
    assert resolution[column(header, "votes for")].value == 7

    header, rows = workbook(run, tmp_path, "council", "seat", "list", setting["body"])
    assert "代表 representative" in header
    [seat] = [r for r in rows if r[column(header, "code")].value == DIGITS]
    assert_text(seat[column(header, "code")], DIGITS)
    assert seat[column(header, "representative")].value == "王芳"

    header, rows = workbook(run, tmp_path, "agreement", "show", setting["agreement"])
    assert [r[column(header, "entry")].value for r in rows] == [1, 2]
    assert rows[0][column(header, "amount")].number_format == "#,##0.00"

    header, rows = workbook(run, tmp_path, "agreement", "list", setting["body"])
    [agreement] = rows
    assert_text(agreement[column(header, "id")], setting["agreement"])
    assert agreement[column(header, "parties")].value == 2


def test_the_lists_that_had_no_csv_have_it(run, setting):
    def rows(*args: str) -> list[dict[str, str]]:
        code, out, err = run(*args, "--format", "csv")
        assert code == 0, err
        assert out.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))

    [resolution] = rows("council", "resolution", "list", setting["body"])
    assert resolution["number"] == setting["resolution"]
    assert (resolution["votes_for"], resolution["outcome"], resolution["held_on"]) == (
        "7",
        "adopted",
        "2024-03-01",
    )
    seats = rows("council", "seat", "list", setting["body"])
    assert len(seats) == 7
    assert {"code": DIGITS, "representative": "王芳", "office": "director"}.items() <= next(
        s for s in seats if s["code"] == DIGITS
    ).items()
    entries = rows("agreement", "show", setting["agreement"])
    assert [(e["entry"], e["type"], e["amount"]) for e in entries] == [
        ("1", "contribution", "1250000.05"),
        ("2", "cost", "1000.00"),
    ]
    assert entries[0]["name"] == "数字代码单位"


def test_xlsx_goes_to_stdout_only_when_it_is_not_a_terminal(
    setting, database_url, monkeypatch, capsys
):
    for args in (
        ("report", "cost-sharing", setting["agreement"]),
        ("member", "list", setting["body"]),
    ):
        out = Out(io.BytesIO(), encoding="utf-8")
        monkeypatch.setattr(sys, "stdout", out)
        assert main([*args, "--format", "xlsx", "--db", database_url]) == 0
        out.flush()
        sheet = openpyxl.load_workbook(io.BytesIO(out.buffer.getvalue())).active
        assert any(c.value == DIGITS and c.data_type == "s" for r in sheet.iter_rows() for c in r)

        out = Out(io.BytesIO(), encoding="utf-8")
        out.terminal = True
        monkeypatch.setattr(sys, "stdout", out)
        try:
            code = main([*args, "--format", "xlsx", "--db", database_url])
        except SystemExit as e:  # a list of cli/main.py's own refuses from emit
            code = e.code
        out.flush()
        assert code == 2 and out.buffer.getvalue() == b""
        assert capsys.readouterr().err.strip() == f"chanjiao: {TERMINAL_REFUSAL}"


def test_csv_and_json_are_unchanged_by_the_xlsx_option(run, setting):
    code, out, _ = run("report", "cost-sharing", setting["agreement"], "--format", "json")
    assert code == 0 and json.loads(out)["parties"][0]["code"] == DIGITS
    code, out, _ = run("report", "cost-sharing", setting["agreement"], "--format", "csv")
    assert code == 0 and out.removeprefix("\ufeff").splitlines()[0].startswith("unit_id,code,")


def test_the_body_list_has_csv_rows_and_a_workbook(setting, ledger):
    # `community list` is one of cli/main.py's commands; its CSV and xlsx forms are
    # those of projections.tables.csv_rows and .workbook, checked here directly.
    from projections.membership import communities
    from projections.tables import csv_rows
    from projections.tables import workbook as build

    rows = csv_rows(communities(ledger))
    assert rows[0][:2] == ["id", "name"]
    [body] = rows[1:]
    assert (body[0], body[1], body[4], body[-1]) == (
        setting["body"],
        "深圳市域产教联合体",
        "440300",
        "7",
    )
    sheet = build("共同体 communities", rows).active
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["标识 id", "名称 name"]
    assert_text(sheet.cell(row=2, column=column(header, "division") + 1), "440300")
    assert sheet.cell(row=2, column=column(header, "active members") + 1).value == 7
