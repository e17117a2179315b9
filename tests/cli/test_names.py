"""Things named the way people name them: a unit, a body or an agreement by its name or
a part of it that only it has, on the command line and over HTTP alike (the ledger looks
names up in the read models: ``application.names``, ``projections.directory``)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from freezegun import freeze_time

from tests.cli.steps import NEWCOMER, SEATS, council_body_in, meeting
from tests.factories import credit_code


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-07-15T02:00:00Z") as clock:
        yield clock


@pytest.fixture
def body(ledger) -> str:
    """深圳市域产教联合体 with six seated members named 单位<last four of the code>;
    NEWCOMER (单位<…>) registered, not admitted."""
    return str(council_body_in(ledger))


def ok(run, *args: str) -> dict | list:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def short(code: str) -> str:
    return f"单位{code[-4:]}"


def test_a_unit_and_a_body_are_admitted_by_their_names(run, ledger, body):
    admitted = ok(run, "member", "admit", "深圳", short(NEWCOMER), "--effective-on", "2025-03-01")
    assert admitted["community_name"] == "深圳市域产教联合体"
    assert str(ledger.unit(NEWCOMER).id) in [m["unit_id"] for m in admitted["members"]]
    members = ok(run, "member", "list", "深圳市域", "--as-of", "2025-03-01")
    assert short(NEWCOMER) in [m["name"] for m in members["members"]]


def test_a_name_several_have_is_refused_listing_them_and_nothing_is_recorded(run, ledger, body):
    before = ledger.recorder.max_notification_id()
    code, out, err = run("member", "admit", "深圳", "单位", "--effective-on", "2025-03-01")
    assert (code, out) == (2, "")
    assert err.startswith("chanjiao: '单位' names 7 member units: ")
    for unit in [*SEATS, NEWCOMER]:
        assert f"{short(unit)} ({unit})" in err
    assert err.rstrip().endswith("type more of the name, or give its credit code")
    assert ledger.recorder.max_notification_id() == before


def test_a_name_nobody_has_is_not_found_in_the_words_typed(run, body):
    code, _, err = run("member", "admit", "深圳", "清华大学", "--effective-on", "2025-03-01")
    assert code == 3 and "no member unit is named '清华大学' or has it in its name" in err
    code, _, err = run("member", "list", "广州")
    assert code == 3 and "no community is named '广州' or has it in its name" in err


def test_a_whole_name_wins_over_longer_names_that_contain_it(run, ledger, body):
    ledger.register_unit(
        code=credit_code(700),
        name=f"{short(NEWCOMER)}分公司",
        unit_type="enterprise",
        division="440305",
        principal="p",
    )
    admitted = ok(run, "member", "admit", body, short(NEWCOMER), "--effective-on", "2025-03-01")
    assert str(ledger.unit(NEWCOMER).id) in [m["unit_id"] for m in admitted["members"]]


def test_case_spaces_and_full_width_forms_do_not_matter(run, ledger, body):
    ledger.register_unit(
        code=credit_code(701),
        name="ACME 精密（苏州）有限公司",
        unit_type="enterprise",
        division="320506",
        principal="p",
    )
    shown = ok(run, "unit", "show", "acme精密(苏州)")
    assert shown["code"] == credit_code(701)


def test_a_unit_is_found_by_a_name_it_had_before(run, ledger, body):
    ledger.rename_unit(NEWCOMER, name="深圳新材料研究院", effective_on="2025-01-01", principal="p")
    assert ok(run, "unit", "show", short(NEWCOMER))["name"] == "深圳新材料研究院"


def test_seats_present_and_an_agreement_are_named_too(run, ledger, body):
    number = meeting(run, "联合体", "2025-03-01", [short(u) for u in SEATS[:4]])
    held = ledger.council(body).meetings[number - 1]
    assert set(held.present) == {ledger.unit(u).id for u in SEATS[:4]}
    drafted = ok(
        run,
        "agreement",
        "draft",
        "联合体",
        "--title",
        "共享实训基地共建协议",
        "--kind",
        "training_base",
        "--party",
        f"{short(SEATS[0])}:60%:50%",
        "--party",
        f"{short(SEATS[1])}:40%:50%",
    )
    shown = ok(run, "agreement", "show", "实训基地")
    assert shown["id"] == drafted["id"]


def test_over_http_a_body_field_takes_a_name(ledger, body):
    from starlette.testclient import TestClient

    from api.app import create_app
    from api.tokens import Tokens
    from projections.read_models import open_store

    token = Tokens(open_store(ledger)).issue(role="admin", name="t", issued_by="t").token
    with TestClient(create_app(ledger=ledger)) as client:
        answer = client.post(
            f"/communities/{body}/members",
            json={"unit_id": short(NEWCOMER), "effective_on": "2025-03-01"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code in (200, 201), answer.text
    assert ledger.community(body).is_member_on(ledger.unit(NEWCOMER).id, date(2025, 3, 1))


def test_units_are_listed_and_searched_by_name_or_code(run, ledger, body):
    ledger.rename_unit(NEWCOMER, name="深圳新材料研究院", effective_on="2025-01-01", principal="p")
    listed = ok(run, "unit", "list")
    assert listed["total"] == 7
    assert [u["code"] for u in listed["units"]] == sorted([*SEATS, NEWCOMER])
    found = ok(run, "unit", "search", "新材料")
    assert [(u["code"], u["name"]) for u in found["units"]] == [(NEWCOMER, "深圳新材料研究院")]
    assert found["units"][0]["division_name"] == "南山区"
    # a former name, and the start of a credit code, find it too
    assert [u["code"] for u in ok(run, "unit", "search", short(NEWCOMER))["units"]] == [NEWCOMER]
    assert ok(run, "unit", "list", NEWCOMER[:14])["total"] == 7  # the prefix all share
    assert ok(run, "unit", "list", NEWCOMER[:16])["total"] == 1
    first = ok(run, "unit", "list", "单位", "--limit", "2")
    assert (first["total"], len(first["units"])) == (7, 2)  # a former name counts
    code, out, _ = run("unit", "list", "单位", "--limit", "2")
    assert code == 0 and "the first 2 of 7 units by credit code" in out
    code, _, err = run("unit", "list", "--limit", "0")
    assert code == 2 and "limit must be 1 or more" in err


def test_the_body_list_shows_names_and_full_ids_on_request(run, body):
    code, out, _ = run("community", "list")
    assert code == 0 and "深圳市域产教联合体" in out and body not in out
    code, out, _ = run("community", "list", "--wide")
    assert code == 0 and body in out


def test_the_unit_list_goes_to_csv_and_a_workbook(run, ledger, body, tmp_path):
    import openpyxl

    code, out, _ = run("unit", "search", short(NEWCOMER), "--format", "csv")
    assert code == 0
    header, row = [line.split(",") for line in out.removeprefix("\ufeff").splitlines()]
    assert header[:3] == ["id", "code", "name"]
    assert (row[1], row[2], row[6]) == (NEWCOMER, short(NEWCOMER), "南山区")
    target = tmp_path / "units.xlsx"
    code, _, err = run("unit", "list", "--format", "xlsx", "--output", str(target))
    assert code == 0, err
    sheet = openpyxl.load_workbook(target).active
    assert sheet.title == "单位 units" and sheet.max_row == 8  # the header and 7 units
    assert sheet.cell(row=1, column=2).value == "统一社会信用代码 code"
    assert {sheet.cell(row=r, column=2).value for r in range(2, 9)} == {*SEATS, NEWCOMER}
    assert all(sheet.cell(row=r, column=2).data_type == "s" for r in range(2, 9))


def test_refusals_name_the_seats_as_people_know_them(run, ledger, body):
    # NEWCOMER holds no seat: the refusal names it, not by the id derived from its code
    code, _, err = run(
        "council", "meeting", "record", "联合体", "--held-on", "2025-03-01",
        "--present", SEATS[0], NEWCOMER,
    )  # fmt: skip
    newcomer = f"{short(NEWCOMER)} ({NEWCOMER})"
    assert code != 0 and f"held no council seat on 2025-03-01: {newcomer}" in err
    assert str(ledger.unit(NEWCOMER).id) not in err
    code, _, err = run(
        "council", "meeting", "record", "联合体", "--held-on", "2025-03-01",
        "--present", SEATS[0], short(SEATS[0]),
    )  # fmt: skip
    assert f"listed as present more than once: {short(SEATS[0])} ({SEATS[0]})" in err
    number = meeting(run, "联合体", "2025-03-01", SEATS[:4])
    code, _, err = run(
        "council", "resolution", "record", "联合体", "--meeting", str(number),
        "--matter", "一般事项", "--title", "年度工作计划", "--for", "3", "--against", "0",
        "--abstain", "0",
        "--recused", SEATS[5],
    )  # fmt: skip
    seat5 = f"{short(SEATS[5])} ({SEATS[5]})"
    assert f"recused seats must have been present at meeting {number}: {seat5} were not" in err
    assert ledger.council(body).resolutions == []  # nothing recorded by the refusals
    assert len(ledger.council(body).meetings) == 1


def test_meetings_are_listed_with_their_numbers_and_who_was_present(run, ledger, body, tmp_path):
    import openpyxl

    first = meeting(run, "联合体", "2025-03-01", [short(u) for u in SEATS[:4]])
    second = meeting(run, "联合体", "2025-05-20", SEATS)
    code, _, err = run(
        "council", "resolution", "record", "联合体", "--meeting", str(second),
        "--matter", "一般事项", "--title", "年度工作计划", "--for", "6", "--against", "0",
        "--abstain", "0",
    )  # fmt: skip
    assert code == 0, err
    listed = ok(run, "council", "meeting", "list", "联合体")
    assert [(m["meeting"], m["held_on"]) for m in listed["meetings"]] == [
        (first, "2025-03-01"),
        (second, "2025-05-20"),
    ]
    assert listed["meetings"][0]["present"] == [short(u) for u in SEATS[:4]]
    assert (listed["meetings"][0]["seats"], listed["meetings"][0]["resolutions"]) == (6, 0)
    [number] = listed["meetings"][1]["adopted"]
    assert ledger.council(body).resolution(number).meeting == second
    code, out, _ = run("council", "meeting", "list", "联合体")
    assert code == 0 and "4 of 6" in out and "2025-05-20" in out
    target = tmp_path / "meetings.xlsx"
    code, _, err = run(
        "council", "meeting", "list", "联合体", "--format", "xlsx", "-o", str(target)
    )
    assert code == 0, err
    sheet = openpyxl.load_workbook(target).active
    assert sheet.title == "会议 meetings" and sheet.max_row == 3
    assert sheet.cell(row=3, column=7).value == number
